package api

import (
	"net/http"
	"time"

	"kinko/internal/httpedge"
)

// ServiceClosed answers an API request outside the service hours: 503
// service_unavailable, with Retry-After until the service reopens.
func (a *API) ServiceClosed(w http.ResponseWriter, r *http.Request, reopens time.Time) {
	httpedge.SetRetryAfter(w, a.c.Now(), reopens)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusServiceUnavailable, httpedge.ErrorBody{Error: "service_unavailable", Message: httpedge.Message("error.service_unavailable")})
}
