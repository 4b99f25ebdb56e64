package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"kinko/internal/api"
	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/web"
	"kinko/internal/zengin"
)

// The outbox: the store keeps it and writes the mails' intents by notify's
// rules; notify's sender claims and sends them. Neither imports the other.
var (
	_ notify.Store    = (*store.DB)(nil)
	_ store.MailRules = notify.Rules{}
)

// Parts are the settings and dependencies from which Assemble builds
// kinko's services.
type Parts struct {
	DB        *store.DB
	Authority *pki.Authority
	Logger    *slog.Logger
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // default crypto/rand
	Hasher    identity.Params  // default identity.DefaultParams
	Validity  certs.Validity   // default certs.OneYear
	// RenewalWindow is how long before expiry renewal and the notices
	// begin; default certs.DefaultRenewalWindow.
	RenewalWindow time.Duration
	IdleTimeout   time.Duration    // default 15 minutes
	MaxSession    time.Duration    // default 12 hours
	ServerNames   []string         // default localhost, 127.0.0.1
	ServerCert    *tls.Certificate // default: the authority's server certificate for ServerNames
	// PortalURL and CertPortalURL are the listeners' addresses as users
	// reach them; default https:// + the host of the request + the
	// listener's port.
	PortalURL     string
	CertPortalURL string
	ServiceHours  web.ServiceHours // the hours page's text; empty: Hours
	// CRLValidity is the time from a CRL's thisUpdate to its nextUpdate;
	// default certs.DefaultCRLValidity.
	CRLValidity time.Duration
	// PKIAddr is the address of the plain-HTTP listener of the CRL and
	// OCSP; default the portal's host with port 0 (any free port).
	PKIAddr string
	// PKIURL is that listener's address as relying parties reach it
	// (http://host:port), put in issued certificates as <PKIURL>/pki/crl
	// and <PKIURL>/pki/ocsp; default http:// + the bound address, unless it
	// is 0.0.0.0 or :: (then certificates carry no such URLs).
	PKIURL string
	// SMTP delivers the outbox's mails to a mail server; nil: they are
	// written as .eml files to MailDir.
	SMTP *notify.SMTP
	// MailDir receives the mails as files when SMTP is nil; with neither,
	// mails wait in the outbox.
	MailDir string
	// MailFrom is the From address of the mails; default SMTP.From, or
	// kinko@localhost.
	MailFrom string
	// BankName signs the mails; empty: notify.DefaultBankName.
	BankName string
	// BankCode is this bank's 4-digit code (transfers to it are booked
	// here); default DefaultBankCode.
	BankCode string
	// Calendar gives business days; default calendar.Default().
	Calendar *calendar.Calendar
	// Cutoff is the time after which a same-day interbank transfer is
	// dated the next business day; zero: calendar.DefaultCutoff.
	Cutoff calendar.Clock
	// Hours are the service hours of the pages and API behind the login;
	// zero: calendar.DefaultHours().
	Hours calendar.Hours
}

// DefaultBankCode is the bank code of a bank that sets none (the demo).
const DefaultBankCode = "2950"

// Services are kinko's domain services, wired to one database and authority.
type Services struct {
	Parts    Parts
	Identity *identity.Service
	Certs    *certs.Service
	Auth     *auth.Manager
	// Revocations serves the CRL and OCSP; nil without an authority.
	Revocations *certs.Revocations
	// Banking is the organizations' banking behind the login.
	Banking *banking.Service

	// pkiAddr gives the PKI listener's address once it listens.
	pkiAddr atomic.Pointer[func() net.Addr]
}

