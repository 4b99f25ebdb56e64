package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/look"
	"kinko/internal/messages"
	"kinko/internal/operators"
	"kinko/internal/outbox"
)

//go:embed templates static
var files embed.FS

// lang is a language of the pages.
type lang string

// Languages: Japanese first.
const (
	langJA lang = "ja"
	langEN lang = "en"
)

var languages = []lang{langJA, langEN}

// language returns the language of a request (httpedge.Language).
func language(r *http.Request) lang { return lang(httpedge.Language(r)) }

// catalogue is the message catalogue (package messages) in the console's
// languages.
type catalogue struct{ *messages.Catalogue }

func loadCatalogue() (*catalogue, error) {
	c, err := messages.LoadCatalogue()
	if err != nil {
		return nil, fmt.Errorf("console: catalogue: %w", err)
	}
	return &catalogue{c}, nil
}

// text returns the message key in l with {0}, {1}... replaced by args.
func (c *catalogue) text(l lang, key string, args ...any) string {
	return c.Text(string(l), key, args...)
}

// jst formats t in Japan's time ("" for the zero time).
func jst(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.JST).Format("2006-01-02 15:04:05 JST")
}

// yen formats an amount of yen with thousands separators.
func yen(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// inputArgs are the arguments of the template of a form's field.
type inputArgs struct {
	V          *view
	Name, Type string
	Max        int
}

// templates are the pages, parsed once per language.
type templates struct {
	pages map[lang]map[string]*template.Template
}

func funcs(cat *catalogue, l lang) template.FuncMap {
	return template.FuncMap{
		"t":    func(key string, args ...any) string { return cat.text(l, key, args...) },
		"jst":  jst,
		"yen":  yen,
		"date": func(d calendar.Date) string { return d.String() },
		"role": func(r operators.Role) string { return cat.text(l, "console.role."+string(r)) },
		"kind": func(k operators.Kind) string { return cat.text(l, "console.kind."+string(k)) },
		"status": func(s operators.Status) string {
			return cat.text(l, "console.status."+string(s))
		},
		"mailState": func(s outbox.State) string { return cat.text(l, "console.outbox.state."+string(s)) },
		"arr": func(v *view, name, typ string, max int) inputArgs {
			return inputArgs{V: v, Name: name, Type: typ, Max: max}
		},
	}
}

func parseTemplates(cat *catalogue) (*templates, error) {
	pages, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	ts := &templates{pages: map[lang]map[string]*template.Template{}}
	for _, l := range languages {
		base, err := template.New("layout.html").Funcs(funcs(cat, l)).ParseFS(files, "templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("console: templates: %w", err)
		}
		ts.pages[l] = map[string]*template.Template{}
		for _, f := range pages {
			t, err := base.Clone()
			if err != nil {
				return nil, fmt.Errorf("console: templates: %w", err)
			}
			if t, err = t.ParseFS(files, f); err != nil {
				return nil, fmt.Errorf("console: templates: %w", err)
			}
			ts.pages[l][strings.TrimSuffix(path.Base(f), ".html")] = t
		}
	}
	return ts, nil
}

// view is what every page's template gets.
type view struct {
	Lang       lang
	Title      string // catalogue key of the page's title
	Page       string
	SwitchURL  string
	SwitchLang lang
	CSRF       string
	Staff      *operators.Staff // nil on a page refused before the operator was known
	CanFile    bool
	CanDecide  bool
	Errors     []string // catalogue keys
	Notice     string   // catalogue key of a confirmation
	Form       url.Values
	Data       any
}

// F returns the value typed in a form field, to show it again.
func (v *view) F(name string) string { return v.Form.Get(name) }

// render writes a page, rendered into a buffer first so that a template
// error never sends half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	l := language(r)
	t := h.tmpl.pages[l][page]
	if t == nil {
		h.c.Logger.ErrorContext(r.Context(), "console: no such template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Lang, v.Title = l, "console.page."+page+".title"
	if v.Page == "" {
		v.Page = page
	}
	v.SwitchLang = langEN
	if l == langEN {
		v.SwitchLang = langJA
	}
	here := r.URL.Path
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		here += "?" + r.URL.RawQuery
	}
	v.SwitchURL = "/lang/" + string(v.SwitchLang) + "?next=" + url.QueryEscape(here)
	if st, ok := staffFrom(r); ok {
		v.Staff = &st
		v.CanFile, v.CanDecide = canFile(st), canDecide(st)
	}
	if s, ok := sessionFrom(r); ok {
		v.CSRF = s.FormToken
	}
	if v.Form == nil {
		v.Form = url.Values{}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.c.Logger.ErrorContext(r.Context(), "console: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Errors of the console's own forms.
var (
	errRequired     = errors.New("console: a required field is empty")
	errNumber       = errors.New("console: not a number")
	errDate         = errors.New("console: not a date")
	errNoStaff      = errors.New("console: the certificate is not an active operator's")
	errNoCert       = errors.New("console: no client certificate")
	errOtherCert    = errors.New("console: the session belongs to another certificate")
	errNotFound     = errors.New("console: no such page")
	errNoExport     = errors.New("console: the interbank export is not configured")
	errDownloadGone = errors.New("console: the download was taken already or has expired")
)

// refusal is the status and the catalogue key of an error.
func refusal(err error) (int, string) {
	for _, e := range []struct {
		err    error
		status int
		key    string
	}{
		{errRequired, 400, "console.error.required"},
		{errNumber, 400, "console.error.number"},
		{errDate, 400, "console.error.date"},
		{errNoStaff, 403, "console.error.no_staff"},
		{errNoCert, 403, "console.error.no_staff"},
		{errOtherCert, 403, "console.error.other_certificate"},
		{errNotFound, 404, "console.error.not_found"},
		{errNoExport, 409, "console.error.no_export"},
		{errDownloadGone, 410, "console.error.download_gone"},
		{operators.ErrForbidden, 403, "console.error.forbidden"},
		{operators.ErrOwnRequest, 409, "console.error.own_request"},
		{operators.ErrDecided, 409, "console.error.decided"},
		{operators.ErrRefUsed, 409, "console.error.ref_used"},
		{operators.ErrInvalid, 400, "console.error.invalid"},
		{operators.ErrNotFound, 404, "console.error.not_found"},
		{outbox.ErrNotFound, 404, "console.error.not_found"},
		{outbox.ErrNotFailed, 409, "console.error.not_failed"},
		{httpedge.ErrFormToken, 403, "console.error.form_token"},
	} {
		if errors.Is(err, e.err) {
			return e.status, e.key
		}
	}
	rf := httpedge.RefusalOf(err)
	return rf.Status, rf.Key
}

// renderError shows a page that says what went wrong.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, key := refusal(err)
	h.logRefusal(r, err, status)
	h.render(w, r, status, "error", &view{Errors: []string{key}})
}

func (h *handler) logRefusal(r *http.Request, err error, status int) {
	if status >= 500 {
		h.c.Logger.ErrorContext(r.Context(), "console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	h.c.Logger.DebugContext(r.Context(), "console: refused", "method", r.Method, "path", r.URL.Path, "err", err)
}

// switchLanguage is GET /lang/{lang}?next=PATH: it remembers the choice
// and goes back to the page, which must be a path of the console.
func (h *handler) switchLanguage(w http.ResponseWriter, r *http.Request) {
	l := lang(r.PathValue("lang"))
	if !slices.Contains(languages, l) {
		h.page(h.notFound)(w, r)
		return
	}
	setLanguage(w, r, l)
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// setLanguage sets the language cookie, also for the rest of this request.
func setLanguage(w http.ResponseWriter, r *http.Request, l lang) {
	httpedge.SetLanguage(w, r, string(l))
}

// localPath returns next if it is a path on this host, "/" otherwise.
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

// static serves the stylesheet under /static/.
func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if name == look.BaseCSSName {
		look.ServeBaseCSS(w)
		return
	}
	b, err := files.ReadFile("static/" + name)
	if err != nil || name == "" || strings.Contains(name, "/") {
		h.page(h.notFound)(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// notFound is the page of a path that is none.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, errNotFound)
}
