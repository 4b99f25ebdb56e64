package web

import "net/http"

// loggedOut is GET /logged-out: the page after a logout.
func (h *Handler) loggedOut(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "logged_out", &view{})
}
