package web

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
	"strings"
	"time"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

//go:embed templates
var templateFiles embed.FS

// templates are the pages, parsed once per language at start-up: each page
// is templates/layout.html and the parts in templates/partials with one
// file of templates/pages.
type templates struct {
	pages map[lang]map[string]*template.Template
}

// funcs are the template functions for language l: t (a message of the
// catalogue), dateTime and date.
func funcs(cat *catalogue, l lang) template.FuncMap {
	return template.FuncMap{
		"t":        func(key string, args ...any) string { return cat.text(l, key, args...) },
		"dateTime": func(t time.Time) string { return cat.dateTime(l, t) },
		"date":     func(t time.Time) string { return cat.date(l, t) },
	}
}

// parseTemplates parses every page for every language.
func parseTemplates(cat *catalogue) (*templates, error) {
	files, err := fs.Glob(templateFiles, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	ts := &templates{pages: map[lang]map[string]*template.Template{}}
	for _, l := range languages {
		base, err := template.New("layout.html").Funcs(funcs(cat, l)).ParseFS(templateFiles, "templates/layout.html", "templates/partials/*.html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		ts.pages[l] = map[string]*template.Template{}
		for _, f := range files {
			t, err := base.Clone()
			if err != nil {
				return nil, fmt.Errorf("web: templates: %w", err)
			}
			if t, err = t.ParseFS(templateFiles, f); err != nil {
				return nil, fmt.Errorf("web: templates: %w", err)
			}
			ts.pages[l][strings.TrimSuffix(path.Base(f), ".html")] = t
		}
	}
	return ts, nil
}

// titleKey is the catalogue key of a page's title.
func titleKey(page string) string { return "page." + page + ".title" }

// view is what every page's template gets.
type view struct {
	Lang  lang
	Title string // catalogue key of the page's title, set by render
	// Page names the page for the navigation (aria-current).
	Page string
	// SwitchURL switches to SwitchLang and comes back to this page.
	SwitchURL  string
	SwitchLang lang
	CSRF       string // the form token
	Nav        []navItem
	Member     *member // the logged-in user; nil on public pages
	// PortalURL and CertPortalURL are the listeners' addresses; Home is
	// the service's top page and Login its login page, absolute on the
	// certificate portal.
	PortalURL, CertPortalURL string
	Home, Login              string
	CertPortal               bool // the page is served by the certificate portal
	Errors                   []message
	// LangForm is the id of the page's form whose typed values the
	// language switch keeps ("" for none), and Here the page's path.
	LangForm, Here string
	Notice         string // catalogue key of a confirmation
	Data           any
}

// message is a message of the catalogue shown on a page.
type message struct {
	Key string
}

// navItem is a link of the navigation.
type navItem struct {
	Href    string
	Key     string // catalogue key of its text
	Current bool
}

// member is the logged-in user as the pages show it.
type member struct {
	LoginID          string
	Name             string
	Organization     string
	OrganizationCode string
	RoleKey          string // catalogue key of the role
	CertificateLogin bool   // logged in with a certificate
	MustChange       bool   // only the password change is reachable
	// MayApprove says that the user may approve transfers (承認): the
	// navigation shows 承認 to them only.
	MayApprove bool
}

// roleKeys are the catalogue keys of the roles.
var roleKeys = map[identity.Role]string{
	identity.RoleMaster:  "role.master",
	identity.RoleGeneral: "role.general",
}

func memberOf(p auth.Principal) *member {
	return &member{
		LoginID: p.User.LoginID, Name: p.User.Name,
		Organization: p.Organization.Name, OrganizationCode: p.Organization.Code,
		RoleKey: roleKeys[p.User.Role], CertificateLogin: p.Certificate != nil,
		MustChange: p.PasswordChangeRequired(),
	}
}

// render writes a page. A form answered with an error is kept and
// followed by a redirect to the page that shows it once (Post/Redirect/Get,
// kept.go); the GET of that page shows it instead of its own.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	switch r.Method {
	case http.MethodPost:
		if (status >= http.StatusBadRequest || len(v.Errors) > 0) && h.keepRefused(w, r, status, page, v) {
			return
		}
	case http.MethodGet:
		status, page = h.showKept(w, r, status, page, v)
	}
	h.renderPage(w, r, status, page, v)
}

