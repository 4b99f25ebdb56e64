// Package web is kinko's customer portal in the browser: server-rendered
// pages in Japanese first and English by a switch, on the portal (public
// pages, ID + password login, the way to certificate issuance) and on the
// certificate portal (certificate login). It shares the API's sessions,
// cookies and error table through httpedge, never by importing the API, and
// its messages live in the message catalogue (package messages). Every page
// is rendered from embedded templates parsed once at start-up, every form is
// protected against cross-site requests, and every response carries a
// Content-Security-Policy without inline code. It decides nothing itself:
// the rules live in identity, certs and auth, and it must never hold a
// user-visible sentence outside the catalogue.
package web

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// LoginHistory gives a user's most recent successful logins.
type LoginHistory interface {
	// RecentLogins returns the times of the user's last n successful
	// logins, newest first.
	RecentLogins(ctx context.Context, userID int64, n int) ([]time.Time, error)
}

// Config holds the web's dependencies.
type Config struct {
	Listener httpedge.Listener
	Identity *identity.Service
	Certs    *certs.Service
	Auth     *auth.Manager
	Logins   LoginHistory
	// Banking is the organizations' banking (accounts, transfers,
	// approvals); Calendar and Cutoff date the transfers.
	Banking  *banking.Service
	Calendar *calendar.Calendar
	Cutoff   calendar.Clock
	// Hours are the service hours in force (the zero value: the
	// defaults), shown on the hours page with their maintenance windows.
	Hours calendar.Hours
	// ServiceHours are the bank's own text for the service hours page;
	// when both are empty the page shows Hours, and when one is,
	// DefaultServiceHours fills it.
	ServiceHours ServiceHours
	// PortalURL and CertPortalURL are the listeners' addresses as users
	// reach them (https://host:port), as configured or made by the server
	// from its listeners; never from a request's Host header. Empty:
	// https://localhost.
	PortalURL     string
	CertPortalURL string
	// PasswordChecks limits the password checks without a session (login)
	// in flight per client address; nil: no limit.
	PasswordChecks *httpedge.PasswordChecks
	// Forms keeps the pages of refused forms for their one display after
	// the redirect that follows them; nil: a refused form is answered with
	// its page.
	Forms  FormStore
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand
}

// Handler serves the pages of one listener.
type Handler struct {
	c        Config
	sessions httpedge.Sessions // the sessions and cookie shared with the API
	cat      *catalogue
	tmpl     *templates
	mux      *http.ServeMux
}

