package web

import (
	"net/http"
	"time"

	"kinko/internal/auth"
)

// recentLogins is how many login times the top screen shows.
const recentLogins = 3

// homePage is the data of the top screen.
type homePage struct {
	Logins []time.Time // newest first, this login included
	// Notices are messages for the user (the renewal notice of R9 comes
	// with the certificate lifecycle); none for now.
	Notices []message
}

// home is GET /home: the top screen (トップ画面) with the organization, the
// user, the last logins and the notices.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var d homePage
	if h.c.Logins != nil {
		logins, err := h.c.Logins.RecentLogins(r.Context(), p.User.ID, recentLogins)
		if err != nil {
			h.renderError(w, r, err)
			return
		}
		d.Logins = logins
	}
	h.render(w, r, http.StatusOK, "home", &view{Member: memberOf(p), Data: d})
}
