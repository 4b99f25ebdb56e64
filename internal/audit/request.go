package audit

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the ID of the request being served,
// so that every audit event written while serving it names the request
// (and the request's log lines can be found from the event).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request ID that ctx carries, "" when none (a
// background job, a command).
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
