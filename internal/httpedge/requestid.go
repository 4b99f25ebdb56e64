package httpedge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"

	"kinko/internal/audit"
)

// RequestIDHeader carries a request's ID: from a trusted proxy to kinko,
// and from kinko back to the client in every response.
const RequestIDHeader = "X-Request-ID"

// MaxRequestIDLength is the longest request ID taken from a proxy.
const MaxRequestIDLength = 64

// RequestIDs gives every request an ID: the one a trusted proxy sent in
// X-Request-ID, when it is well formed, or a new one of 16 random bytes in
// hex. The ID goes into the request's context (audit.WithRequestID), so
// that every audit event written while serving it and every log line
// logged with that context (LogRequestIDs) name it, and back to the client
// in the X-Request-ID response header.
type RequestIDs struct {
	// Trusted reports whether the request's connection comes from a proxy
	// whose X-Request-ID is believed; nil: none is.
	Trusted func(*http.Request) bool
	// Rand is the source of new IDs; nil: crypto/rand.
	Rand io.Reader
}

// Handler wraps h: the request reaches h with its ID in the context and in
// its X-Request-ID header (a client's own is replaced), and the response
// carries it.
func (ids RequestIDs) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if id == "" || !ValidRequestID(id) || ids.Trusted == nil || !ids.Trusted(r) {
			id = ids.newID()
		}
		r.Header.Set(RequestIDHeader, id)
		w.Header().Set(RequestIDHeader, id)
		h.ServeHTTP(w, r.WithContext(audit.WithRequestID(r.Context(), id)))
	})
}

// newID returns 16 random bytes in hex.
func (ids RequestIDs) newID() string {
	rnd := ids.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return rand.Text() // crypto/rand never fails; a broken Rand still gets an ID
	}
	return hex.EncodeToString(b[:])
}

// ValidRequestID reports whether id may be taken from a proxy: 1 to 64
// characters, each a letter, a digit, '.', '_' or '-'. Anything else could
// forge log lines or fill them.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLength {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// LogRequestIDs returns h adding the attribute request_id to every record
// logged with a context that carries a request ID (the *Context methods of
// slog.Logger); h itself when it already does.
func LogRequestIDs(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

// requestIDHandler is LogRequestIDs's handler.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := audit.RequestIDFrom(ctx); id != "" {
		rec = rec.Clone()
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
