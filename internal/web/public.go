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
	Hours []hoursRow
	// Maintenance describes the maintenance windows in which the service
	// closes, in the page's language.
	Maintenance []string
	IdleMinutes int
}

// publicPage serves one of the public pages.
func (h *Handler) publicPage(pg publicPage) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := publicData{Hours: h.hoursRows(), Maintenance: h.maintenanceTexts(language(r)), IdleMinutes: int(h.c.Auth.IdleTimeout().Minutes())}
		h.render(w, r, http.StatusOK, pg.name, &view{Data: d})
	}
}

// hoursRows are the rows of the hours table: the bank's own text
// (service_hours) when it wrote one, else the hours kinko enforces.
func (h *Handler) hoursRows() []hoursRow {
	if h.c.ServiceHours == (ServiceHours{}) {
		return enforcedRows(h.c.Hours)
	}
	return h.c.ServiceHours.rows()
}
