package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"kinko/internal/httpedge"
	"kinko/internal/operators"
	"kinko/internal/pki"
)

// SessionCookie is the console's session cookie: its own name, because
// cookies do not separate ports.
const SessionCookie = "__Host-kinko-console-session"

// formField is the hidden field of every form that carries the session's
// form token.
const formField = "csrf_token"

// maxForm is the largest form body accepted.
const maxForm = 16 << 10

type staffKey struct{}
type sessionKey struct{}
type freshKey struct{} // the session was made by this request

func staffFrom(r *http.Request) (operators.Staff, bool) {
	s, ok := r.Context().Value(staffKey{}).(operators.Staff)
	return s, ok
}

func sessionFrom(r *http.Request) (operators.Session, bool) {
	s, ok := r.Context().Value(sessionKey{}).(operators.Session)
	return s, ok
}

// Roles' permissions: an auditor reads only.
func canFile(s operators.Staff) bool {
	return s.Role == operators.RoleClerk || s.Role == operators.RoleApprover
}

func canDecide(s operators.Staff) bool { return s.Role == operators.RoleApprover }

// peerCertificate returns the certificate of the connection's handshake,
// which the console's listener verified against the operator CA. A
// certificate forwarded by a proxy is never taken.
func peerCertificate(r *http.Request) []byte {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0].Raw
}

// page wraps a page: the operator of the request, from the connection's
// certificate, on every request; then the session bound to that
// certificate (a new one when there is none or it was idle too long). A
// connection without an active operator's certificate gets a 403 page; a
// session used with another certificate is ended and refused.
func (h *handler) page(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw := peerCertificate(r)
		if raw == nil {
			h.renderError(w, r, errNoCert)
			return
		}
		fp := pki.Fingerprint(raw)
		st, err := h.c.Operators.StaffByCertificate(r.Context(), fp)
		if err != nil {
			if !errors.Is(err, operators.ErrNotFound) {
				h.renderError(w, r, err)
				return
			}
			h.renderError(w, r, errNoStaff)
			return
		}
		ctx := context.WithValue(r.Context(), staffKey{}, st)
		r = r.WithContext(ctx)
		s, fresh, err := h.session(w, r, st, fp)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		ctx = context.WithValue(ctx, sessionKey{}, s)
		if fresh {
			ctx = context.WithValue(ctx, freshKey{}, true)
		}
		next(w, r.WithContext(ctx))
	}
}

// session returns the request's session, made anew (fresh) when there is
// no usable one: a form posted in a new session has no token of it and is
// shown again with what was typed.
func (h *handler) session(w http.ResponseWriter, r *http.Request, st operators.Staff, fp string) (operators.Session, bool, error) {
	ctx := r.Context()
	now := h.c.Now()
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		idHash := hashID(c.Value)
		s, err := h.c.Store.ConsoleSession(ctx, idHash)
		switch {
		case errors.Is(err, operators.ErrNoSession):
		case err != nil:
			return operators.Session{}, false, err
		case s.Fingerprint != fp || s.StaffID != st.ID:
			// Another certificate than the session's: the cookie was
			// carried to another connection. The session ends.
			_ = h.c.Store.DeleteConsoleSession(ctx, idHash)
			clearSession(w)
			return operators.Session{}, false, errOtherCert
		case now.Sub(s.LastSeenAt) > h.c.IdleTimeout:
			_ = h.c.Store.DeleteConsoleSession(ctx, idHash)
		default:
			if err := h.c.Store.TouchConsoleSession(ctx, idHash, now); err != nil {
				return operators.Session{}, false, err
			}
			s.LastSeenAt = now
			return s, false, nil
		}
	}
	id, err := h.random()
	if err != nil {
		return operators.Session{}, false, err
	}
	tok, err := h.random()
	if err != nil {
		return operators.Session{}, false, err
	}
	s := operators.Session{IDHash: hashID(id), StaffID: st.ID, Fingerprint: fp, FormToken: tok, CreatedAt: now, LastSeenAt: now}
	h.mu.Lock()
	clean := now.Sub(h.clean) > h.c.IdleTimeout/4
	if clean {
		h.clean = now
	}
	h.mu.Unlock()
	if clean {
		if err := h.c.Store.DeleteIdleConsoleSessions(ctx, now.Add(-h.c.IdleTimeout)); err != nil {
			h.c.Logger.WarnContext(ctx, "console: delete idle sessions", "err", err)
		}
	}
	if err := h.c.Store.CreateConsoleSession(ctx, s); err != nil {
		return operators.Session{}, false, err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return s, true, nil
}

func clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// hashID is what the database keeps of a session's ID.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// random returns 32 random bytes in base64url.
func (h *handler) random() (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(h.c.Rand, b[:]); err != nil {
		return "", fmt.Errorf("console: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// need wraps a page that only some roles reach.
func (h *handler) need(allow func(operators.Staff) bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if st, _ := staffFrom(r); !allow(st) {
			h.renderError(w, r, operators.ErrForbidden)
			return
		}
		next(w, r)
	}
}

// formAction acts on a posted form; an error shows the form again.
type formAction func(w http.ResponseWriter, r *http.Request) error

// formRender shows a form again with what was typed, and err (nil when
// the language was switched).
type formRender func(w http.ResponseWriter, r *http.Request, err error)

// post wraps a form's POST: the operator's role must allow it, the form
// (at most maxForm bytes) must carry the session's form token; a form
// sent by the language switch is shown again in the other language with
// what was typed, and one refused is shown again with the reason.
func (h *handler) post(allow func(operators.Staff) bool, act formAction, again formRender) http.HandlerFunc {
	return h.page(func(w http.ResponseWriter, r *http.Request) {
		st, _ := staffFrom(r)
		if !allow(st) {
			h.renderError(w, r, operators.ErrForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			h.renderError(w, r, httpedge.ErrBadForm)
			return
		}
		s, ok := sessionFrom(r)
		sent := r.PostForm.Get(formField)
		if !ok || subtle.ConstantTimeCompare([]byte(s.FormToken), []byte(sent)) != 1 {
			if fresh, _ := r.Context().Value(freshKey{}).(bool); fresh && sent != "" {
				// The form's session ended (idle): nothing is done, and
				// the form is shown again with what was typed and the
				// new session's token, to send again.
				again(w, r, httpedge.ErrFormToken)
				return
			}
			h.renderError(w, r, httpedge.ErrFormToken)
			return
		}
		if l := lang(r.PostForm.Get("switch_lang")); l != "" {
			if slices.Contains(languages, l) {
				setLanguage(w, r, l)
			}
			again(w, r, nil)
			return
		}
		if err := act(w, r); err != nil {
			h.logRefusal(r, err, 400)
			again(w, r, err)
		}
	})
}

// formView is the view of a form shown again: what was typed and, with
// err, the reason; and the status to answer with.
func formView(r *http.Request, err error, data any) (int, *view) {
	v := &view{Form: r.PostForm, Data: data}
	if err == nil {
		return http.StatusOK, v
	}
	status, key := refusal(err)
	v.Errors = []string{key}
	return status, v
}