// renderPage writes a page: the whole page is rendered into a buffer
// first, so that a template error never sends half a page.
func (h *Handler) renderPage(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	l := language(r)
	t := h.tmpl.pages[l][page]
	if t == nil {
		h.c.Logger.ErrorContext(r.Context(), "web: no such template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v.Lang = l
	v.Title = titleKey(page)
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
	v.LangForm, v.Here = langForms[page], r.URL.Path
	v.CSRF = h.csrfToken(w, r)
	v.PortalURL, v.CertPortalURL = h.portalURL(r), h.certPortalURL(r)
	v.CertPortal = h.c.Listener == httpedge.CertPortal
	v.Home, v.Login = "/", pathLogin
	if v.CertPortal {
		v.Home, v.Login = v.PortalURL+"/", v.PortalURL+pathLogin
	}
	v.Nav = h.publicNav(v)
	if v.Member != nil && !v.Member.MustChange {
		v.Member.MayApprove = h.mayApprove(r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.c.Logger.ErrorContext(r.Context(), "web: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// publicNav is the navigation of the public pages and the login.
func (h *Handler) publicNav(v *view) []navItem {
	prefix := ""
	if v.CertPortal {
		prefix = v.PortalURL
	}
	var nav []navItem
	for _, pg := range publicPages {
		if pg.path == "/" {
			continue
		}
		nav = append(nav, navItem{Href: prefix + pg.path, Key: pg.nav, Current: !v.CertPortal && v.Page == pg.name})
	}
	return append(nav, navItem{Href: prefix + pathLogin, Key: "nav.login", Current: !v.CertPortal && v.Page == "login"})
}

// renderError shows a page that says what went wrong and what to do.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, msgs := h.refusal(r, err)
	httpedge.SetRetryAfterOf(w, err)
	d := errorPage{CertificateProblem: certificateProblem(err)}
	if h.withoutCertificates(r, err) {
		// Told the truth: their organization does not use certificates.
		msgs = []message{{Key: "error.organization_without_certificates"}}
		d.CertificateProblem, d.PasswordSession = false, true
	}
	if r.Method == http.MethodPost {
		d.Back = r.URL.Path
		if d.Back == pathLogout {
			d.Back = pathHome
		}
	}
	h.render(w, r, status, "error", &view{Errors: msgs, Data: d})
}

// RefuseCertificate answers a request on the certificate portal whose
// certificate cannot be used (none, revoked, expired, its user locked) with
// a page that says so and what to do, instead of a browser error (R11, R12).
func (h *Handler) RefuseCertificate(w http.ResponseWriter, r *http.Request, err error) {
	h.renderError(w, r, err)
}

// errorPage is the data of the error page.
type errorPage struct {
	// CertificateProblem: the certificate cannot be used, so the page
	// explains how to get a new one.
	CertificateProblem bool
	// Back is the page of a refused form, to try again.
	Back string
	// PasswordSession: a user logged in with ID and password, whose
	// organization does not use certificates, came to the certificate
	// portal; the page leads back to their session on the portal.
	PasswordSession bool
}

// withoutCertificates reports whether err refuses, on the certificate
// portal, a request without a certificate from a browser that holds an ID
// + password session on the portal (its cookie is sent to every port of the
// host) of an organization that does not use certificate login. The
// session is only looked at, to choose the message: nothing is done with
// it here.
func (h *Handler) withoutCertificates(r *http.Request, err error) bool {
	if h.c.Listener != httpedge.CertPortal || !errors.Is(err, auth.ErrCertificateRequired) {
		return false
	}
	c, cerr := r.Cookie(httpedge.PortalCookie)
	if cerr != nil || c.Value == "" {
		return false
	}
	p, perr := h.c.Auth.Authenticate(r.Context(), c.Value, nil)
	return perr == nil && p.Certificate == nil && !p.Organization.CertificateLogin
}

// mayApprove reports whether the request's user may approve transfers;
// false without a session, or when the privileges cannot be read (the
// approval pages themselves still decide).
func (h *Handler) mayApprove(r *http.Request) bool {
	p, ok := httpedge.PrincipalFrom(r.Context())
	if !ok || h.c.Banking == nil {
		return false
	}
	pr, err := h.c.Banking.Privileges(r.Context(), p.User, p.User.LoginID)
	return err == nil && pr.Approval
}
