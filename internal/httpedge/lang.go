package httpedge

import (
	"net/http"
	"slices"

	"kinko/internal/messages"
)

// LangCookie holds a reader's choice of language, on every listener of the
// host (a cookie does not separate ports), for the portals and the console
// alike.
const LangCookie = "kinko-lang"

// Language returns the language of a request: the LangCookie's when it is
// one of the catalogue's, else the default, Japanese.
func Language(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && slices.Contains(messages.Languages, c.Value) {
		return c.Value
	}
	return messages.Languages[0]
}

// SetLanguage remembers the language lang in the LangCookie, for a year,
// and for the rest of the request r too.
func SetLanguage(w http.ResponseWriter, r *http.Request, lang string) {
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 60 * 60,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	cs := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cs {
		if c.Name != LangCookie {
			r.AddCookie(c)
		}
	}
	r.AddCookie(&http.Cookie{Name: LangCookie, Value: lang})
}
