package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"kinko/internal/httpedge"
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
	httpedge.SetLanguage(w, r, string(l))
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// langNextField is the field of the language switch of a page with a
// form: the page to come back to.
const langNextField = "lang_next"

// langForms are the forms whose pages show again what was typed in them
// when the language is switched (the form's id, by template): on those
// pages the switch is a button of the form (layout.html), which posts what
// was typed to switchLanguageKeeping.
var langForms = map[string]string{
	"login":        "login-form",
	"users_new":    "add-user-form",
	"payees":       "payee-form",
	"transfer_new": "transfer-form",
	"privileges":   "privileges-form",
}

// switchLanguageKeeping is POST /lang/{lang}, the language switch of a
// page with a form: the choice is remembered as by switchLanguage, what
// was typed (never a password nor the form token) is kept for the page's
// next GET, which shows it in the other language, and the browser goes
// back to the page.
func (h *Handler) switchLanguageKeeping(w http.ResponseWriter, r *http.Request) {
	l := lang(r.PathValue("lang"))
	if !slices.Contains(languages, l) {
		h.notFound(w, r)
		return
	}
	httpedge.SetLanguage(w, r, string(l))
	next := localPath(r.PostForm.Get(langNextField))
	if u, err := url.Parse(next); err == nil && h.c.Forms != nil {
		if typed := typedValues(r.PostForm); len(typed) > 0 && h.keep(w, r, u.Path, http.StatusOK, keptPage{Values: typed}) {
			return
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
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
