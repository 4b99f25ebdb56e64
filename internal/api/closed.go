package api

import (
	"net/http"
	"strconv"
	"time"
)

// ServiceClosed answers an API request outside the service hours: 503
// service_unavailable, with Retry-After until the service reopens.
func (a *API) ServiceClosed(w http.ResponseWriter, r *http.Request, reopens time.Time) {
	SetRetryAfter(w, a.c.Now(), reopens)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusServiceUnavailable, Error{Error: "service_unavailable", Message: message("error.service_unavailable")})
}

// SetRetryAfter sets Retry-After to the seconds from now until reopens
// (rounded up, at least 1), when there is a reopening.
func SetRetryAfter(w http.ResponseWriter, now, reopens time.Time) {
	if reopens.IsZero() {
		return
	}
	secs := int64((reopens.Sub(now) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}
