package web

import (
	"net/http"

	"kinko/internal/httpedge"
)

// notFound answers every path that is no page.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, httpedge.ErrNoPage)
}
