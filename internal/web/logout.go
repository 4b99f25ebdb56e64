package web

import (
	"net/http"

	"kinko/internal/auth"
)

// logout is POST /logout, on every page of a logged-in user: it ends the
// session and shows that it did.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := h.c.Auth.Logout(r.Context(), p); err != nil {
		h.renderError(w, r, err)
		return
	}
	h.c.Listener.ClearSession(w)
	http.Redirect(w, r, pathLoggedOut, http.StatusSeeOther)
}