// New returns the web handler of one listener. It fails only when the
// embedded catalogue or templates are broken.
func New(c Config) (*Handler, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.ServiceHours != (ServiceHours{}) {
		c.ServiceHours = c.ServiceHours.withDefaults()
	}
	ps, err := pageSet()
	if err != nil {
		return nil, err
	}
	cat, tmpl := ps.cat, ps.tmpl
	h := &Handler{c: c, sessions: httpedge.Sessions{Listener: c.Listener, Auth: c.Auth}, cat: cat, tmpl: tmpl, mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

// pages are the catalogue and the parsed templates of every page.
type pages struct {
	cat  *catalogue
	tmpl *templates
}

// pageSet parses the catalogue and the templates once a process: they are
// embedded and never change, and every handler (the portal's and the
// certificate portal's) shares them, safely, since a template executes
// concurrently. Parsed once per handler, their trees were most of the
// server's live heap, which the garbage collector scans in every cycle.
var pageSet = sync.OnceValues(func() (pages, error) {
	cat, err := loadCatalogue()
	if err != nil {
		return pages{}, err
	}
	tmpl, err := parseTemplates(cat)
	if err != nil {
		return pages{}, err
	}
	return pages{cat: cat, tmpl: tmpl}, nil
})

// Paths of the pages that other pages link to.
const (
	pathLogin           = "/login"
	pathIssue           = "/issue"
	pathHome            = "/home"
	pathCertificate     = "/certificate"
	pathRenew           = "/renew"
	pathPassword        = "/password"
	pathInitialPassword = "/password/initial"
	pathLogout          = "/logout"
	pathLoggedOut       = "/logged-out"
	pathSessionEnded    = "/session-ended"
)

func (h *Handler) routes() {
	m := h.mux
	if h.c.Listener == httpedge.CertPortal {
		m.HandleFunc("GET /{$}", h.certificateLoginForm)
		m.HandleFunc("POST /{$}", h.form(h.certificateLogin, h.renderCertificateLogin))
		m.HandleFunc("GET "+pathRenew, h.session(h.renewal, 0))
	} else {
		for _, pg := range publicPages {
			m.HandleFunc("GET "+pg.path+pageSuffix(pg.path), h.publicPage(pg))
		}
		m.HandleFunc("GET "+pathLogin, h.loginForm)
		m.HandleFunc("POST "+pathLogin, h.form(h.passwordLogin, h.renderLogin))
		m.HandleFunc("GET "+pathIssue, h.issuance)
		m.HandleFunc("POST "+pathIssue+"/withdraw", h.form(h.withdrawCertificate, h.renderWithdrawal))
	}
	m.HandleFunc("GET /lang/{lang}", h.switchLanguage)
	m.HandleFunc("POST /lang/{lang}", h.form(h.switchLanguageKeeping, nil))
	m.HandleFunc("GET "+pathRefused, h.refused)
	m.Handle("GET /static/", h.static())
	m.HandleFunc("GET "+pathHome, h.session(h.home, 0))
	m.HandleFunc("GET "+pathCertificate, h.session(h.certificate, 0))
	m.HandleFunc("GET "+pathPassword, h.session(h.passwordForm, 0))
	m.HandleFunc("POST "+pathPassword, h.form(h.session(h.changePassword, 0), nil))
	m.HandleFunc("GET "+pathInitialPassword, h.session(h.initialPasswordForm, httpedge.DuringPasswordChange))
	m.HandleFunc("POST "+pathInitialPassword, h.form(h.session(h.initialPassword, httpedge.DuringPasswordChange), nil))
	m.HandleFunc("POST "+pathLogout, h.form(h.session(h.logout, httpedge.DuringPasswordChange), nil))
	m.HandleFunc("GET "+pathUsers, h.session(h.master(h.users), 0))
	m.HandleFunc("GET "+pathUsers+"/new", h.session(h.master(h.newUserForm), 0))
	m.HandleFunc("POST "+pathUsers+"/new", h.form(h.session(h.master(h.createUser), 0), h.inSession(h.renderNewUser)))
	m.HandleFunc("GET "+pathUsers+"/{login_id}/revoke", h.session(h.master(h.revokeForm), 0))
	m.HandleFunc("POST "+pathUsers+"/{login_id}/revoke", h.form(h.session(h.master(h.revoke), 0), h.inSession(h.renderRevoke)))
	m.HandleFunc("POST "+pathUsers+"/{login_id}/unlock", h.form(h.session(h.master(h.unlock), 0), h.inSession(h.refuseUsersForm)))
	m.HandleFunc("GET "+pathUsers+"/{login_id}/password-reset", h.session(h.master(h.resetForm), 0))
	m.HandleFunc("POST "+pathUsers+"/{login_id}/password-reset", h.form(h.session(h.master(h.resetPasswords), 0), h.inSession(h.renderReset)))
	m.HandleFunc("GET "+pathUsers+"/{login_id}/privileges", h.session(h.master(h.bank(h.privilegesForm)), 0))
	m.HandleFunc("POST "+pathUsers+"/{login_id}/privileges", h.form(h.session(h.master(h.setPrivileges), 0), nil))
	m.HandleFunc("GET "+pathAccounts, h.session(h.bank(h.accounts), 0))
	m.HandleFunc("GET "+pathAccounts+"/{id}/statement", h.session(h.bank(h.statement), 0))
	m.HandleFunc("GET "+pathAccounts+"/{id}/statement.csv", h.session(h.bank(h.statementCSV), 0))
	m.HandleFunc("GET "+pathTransfers, h.session(h.bank(h.transfers), 0))
	m.HandleFunc("GET "+pathNewTransfer, h.session(h.need(canRequest, h.bank(h.newTransferForm)), 0))
	m.HandleFunc("POST "+pathNewTransfer, h.form(h.session(h.need(canRequest, h.newTransfer), 0), nil))
	m.HandleFunc("GET "+pathTransfers+"/{id}", h.session(h.transfer, 0))
	m.HandleFunc("POST "+pathTransfers+"/{id}/cancel", h.form(h.session(h.bank(h.cancelTransfer), 0), nil))
	m.HandleFunc("GET "+pathTransfers+"/{id}/edit", h.session(h.need(canRequest, h.bank(h.editTransferForm)), 0))
	m.HandleFunc("POST "+pathTransfers+"/{id}/edit", h.form(h.session(h.need(canRequest, h.bank(h.editTransfer)), 0), nil))
	m.HandleFunc("GET "+pathBatchUpload, h.session(h.need(canRequest, h.bank(h.batchForm)), 0))
	m.HandleFunc("POST "+pathBatchUpload, h.upload(h.session(h.need(canRequest, h.createBatch), 0)))
	m.HandleFunc("GET "+pathBatchDraft+"/{id}", h.session(h.need(canRequest, h.batchConfirm), 0))
	m.HandleFunc("POST "+pathBatchDraft+"/{id}/confirm", h.form(h.session(h.need(canRequest, h.confirmBatch), 0), nil))
	m.HandleFunc("POST "+pathBatchDraft+"/{id}/discard", h.form(h.session(h.need(canRequest, h.bank(h.discardBatch)), 0), nil))
	m.HandleFunc("GET /batches/{id}", h.session(h.batch, 0))
	m.HandleFunc("POST /batches/{id}/cancel", h.form(h.session(h.bank(h.cancelBatch), 0), nil))
	m.HandleFunc("GET "+pathApprovals, h.session(h.need(canApprove, h.bank(h.approvals)), 0))
	m.HandleFunc("GET "+pathApprovals+"/{id}", h.session(h.need(canApprove, h.approval), 0))
	m.HandleFunc("POST "+pathApprovals+"/{id}/{decision}", h.form(h.session(h.need(canApprove, h.decide(false)), 0), nil))
	m.HandleFunc("GET "+pathApprovals+"/batches/{id}", h.session(h.need(canApprove, h.batchApproval), 0))
	m.HandleFunc("POST "+pathApprovals+"/batches/{id}/{decision}", h.form(h.session(h.need(canApprove, h.decide(true)), 0), nil))
	m.HandleFunc("GET "+pathPayees, h.session(h.need(canRequest, h.payees), 0))
	m.HandleFunc("POST "+pathPayees, h.form(h.session(h.need(canRequest, h.bank(h.registerPayee)), 0), nil))
	m.HandleFunc("POST "+pathPayees+"/{id}/delete", h.form(h.session(h.need(canRequest, h.bank(h.deletePayee)), 0), nil))
	m.HandleFunc("GET "+pathLoggedOut, h.loggedOut)
	m.HandleFunc("GET "+pathSessionEnded, h.sessionEnded)
	m.HandleFunc("/", h.notFound)
}

// pageSuffix makes the pattern of the top page match "/" only.
func pageSuffix(path string) string {
	if path == "/" {
		return "{$}"
	}
	return ""
}

// contentSecurityPolicy allows only kinko's own scripts, styles and images:
// no inline code, no framing, forms only to kinko.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// ServeHTTP serves the pages with the security headers every web response
// carries. (HSTS and X-Frame-Options come from the server for every
// listener.)
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, withKeptSlot(r))
}

// Route returns the pattern of the page's route that serves r ("" when
// none), for the server's metrics, which count requests by route, never
// by path.
func (h *Handler) Route(r *http.Request) string {
	_, pattern := h.mux.Handler(r)
	return pattern
}

// Handler returns the pages wrapped in cross-origin protection: a form
// posted from another site is refused before any handler sees it. Every
// form also carries a token (see form).
func (h *Handler) Handler() http.Handler {
	return httpedge.ProtectCrossOrigin(h, h.renderError)
}

// portalURL returns the portal's address as users reach it.
func (h *Handler) portalURL(*http.Request) string {
	return listenerURL(h.c.PortalURL)
}

// certPortalURL returns the certificate portal's address as users reach
// it.
func (h *Handler) certPortalURL(*http.Request) string {
	return listenerURL(h.c.CertPortalURL)
}

// listenerURL is a configured address without its final slash. It never
// comes from the request: its Host header is the client's to write, and a
// page or mail that linked to it would send a user wherever an attacker
// (or a poisoned cache) said.
func listenerURL(configured string) string {
	if configured == "" {
		return "https://localhost"
	}
	return trimSlash(configured)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
