package httpedge

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"

	"kinko/internal/auth"
)

// ErrNoSessionCookie is a request without a session cookie: it is
// auth.ErrNoSession, and the pages tell it from a session that ended.
var ErrNoSessionCookie = fmt.Errorf("httpedge: no session cookie: %w", auth.ErrNoSession)

// Authenticator finds the principal of a session token on a connection
// that presents peer (nil: none); *auth.Manager is one.
type Authenticator interface {
	Authenticate(ctx context.Context, token string, peer *x509.Certificate) (auth.Principal, error)
}

var _ Authenticator = (*auth.Manager)(nil)

// Allow says which principals a handler behind the session serves.
type Allow int

const (
	// Ordinary handlers serve a principal with no password to change.
	Ordinary Allow = iota
	// DuringPasswordChange handlers also serve a user who must first
	// change the passwords that someone else set: the change itself, the
	// logout, who they are.
	DuringPasswordChange
)

// Sessions finds the principal of the requests on one listener: the
// session of the listener's cookie, on a connection that presents exactly
// the certificate the session is bound to, or none for a session of an ID +
// password login.
type Sessions struct {
	Listener Listener
	Auth     Authenticator
}

// Principal returns the principal of r's session, or why there is none
// (ErrNoSessionCookie, or an error of auth). A principal already in the
// request's context (found by the certificate portal's check of the
// connection, WithPrincipal) is not looked up again.
func (s Sessions) Principal(r *http.Request) (auth.Principal, error) {
	if p, ok := PrincipalFrom(r.Context()); ok {
		return p, nil
	}
	c, err := r.Cookie(s.Listener.SessionCookie())
	if err != nil || c.Value == "" {
		return auth.Principal{}, ErrNoSessionCookie
	}
	return s.Auth.Authenticate(r.Context(), c.Value, s.Listener.PeerCertificate(r))
}

// Require wraps next, which needs a session: it runs with the principal in
// the request's context (PrincipalFrom). A request without one, or of a
// principal that allow does not let in (ErrPasswordChangeRequired), goes
// to refuse with the reason.
func (s Sessions) Require(next http.Handler, allow Allow, refuse RefuseFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Principal(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		if p.PasswordChangeRequired() && allow != DuringPasswordChange {
			refuse(w, r, ErrPasswordChangeRequired)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, and whether there is one.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}
