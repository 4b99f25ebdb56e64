package web

import "net/http"

// issuance is GET /issue on the portal: 電子証明書発行. The page that makes
// the key in the browser comes later; until then this page says so and
// what to do meanwhile.
func (h *Handler) issuance(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "issue", &view{})
}
