package httpedge

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kinko/internal/audit"
)

// serveWithID serves one request with header X-Request-ID set to sent
// (none when empty) through ids, and returns the ID the handler found in
// its context, the one in its request header and the response's.
func serveWithID(t *testing.T, ids RequestIDs, sent string) (inCtx, inHeader, inResponse string) {
	t.Helper()
	h := ids.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inCtx, inHeader = audit.RequestIDFrom(r.Context()), r.Header.Get(RequestIDHeader)
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if sent != "" {
		r.Header.Set(RequestIDHeader, sent)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return inCtx, inHeader, w.Header().Get(RequestIDHeader)
}

// TestRequestIDs_MadeAndCarried: a request without an ID gets a new one,
// 16 random bytes in hex, that the handler finds in its context (where the
// audit events written while serving it take it from) and the client in
// the X-Request-ID response header; two requests get two IDs.
func TestRequestIDs_MadeAndCarried(t *testing.T) {
	ids := RequestIDs{}
	ctxID, headerID, respID := serveWithID(t, ids, "")
	if len(ctxID) != 32 || strings.Trim(ctxID, "0123456789abcdef") != "" {
		t.Fatalf("request ID in the context %q, want 32 hex digits", ctxID)
	}
	if headerID != ctxID || respID != ctxID {
		t.Errorf("request header %q, response header %q; want the context's %q in both", headerID, respID, ctxID)
	}
	if again, _, _ := serveWithID(t, ids, ""); again == ctxID {
		t.Errorf("two requests got the same ID %q", again)
	}
}

// TestRequestIDs_TakenOnlyFromTrustedProxies: a client's X-Request-ID is
// replaced unless the connection comes from a trusted proxy and the ID is
// well formed.
func TestRequestIDs_TakenOnlyFromTrustedProxies(t *testing.T) {
	trusted := RequestIDs{Trusted: func(*http.Request) bool { return true }}
	untrusted := RequestIDs{Trusted: func(*http.Request) bool { return false }}
	for _, tt := range []struct {
		name string
		ids  RequestIDs
		sent string
		kept bool
	}{
		{"trusted proxy", trusted, "lb-7f3a.01_x", true},
		{"trusted proxy, 64 characters", trusted, strings.Repeat("a", 64), true},
		{"untrusted peer", untrusted, "lb-7f3a.01_x", false},
		{"no trust function", RequestIDs{}, "lb-7f3a.01_x", false},
		{"trusted proxy, too long", trusted, strings.Repeat("a", 65), false},
		{"trusted proxy, space", trusted, "a b", false},
		{"trusted proxy, line break", trusted, "a\nlevel=ERROR", false},
		{"trusted proxy, quote", trusted, `a"b`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctxID, headerID, respID := serveWithID(t, tt.ids, tt.sent)
			if got := ctxID == tt.sent; got != tt.kept {
				t.Errorf("sent %q, the request's ID is %q; kept = %v, want %v", tt.sent, ctxID, got, tt.kept)
			}
			if !ValidRequestID(ctxID) || headerID != ctxID || respID != ctxID {
				t.Errorf("context %q, request header %q, response %q: want one valid ID in all", ctxID, headerID, respID)
			}
		})
	}
}

// TestLogRequestIDs_EveryLineOfTheRequest: the log lines logged with the
// request's context carry request_id, the refusal's line included; lines
// without one do not.
func TestLogRequestIDs_EveryLineOfTheRequest(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(LogRequestIDs(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if LogRequestIDs(l.Handler()) != l.Handler() {
		t.Error("LogRequestIDs wraps a handler that already adds request IDs")
	}
	var id string
	h := RequestIDs{}.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = audit.RequestIDFrom(r.Context())
		l.With("component", "test").InfoContext(r.Context(), "inside")
		LogRefusal(l, r, errors.New("boom"), Refusal{Status: 500, Code: "internal"})
		LogRefusal(l, r, ErrCrossOrigin, RefusalOf(ErrCrossOrigin))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	l.InfoContext(context.Background(), "outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got:\n%s", buf.String())
	}
	for _, line := range lines[:3] {
		if !strings.Contains(line, "request_id="+id) {
			t.Errorf("line of the request without request_id=%s: %s", id, line)
		}
	}
	if strings.Contains(lines[3], "request_id") {
		t.Errorf("line outside a request with a request_id: %s", lines[3])
	}
}
