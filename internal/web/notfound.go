package web

import "net/http"

// notFound answers every path that is no page.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, errNotFound)
}
