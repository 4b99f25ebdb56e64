package web

import (
	"net/http"
	"strings"
	"time"

	"kinko/internal/httpedge"
)

// OpenOutsideServiceHours reports whether path is served outside the
// service hours: the public pages, their assets and the language switch,
// and the pages that say a session ended. Everything behind the login,
// the login itself and certificate issuance close (サービス時間外).
func OpenOutsideServiceHours(path string) bool {
	for _, pg := range publicPages {
		if path == pg.path {
			return true
		}
	}
	return strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/lang/") ||
		path == pathLoggedOut || path == pathSessionEnded || path == "/favicon.ico"
}

// closedPage is the data of the サービス時間外 page.
type closedPage struct {
	Reopens time.Time // zero when the service does not reopen
	Hours   []hoursRow
}

// ServiceClosed answers a request outside the service hours with the
// サービス時間外 page: 503, Retry-After until reopens, and when service
// resumes.
func (h *Handler) ServiceClosed(w http.ResponseWriter, r *http.Request, reopens time.Time) {
	httpedge.SetRetryAfter(w, h.c.Now(), reopens)
	h.render(w, r, http.StatusServiceUnavailable, "closed", &view{Data: closedPage{Reopens: reopens, Hours: h.hoursRows()}})
}
