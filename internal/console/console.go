// Package console is the bank's operator console in the browser: the pages
// its operators (担当者 clerks, 承認者 approvers, 監査 auditors) use on the
// console's TLS listener, which asks for an operator certificate. The
// operator of every request is the active staff member whose recorded
// certificate the connection presents, found on every request; the
// console's sessions are kept in the database, bound to that certificate,
// and carry the form token. It finds organizations, shows them by code
// with their users, certificates, accounts, transfers and audit trail,
// files the written requests that a second operator approves
// (maker-checker, package operators), and does what needs no second person
// (opening accounts, the interbank export, resending a failed mail). It
// decides no rule: those live in operators, identity, certs and banking.
// Japanese first, English by a switch; every sentence in the message
// catalogue (package messages). It never imports the customer portal
// (web) or the API.
package console

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/outbox"
)

// Operators is the operators' service as the console uses it;
// *operators.Service is one.
type Operators interface {
	StaffByCertificate(ctx context.Context, fingerprint string) (operators.Staff, error)
	ListStaff(ctx context.Context) ([]operators.Staff, error)
	AddStaff(ctx context.Context, n operators.NewStaff, by string) (operators.Staff, error)
	File(ctx context.Context, maker operators.Staff, kind operators.Kind, ref string, params any) (operators.Request, error)
	Approve(ctx context.Context, checker operators.Staff, id int64) (operators.Request, operators.Outcome, error)
	Reject(ctx context.Context, checker operators.Staff, id int64, reason string) (operators.Request, error)
	Get(ctx context.Context, id int64) (operators.Request, error)
	List(ctx context.Context, f operators.Filter) ([]operators.Request, error)
}

// OperatorCertificates issues a new operator's certificate, made by the
// operator CA, as a PKCS#12 file and its file password, and records it for
// the operator.
type OperatorCertificates interface {
	Issue(ctx context.Context, staff operators.Staff) (p12 []byte, password string, err error)
}

// Sessions keeps the console's sessions; *store.DB is one.
type Sessions interface {
	CreateConsoleSession(ctx context.Context, s operators.Session) error
	ConsoleSession(ctx context.Context, idHash string) (operators.Session, error)
	TouchConsoleSession(ctx context.Context, idHash string, at time.Time) error
	DeleteConsoleSession(ctx context.Context, idHash string) error
	DeleteIdleConsoleSessions(ctx context.Context, before time.Time) error
}

// Reads are the reads of the pages that no domain service offers;
// *store.DB is one.
type Reads interface {
	SearchOrganizations(ctx context.Context, q string, limit int) ([]identity.Organization, error)
	LastCertificateLogins(ctx context.Context, organizationID int64) (map[string]time.Time, error)
	Transfers(ctx context.Context, f banking.TransferFilter) ([]banking.Transfer, int, error)
	AuditEntries(ctx context.Context, q audit.Query) ([]audit.Entry, error)
	OutboxEntries(ctx context.Context, st outbox.State, limit int) ([]outbox.Entry, error)
	ResendMail(ctx context.Context, id int64, at time.Time, ev audit.Event) error
}

// Store is what the console keeps and reads in the database.
type Store interface {
	Sessions
	Reads
}

// Config holds the console's dependencies.
type Config struct {
	Identity  *identity.Service
	Certs     *certs.Service
	Banking   *banking.Service
	Operators Operators
	Store     Store
	// OperatorCertificates issues the certificate of an operator added
	// on the staff page; nil: operators are added without one (their
	// certificate is made on the server's command line).
	OperatorCertificates OperatorCertificates
	// InterbankDir is the directory the interbank export writes its
	// files to, and the download reads them from; empty: no export from
	// the console.
	InterbankDir string
	// IdleTimeout ends a session unused for that long; 0: 15 minutes.
	IdleTimeout time.Duration
	Logger      *slog.Logger
	Now         func() time.Time // default time.Now
	Rand        io.Reader        // default crypto/rand
}

// DefaultIdleTimeout is the console's idle timeout.
const DefaultIdleTimeout = 15 * time.Minute