// Assemble builds the services.
func Assemble(p Parts) (*Services, error) {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Rand == nil {
		p.Rand = rand.Reader
	}
	if p.Hasher.MemoryKiB == 0 {
		p.Hasher = identity.DefaultParams
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	ident, err := identity.New(identity.Config{Store: p.DB, Hasher: identity.Hasher{Params: p.Hasher, Rand: p.Rand}, Now: p.Now, Rand: p.Rand})
	if err != nil {
		return nil, err
	}
	var issuer *pki.Issuer
	if p.Authority != nil {
		if issuer, err = pki.NewIssuer(p.Authority.Issuing, p.Authority.IssuingKey, p.Rand); err != nil {
			return nil, err
		}
	}
	svc := &Services{Parts: p, Identity: ident}
	cs := certs.New(certs.Config{Store: p.DB, Identity: ident, Issuer: issuer, Validity: p.Validity, Now: p.Now, Rand: p.Rand,
		RenewalWindow: p.RenewalWindow, URLs: svc.revocationURLs})
	am := auth.New(auth.Config{Store: p.DB, Identity: ident, Certs: cs, Now: p.Now, Rand: p.Rand,
		IdleTimeout: p.IdleTimeout, AbsoluteTimeout: p.MaxSession})
	svc.Certs, svc.Auth = cs, am
	if p.BankCode == "" {
		p.BankCode = DefaultBankCode
	}
	if p.Calendar == nil {
		p.Calendar = calendar.Default()
	}
	if p.Cutoff == (calendar.Clock{}) {
		p.Cutoff = calendar.DefaultCutoff
	}
	svc.Parts = p
	cal, cutoff := p.Calendar, p.Cutoff
	svc.Banking, err = banking.New(banking.Config{Store: p.DB, Identity: ident, Now: p.Now, BankCode: p.BankCode,
		NormalizeName: zengin.NormalizeKana,
		ExecutionDate: func(now time.Time, d banking.Date, interbank bool) (banking.Date, error) {
			out, _, err := cal.ExecutionDate(now, calendar.Date(d), interbank, cutoff)
			return banking.Date(out), err
		}})
	if err != nil {
		return nil, err
	}
	if p.Authority != nil {
		if svc.Revocations, err = certs.NewRevocations(certs.RevocationConfig{Store: p.DB, Authority: p.Authority,
			Validity: p.CRLValidity, Now: p.Now, Rand: p.Rand}); err != nil {
			return nil, err
		}
	}
	return svc, nil
}

// revocationURLs returns the CRL and OCSP URLs that issued certificates
// carry: <PKI URL>/pki/crl and <PKI URL>/pki/ocsp. Without a configured PKI
// URL, the PKI listener's address is used once it listens, if it is a
// specific one (not 0.0.0.0 or ::); otherwise there are none.
func (s *Services) revocationURLs() (crlURL, ocspURL string) {
	base := strings.TrimSuffix(s.Parts.PKIURL, "/")
	if base == "" {
		if f := s.pkiAddr.Load(); f != nil {
			if a, ok := (*f)().(*net.TCPAddr); ok && a != nil && a.IP != nil && !a.IP.IsUnspecified() {
				base = "http://" + a.AddrPort().String()
			}
		}
	}
	if base == "" || s.Revocations == nil {
		return "", ""
	}
	return base + "/pki/crl", base + "/pki/ocsp"
}

// Server builds the listeners for the services.
func (s *Services) Server(portalAddr, certPortalAddr string) (*Server, error) {
	p := s.Parts
	var cert tls.Certificate
	if p.ServerCert != nil {
		cert = *p.ServerCert
	} else {
		names := p.ServerNames
		if len(names) == 0 {
			names = []string{"localhost", "127.0.0.1"}
		}
		var err error
		if cert, err = p.Authority.ServerCertificate(names, p.Now(), nil); err != nil {
			return nil, err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.Authority.Issuing)
	chain := p.Authority.ClientCAChainPEM()
	mk := func(l api.Listener) *api.API {
		return api.New(api.Config{Listener: l, Identity: s.Identity, Certs: s.Certs, Auth: s.Auth, Banking: s.Banking, CAChain: chain,
			Revocations: s.Revocations, Logger: p.Logger, Now: p.Now})
	}
	var srv *Server
	addrs := func() (net.Addr, net.Addr) {
		if srv == nil || srv.portalLn == nil || srv.certLn == nil {
			return nil, nil
		}
		return srv.PortalAddr(), srv.CertPortalAddr()
	}
	pkiListenerAddr := func() net.Addr {
		if srv == nil {
			return nil
		}
		return srv.PKIAddr()
	}
	s.pkiAddr.Store(&pkiListenerAddr)
	var portalAPI http.Handler // the portal's API, for the PKI listener
	// mount serves the API at /api/ and /pki/ and the pages elsewhere. On
	// the certificate portal every request first needs an active
	// certificate; a refusal is explained in JSON to the API and on a page
	// to the browser.
	mount := func(l api.Listener) (http.Handler, error) {
		w, err := web.New(web.Config{Listener: l, Identity: s.Identity, Certs: s.Certs, Auth: s.Auth,
			Logins: loginHistory{p.DB}, ServiceHours: p.ServiceHours,
			Banking: s.Banking, Calendar: p.Calendar, Cutoff: p.Cutoff, Hours: p.Hours,
			PortalURL: p.PortalURL, CertPortalURL: p.CertPortalURL, Addrs: addrs,
			Logger: p.Logger, Now: p.Now, Rand: p.Rand})
		if err != nil {
			return nil, err
		}
		a := mk(l)
		mux := http.NewServeMux()
		mux.Handle("/api/", a.Handler())
		mux.Handle("/pki/", a.Handler())
		mux.Handle("/", w.Handler())
		if l != api.CertPortal {
			// OCSP by GET goes to the API without the mux, which would
			// redirect a base64 request holding "//" to a cleaned path.
			ah := a.Handler()
			portalAPI = ah
			return s.serviceHours(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/pki/ocsp/") {
					ah.ServeHTTP(rw, r)
					return
				}
				mux.ServeHTTP(rw, r)
			}), a, w), nil
		}
		refuse := func(rw http.ResponseWriter, r *http.Request, err error) {
			if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/pki/") {
				a.Refuse(rw, r, err)
				return
			}
			w.RefuseCertificate(rw, r, err)
		}
		return s.serviceHours(RequireCertificate(mux, s.Auth, "/static/", refuse), a, w), nil
	}
	portal, err := mount(api.Portal)
	if err != nil {
		return nil, err
	}
	certPortal, err := mount(api.CertPortal)
	if err != nil {
		return nil, err
	}
	pkiAddr := p.PKIAddr
	if pkiAddr == "" {
		host, _, err := net.SplitHostPort(portalAddr)
		if err != nil {
			return nil, err
		}
		pkiAddr = net.JoinHostPort(host, "0")
	}
	idle := s.Auth.IdleTimeout()
	srv = New(Config{
		PortalAddr: portalAddr, CertPortalAddr: certPortalAddr, PKIAddr: pkiAddr,
		Certificate: cert, ClientCAs: pool, Auth: s.Auth,
		Portal: portal, CertPortal: certPortal, PKI: pkiOnly(portalAPI),
		Logger: p.Logger, Now: p.Now,
		Jobs: []Job{{Name: "expired sessions", Every: 5 * time.Minute, Run: func(ctx context.Context) error {
			_, err := p.DB.DeleteExpiredSessions(ctx, p.Now(), idle)
			return err
		}}, {Name: "expiry reminders", Every: 10 * time.Minute, Run: func(ctx context.Context) error {
			// Every ten minutes on every server: each reminder is recorded
			// once per certificate and occasion, so it is sent once, within
			// minutes of its day coming.
			_, err := s.Certs.SendExpiryReminders(ctx)
			return err
		}}, {Name: "scheduled transfers", Every: time.Minute, Run: func(ctx context.Context) error {
			// Transfers approved for a later date are executed once their
			// day has come; on several servers, each transfer once.
			_, err := s.Banking.ExecuteDue(ctx, banking.DateOf(p.Now()))
			return err
		}}},
	})
	if sender := s.mailSender(); sender != nil {
		srv.c.Jobs = append(srv.c.Jobs, Job{Name: "mail", Every: 5 * time.Second, Run: func(ctx context.Context) error {
			_, err := sender.RunOnce(ctx)
			return err
		}})
	}
	return srv, nil
}

