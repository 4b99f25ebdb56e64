package web

import (
	"errors"
	"net/http"

	"kinko/internal/api"
	"kinko/internal/auth"
)

// sessionHandler serves a page of a logged-in user.
type sessionHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal)

// allowDuringPasswordChange marks the pages that a user who must change
// the passwords set by someone else can reach: the change and the logout.
const allowDuringPasswordChange = 1

// session wraps a page that needs a session on this listener: the same
// session as the API's, in the same cookie. Without a session it sends the
// user to the login; after one ended it says so (the idle timeout).
func (h *Handler) session(next sessionHandler, flags int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(h.cookie)
		if err != nil || c.Value == "" {
			http.Redirect(w, r, h.loginPath(), http.StatusSeeOther)
			return
		}
		p, err := h.c.Auth.Authenticate(r.Context(), c.Value, h.peerCertificate(r))
		switch {
		case err == nil:
		case errors.Is(err, auth.ErrNoSession):
			h.clearSession(w)
			if peer := h.peerCertificate(r); peer != nil {
				// A revocation ends the certificate's sessions: say that
				// the certificate is the reason, not the idle time.
				if _, _, _, cerr := h.c.Auth.CheckCertificate(r.Context(), peer); cerr != nil {
					h.renderError(w, r, cerr)
					return
				}
			}
			http.Redirect(w, r, pathSessionEnded, http.StatusSeeOther)
			return
		case errors.Is(err, auth.ErrCertificateMismatch):
			// Another certificate than the session's: log in with it.
			h.clearSession(w)
			http.Redirect(w, r, h.loginPath(), http.StatusSeeOther)
			return
		default:
			if errors.Is(err, auth.ErrCertificateLoginRequired) || certificateProblem(err) || errors.Is(err, auth.ErrUserUnavailable) {
				h.clearSession(w)
			}
			h.renderError(w, r, err)
			return
		}
		if p.PasswordChangeRequired() && flags&allowDuringPasswordChange == 0 {
			http.Redirect(w, r, pathInitialPassword, http.StatusSeeOther)
			return
		}
		next(w, r, p)
	}
}

// loginPath is where this listener's login is.
func (h *Handler) loginPath() string {
	if h.c.Listener == api.CertPortal {
		return "/"
	}
	return pathLogin
}

// afterLogin is where a user goes after logging in.
func afterLogin(p auth.Principal) string {
	if p.PasswordChangeRequired() {
		return pathInitialPassword
	}
	return pathHome
}

// setSession sets the session cookie, with the API's attributes.
func (h *Handler) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: h.cookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// clearSession removes the session cookie.
func (h *Handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: h.cookie, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}
