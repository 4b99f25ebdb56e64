package web

import "net/http"

// sessionEndedPage is the data of the page after a session ended.
type sessionEndedPage struct {
	IdleMinutes int
}

// sessionEnded is GET /session-ended: a page of a logged-in user was asked
// for after the session ended, usually because nothing was done for the
// idle timeout.
func (h *Handler) sessionEnded(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "session_ended", &view{
		Data: sessionEndedPage{IdleMinutes: int(h.c.Auth.IdleTimeout().Minutes())}})
}