// handler serves the console.
type handler struct {
	c     Config
	cat   *catalogue
	tmpl  *templates
	mux   *http.ServeMux
	mu    sync.Mutex
	p12   map[string]download // operator certificates to download once, by token
	clean time.Time           // when idle sessions were last deleted
}

// download is a PKCS#12 file to download once.
type download struct {
	name    string
	data    []byte
	expires time.Time
}

// New returns the console's handler: its pages behind cross-origin
// protection, with the strict headers of every page. It fails when a
// dependency is missing or the embedded catalogue or templates are broken.
func New(c Config) (http.Handler, error) {
	if c.Identity == nil || c.Certs == nil || c.Banking == nil || c.Operators == nil || c.Store == nil {
		return nil, errors.New("console: Identity, Certs, Banking, Operators and Store are required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	tmpl, err := parseTemplates(cat)
	if err != nil {
		return nil, err
	}
	h := &handler{c: c, cat: cat, tmpl: tmpl, mux: http.NewServeMux(), p12: map[string]download{}}
	h.routes()
	return httpedge.ProtectCrossOrigin(h, h.renderError), nil
}

// Paths of the pages.
const (
	pathSearch   = "/"
	pathOrgs     = "/organizations/"
	pathRequests = "/requests"
	pathAccounts = "/accounts/new"
	pathInter    = "/interbank"
	pathOutbox   = "/outbox"
	pathAudit    = "/audit"
	pathStaff    = "/staff"
)

func (h *handler) routes() {
	m := h.mux
	m.HandleFunc("GET /static/", h.static)
	m.HandleFunc("GET /lang/{lang}", h.switchLanguage)
	m.HandleFunc("GET /{$}", h.page(h.search))
	m.HandleFunc("GET /organizations/{code}", h.page(h.organization))
	m.HandleFunc("GET "+pathRequests, h.page(h.requests))
	m.HandleFunc("GET /file/{kind}", h.page(h.need(canFile, h.requestForm)))
	m.HandleFunc("POST /file/{kind}", h.post(canFile, h.fileRequest, h.renderRequestForm))
	m.HandleFunc("GET "+pathRequests+"/{id}", h.page(h.request))
	m.HandleFunc("POST "+pathRequests+"/{id}/approve", h.post(canDecide, h.approve, h.renderRequestAgain))
	m.HandleFunc("POST "+pathRequests+"/{id}/reject", h.post(canDecide, h.reject, h.renderRequestAgain))
	m.HandleFunc("GET "+pathAccounts, h.page(h.need(canFile, h.accountForm)))
	m.HandleFunc("POST "+pathAccounts, h.post(canFile, h.openAccount, h.renderAccountForm))
	m.HandleFunc("GET "+pathInter, h.page(h.interbank))
	m.HandleFunc("POST "+pathInter, h.post(canFile, h.exportInterbank, h.renderInterbank))
	m.HandleFunc("GET "+pathInter+"/files/{name}", h.page(h.interbankFile))
	m.HandleFunc("GET "+pathOutbox, h.page(h.outbox))
	m.HandleFunc("POST "+pathOutbox+"/{id}/resend", h.post(canFile, h.resend, h.renderOutbox))
	m.HandleFunc("GET "+pathAudit, h.page(h.auditLog))
	m.HandleFunc("GET "+pathAudit+".csv", h.page(h.auditCSV))
	m.HandleFunc("GET "+pathStaff, h.page(h.staff))
	m.HandleFunc("POST "+pathStaff, h.post(canDecide, h.addStaff, h.renderStaff))
	m.HandleFunc("GET "+pathStaff+"/certificate/{token}", h.page(h.downloadP12))
	m.HandleFunc("/", h.page(h.notFound))
}

// contentSecurityPolicy allows only the console's own styles: no script
// at all, no framing, forms only to the console.
const contentSecurityPolicy = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// ServeHTTP serves the pages with the headers every response carries.
// (HSTS and X-Frame-Options come from the server for every listener.)
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}
