package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// switchLanguage is GET /lang/{lang}?next=PATH: the language switch of
// every page. It remembers the choice in a cookie and goes back to the
// page, which must be a path on this listener.
func (h *Handler) switchLanguage(w http.ResponseWriter, r *http.Request) {
	l := lang(r.PathValue("lang"))
	if !slices.Contains(languages, l) {
		h.notFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 60 * 60,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath returns next if it is a path on this host, "/" otherwise (so
// that the switch cannot send anyone to another site).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
