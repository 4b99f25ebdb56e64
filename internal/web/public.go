package web

import "net/http"

// publicPage is a page of the portal that needs no login.
type publicPage struct {
	path string
	name string // its template in templates/pages
	nav  string // catalogue key of its link in the navigation
}

// publicPages are the public pages, in the order of the navigation.
var publicPages = []publicPage{
	{"/", "index", "nav.index"},
	{"/service", "service", "nav.service"},
	{"/hours", "hours", "nav.hours"},
	{"/apply", "apply", "nav.apply"},
	{"/security", "security", "nav.security"},
	{"/environment", "environment", "nav.environment"},
	{"/faq", "faq", "nav.faq"},
	{"/terms", "terms", "nav.terms"},
	{"/manual", "manual", "nav.manual"},
	{"/contact", "contact", "nav.contact"},
}

// publicData is what the public pages show from the configuration.
type publicData struct {
	Hours       []hoursRow
	IdleMinutes int
}

// publicPage serves one of the public pages.
func (h *Handler) publicPage(pg publicPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := publicData{Hours: h.c.ServiceHours.rows(), IdleMinutes: int(h.c.Auth.IdleTimeout().Minutes())}
		h.render(w, r, http.StatusOK, pg.name, &view{Data: d})
	}
}
