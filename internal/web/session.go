package web

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
)

// sessionHandler serves a page of a logged-in user.
type sessionHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal)

// session wraps a page that needs a session on this listener: the same
// session as the API's, in the same cookie (httpedge.Sessions). Without a
// session it sends the user to the login; after one ended it says so (the
// idle timeout). allow says whether a user who must change the passwords
// set by someone else reaches the page (the change and the logout).
func (h *Handler) session(next sessionHandler, allow httpedge.Allow) http.HandlerFunc {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpedge.PrincipalFrom(r.Context())
		next(w, r, p)
	})
	return h.sessions.Require(page, allow, h.refuseSession).ServeHTTP
}

// refuseSession answers a page's request without a usable session.
func (h *Handler) refuseSession(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, httpedge.ErrNoSessionCookie):
		http.Redirect(w, r, h.loginPath(), http.StatusSeeOther)
	case errors.Is(err, httpedge.ErrPasswordChangeRequired):
		http.Redirect(w, r, pathInitialPassword, http.StatusSeeOther)
	case errors.Is(err, auth.ErrNoSession):
		h.c.Listener.ClearSession(w)
		if peer := h.c.Listener.PeerCertificate(r); peer != nil {
			// A revocation ends the certificate's sessions: say that
			// the certificate is the reason, not the idle time.
			if _, _, _, cerr := h.c.Auth.CheckCertificate(r.Context(), peer); cerr != nil {
				h.renderError(w, r, cerr)
				return
			}
		}
		http.Redirect(w, r, pathSessionEnded, http.StatusSeeOther)
	case errors.Is(err, auth.ErrCertificateMismatch):
		// Another certificate than the session's: log in with it.
		h.c.Listener.ClearSession(w)
		http.Redirect(w, r, h.loginPath(), http.StatusSeeOther)
	default:
		if errors.Is(err, auth.ErrCertificateLoginRequired) || certificateProblem(err) || errors.Is(err, auth.ErrUserUnavailable) {
			h.c.Listener.ClearSession(w)
		}
		h.renderError(w, r, err)
	}
}

// loginPath is where this listener's login is.
func (h *Handler) loginPath() string {
	if h.c.Listener == httpedge.CertPortal {
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
