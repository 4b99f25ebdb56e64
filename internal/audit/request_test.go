package audit

import (
	"context"
	"testing"
)

func TestRequestIDTravelsInTheContext(t *testing.T) {
	if id := RequestIDFrom(context.Background()); id != "" {
		t.Fatalf("a bare context carries request ID %q", id)
	}
	ctx := WithRequestID(context.Background(), "r-0123")
	if id := RequestIDFrom(ctx); id != "r-0123" {
		t.Fatalf("RequestIDFrom = %q, want r-0123", id)
	}
}