// mailSender returns the sender of the outbox's mails: over SMTP when it is
// configured, else into MailDir; nil with neither.
func (s *Services) mailSender() *notify.Sender {
	p := s.Parts
	var t notify.Transport
	from := p.MailFrom
	switch {
	case p.SMTP != nil:
		t = p.SMTP
		if from == "" {
			from = p.SMTP.From
		}
	case p.MailDir != "":
		t = notify.Dir{Path: p.MailDir}
	default:
		return nil
	}
	if from == "" {
		from = "kinko@localhost"
	}
	return &notify.Sender{Store: p.DB, Transport: t, From: from, BankName: p.BankName, Now: p.Now, Logger: p.Logger}
}

// serviceHours closes everything but the public pages and the CA's
// objects outside the service hours (Parts.Hours): the pages answer with
// the サービス時間外 page, the API with 503 service_unavailable, both with
// Retry-After until the service reopens.
func (s *Services) serviceHours(h http.Handler, a *api.API, w *web.Handler) http.Handler {
	hours, now := s.Parts.Hours, s.Parts.Now
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; web.OpenOutsideServiceHours(p) || strings.HasPrefix(p, "/pki/") {
			h.ServeHTTP(rw, r)
			return
		}
		open, reopens := hours.Open(now())
		switch {
		case open:
			h.ServeHTTP(rw, r)
		case strings.HasPrefix(r.URL.Path, "/api/"):
			a.ServiceClosed(rw, r, reopens)
		default:
			w.ServiceClosed(rw, r, reopens)
		}
	})
}

// loginHistory gives the web the last logins from the audit log.
type loginHistory struct{ db *store.DB }

// RecentLogins returns the times of the user's last n successful logins,
// newest first.
func (h loginHistory) RecentLogins(ctx context.Context, userID int64, n int) ([]time.Time, error) {
	evs, err := h.db.ListAudit(ctx, store.AuditFilter{UserID: userID, Type: audit.LoginSucceeded, Limit: n, NewestFirst: true})
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, len(evs))
	for i, ev := range evs {
		out[i] = ev.At
	}
	return out, nil
}

// pkiOnly serves, from the portal's API, only the CA's public objects: the
// CRL, OCSP and the CA chain. Everything else is not found.
func pkiOnly(portalAPI http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/pki/crl", p == "/pki/ca.pem", p == "/pki/ocsp", strings.HasPrefix(p, "/pki/ocsp/"):
			portalAPI.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
