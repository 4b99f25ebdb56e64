package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"kinko/internal/api"
	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/metrics"
	"kinko/internal/notify"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/pkihttp"
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
	// PasswordMemoryMiB is the memory the password checks running at once
	// may take together; it sizes the gate (identity.GateSlots); default
	// identity.DefaultPasswordMemoryMiB.
	PasswordMemoryMiB int
	// PasswordGate, when set, is the gate itself instead of one sized by
	// PasswordMemoryMiB.
	PasswordGate *identity.Gate
	// PasswordChecksPerClient is how many requests that check a password
	// without a session one client address may have in flight; default
	// httpedge.DefaultChecksPerClient.
	PasswordChecksPerClient int
	Validity                certs.Validity // default certs.OneYear
	// RenewalWindow is how long before expiry renewal and the notices
	// begin; default certs.DefaultRenewalWindow.
	RenewalWindow time.Duration
	// Throttle are the rules of failed logins that need no certificate;
	// zero fields: identity.DefaultThrottle's.
	Throttle    identity.Throttle
	IdleTimeout time.Duration    // default 15 minutes
	MaxSession  time.Duration    // default 12 hours
	ServerNames []string         // default localhost, 127.0.0.1
	ServerCert  *tls.Certificate // default: the server certificate stored with the authority, valid for ServerNames
	// PortalURL and CertPortalURL are the listeners' addresses as users
	// reach them; New's default is https:// + the listener's bound
	// address, or, when it is 0.0.0.0 or ::, the first of ServerNames with
	// the listener's port (listenerURL). Never the request's Host header.
	PortalURL     string
	CertPortalURL string
	ServiceHours  web.ServiceHours // the hours page's text; empty: Hours
	// CRLValidity is the time from a CRL's thisUpdate to its nextUpdate;
	// default certs.DefaultCRLValidity.
	CRLValidity time.Duration
	// PKIURL is the PKI listener's address as relying parties reach it
	// (http://host:port), put in issued certificates as <PKIURL>/pki/crl
	// and <PKIURL>/pki/ocsp. New's default is http:// + the listener's
	// bound address, unless it is 0.0.0.0 or :: (then certificates carry
	// no such URLs); without listeners (Assemble alone) there are none.
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
	// PayrollDays and PayrollCutoff are the deadline of 給与・賞与振込
	// (business days before the payment date, and the time of day); zero:
	// banking's defaults.
	PayrollDays   int
	PayrollCutoff calendar.Clock
	// Hours are the service hours of the pages and API behind the login;
	// zero: calendar.DefaultHours().
	Hours calendar.Hours
	// PayeeChecks and PayeeCheckWindow bound how many accounts at this bank
	// a user may check; zero: banking's defaults.
	PayeeChecks      int
	PayeeCheckWindow time.Duration
	// Banks are the names of the banks and branches; nil: the names
	// shipped with kinko (zengin.Embedded).
	Banks *zengin.Directory
	// Fees is the bank's table of transfer fees (振込手数料); nil: no fees.
	Fees *banking.FeeTable
	// TrustRequestID reports whether a request's connection comes from a
	// proxy whose X-Request-ID is taken as the request's ID; nil: the
	// TrustedProxies are (none when there are none), and every other
	// request gets an ID of its own (httpedge.RequestIDs).
	TrustRequestID func(*http.Request) bool
	// ShutdownTimeout bounds how long Serve, once its context is done,
	// waits for the requests in flight; zero: DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// TrustedProxies are the proxies in front of kinko whose forwarding
	// headers (Client-Cert, X-Forwarded-For) and PROXY protocol headers are
	// believed (httpedge.Proxies); zero: none.
	TrustedProxies httpedge.Proxies
	// ProxyProtocol makes the portal and the certificate portal read the
	// PROXY protocol (v1 or v2), which every connection from
	// TrustedProxies must then begin with; a connection from anywhere
	// else that sends one is refused. New refuses it without
	// TrustedProxies.
	ProxyProtocol bool
	// Metrics count what the services do (logins, issuances,
	// revocations); nil: nothing is counted, unless New makes them.
	Metrics *metrics.Metrics
	// OperatorCA is the CA of the operators' certificates, whose
	// certificate alone the console's handshakes accept; nil: New reads
	// it from the authority's directory (pki.LoadOperatorCA) when there
	// is a console listener, and refuses to start without one.
	OperatorCA *pki.OperatorCA
	// ConsoleURL is the console's address as operators reach it; New's
	// default is made like PortalURL's.
	ConsoleURL string
	// Console builds, from the services, what the console listener
	// serves: its handler and the check of an operator's certificate
	// that every console handshake runs (ConsoleTLSConfig). Required
	// with a console listener; unused without one.
	Console func(s *Services, consoleURL string) (http.Handler, ConsoleCheck, error)
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
	// OperatorCA is the operators' CA; New sets it for a server with a
	// console listener (Parts.OperatorCA or the authority's), nil
	// otherwise.
	OperatorCA *pki.OperatorCA
	// Operators are the bank's operators and the written requests a
	// second operator approves.
	Operators *operators.Service
	// mail is the outbox's sender, nil without one; a running server
	// changes it (Server.SetMail).
	mail atomic.Pointer[notify.Sender]
}

// Assemble builds the services without listeners, for the commands that
// act on the bank's data; New builds them for serving.
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
	// Every line logged while serving a request names it.
	p.Logger = slog.New(httpedge.LogRequestIDs(p.Logger.Handler()))
	if p.PasswordGate == nil {
		p.PasswordGate = identity.NewGate(identity.GateConfig{MemoryMiB: p.PasswordMemoryMiB, PerCheckKiB: p.Hasher.MemoryKiB})
	}
	ident, err := identity.New(identity.Config{Store: p.DB, Hasher: identity.Hasher{Params: p.Hasher, Rand: p.Rand, Gate: p.PasswordGate},
		Now: p.Now, Rand: p.Rand,
		Logger: p.Logger, Throttle: p.Throttle})
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
	cs := certs.New(certs.Config{Store: p.DB.Certs(), Identity: ident, Issuer: issuer, Validity: p.Validity, Now: p.Now, Rand: p.Rand, Logger: p.Logger,
		RenewalWindow: p.RenewalWindow, URLs: svc.revocationURLs, OnIssue: p.issued(), OnRevoke: svc.revoked(p.revoked())})
	am := auth.New(auth.Config{Store: p.DB, Identity: ident, Certs: cs, Now: p.Now, Rand: p.Rand, Logger: p.Logger,
		IdleTimeout: p.IdleTimeout, AbsoluteTimeout: p.MaxSession, OnLogin: p.loggedIn()})
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
	if sender := mailSenderOf(p); sender != nil {
		svc.mail.Store(sender)
	}
	cal, cutoff := p.Calendar, p.Cutoff
	svc.Banking, err = banking.New(banking.Config{Store: p.DB, Identity: ident, Now: p.Now, BankCode: p.BankCode,
		NormalizeName: zengin.NormalizeKana, PayeeChecks: p.PayeeChecks, PayeeCheckWindow: p.PayeeCheckWindow,
		Banks: p.Banks, Fees: p.Fees, Calendar: cal, Cutoff: cutoff, PayrollDays: p.PayrollDays, PayrollCutoff: p.PayrollCutoff,
		ExecutionDate: func(now time.Time, d calendar.Date, interbank bool) (calendar.Date, error) {
			out, _, err := cal.ExecutionDate(now, d, interbank, cutoff)
			return out, err
		}})
	if err != nil {
		return nil, err
	}
	if svc.Operators, err = operators.New(operators.Config{Store: p.DB, Now: p.Now,
		Actions: OperatorActions{Identity: svc.Identity, Certs: svc.Certs, Banking: svc.Banking}}); err != nil {
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

// revoked returns the Certs service's OnRevoke: it tells count (when set)
// and, after a revocation made, drops this server's cache of OCSP statuses
// so that its own answers change at once (the other servers' within the
// epoch poll).
func (s *Services) revoked(count func(string, error)) func(string, error) {
	return func(by string, err error) {
		if count != nil {
			count(by, err)
		}
		if err == nil && s.Revocations != nil {
			s.Revocations.Revoked()
		}
	}
}

// revocationURLs returns the CRL and OCSP URLs that issued certificates
// carry: <PKI URL>/pki/crl and <PKI URL>/pki/ocsp; none without a PKI URL.
func (s *Services) revocationURLs() (crlURL, ocspURL string) {
	base := strings.TrimSuffix(s.Parts.PKIURL, "/")
	if base == "" || s.Revocations == nil {
		return "", ""
	}
	return base + "/pki/crl", base + "/pki/ocsp"
}

// serverCertWarning is how long before the listeners' certificate expires
// a start-up warns of it.
const serverCertWarning = 30 * 24 * time.Hour

// New builds kinko on its open listeners: the services from p, the pages
// and API of the two portals, the PKI listener's handlers and the
// background jobs (jobs.go). The listeners' addresses are known from the
// start, so nothing waits for a server that does not exist yet.
func New(p Parts, ln *Listeners) (*Server, error) {
	if p.ProxyProtocol {
		if p.TrustedProxies.Empty() {
			return nil, errors.New("server: the PROXY protocol needs trusted proxies")
		}
		ln.Portal = proxyProtocol(ln.Portal, p.TrustedProxies)
		ln.CertPortal = proxyProtocol(ln.CertPortal, p.TrustedProxies)
		if ln.Console != nil {
			// A proxy passes the console's TCP connections through,
			// with the client's address in a PROXY header.
			ln.Console = proxyProtocol(ln.Console, p.TrustedProxies)
		}
	}
	if p.PKIURL == "" {
		if a, ok := ln.PKI.Addr().(*net.TCPAddr); ok && a.IP != nil && !a.IP.IsUnspecified() {
			p.PKIURL = "http://" + a.AddrPort().String()
		}
	}
	if p.Metrics == nil {
		p.Metrics = metrics.New()
	}
	s, err := Assemble(p)
	if err != nil {
		return nil, err
	}
	p = s.Parts
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	var cert tls.Certificate
	if p.ServerCert != nil {
		cert = *p.ServerCert
	} else {
		names := p.ServerNames
		if len(names) == 0 {
			names = []string{"localhost", "127.0.0.1"}
		}
		// The root key is never here: the certificate was signed by the
		// ceremony (kinko init, kinko ca server-cert) and stored.
		if cert, err = p.Authority.StoredServerCertificate(names, p.Now()); err != nil {
			return nil, err
		}
	}
	if cert.Leaf != nil && p.Now().Add(serverCertWarning).After(cert.Leaf.NotAfter) {
		p.Logger.Warn("the server certificate expires soon: renew it (kinko ca server-cert, or the bank's certificate files)",
			"not_after", cert.Leaf.NotAfter)
	}
	if err := p.Calendar.Coverage(calendar.DateOf(p.Now())); err != nil {
		level := slog.LevelWarn
		if ce, ok := errors.AsType[*calendar.CoverageError](err); ok && ce.Urgent() {
			level = slog.LevelError
		}
		p.Logger.Log(context.Background(), level, "holiday data", "err", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.Authority.Issuing)
	chain := p.Authority.ClientCAChainPEM()
	// One limit of password checks in flight per client address, for
	// both portals, pages and API: it guards this server's memory.
	checks := httpedge.NewPasswordChecks(p.PasswordChecksPerClient, 0)
	mk := func(l httpedge.Listener) *api.API {
		return api.New(api.Config{Listener: l, Identity: s.Identity, Certs: s.Certs, Auth: s.Auth, Banking: s.Banking, CAChain: chain,
			PasswordChecks: checks, Logger: p.Logger, Now: p.Now})
	}
	portalURL, certPortalURL := p.PortalURL, p.CertPortalURL
	if portalURL == "" {
		portalURL = listenerURL(ln.Portal.Addr(), p.ServerNames)
	}
	if certPortalURL == "" {
		certPortalURL = listenerURL(ln.CertPortal.Addr(), p.ServerNames)
	}
	// The CA's objects, on the portal and on the PKI listener.
	caObjects := pkihttp.New(pkihttp.Config{CAChain: chain, Revocations: s.Revocations, Logger: p.Logger})
	// mount serves the API at /api/, the CA's objects at /pki/ (on the
	// portal only) and the pages elsewhere. On the certificate portal every
	// request first needs an active certificate; a refusal is explained in
	// JSON to the API and on a page to the browser.
	mount := func(l httpedge.Listener) (http.Handler, error) {
		w, err := web.New(web.Config{Listener: l, Identity: s.Identity, Certs: s.Certs, Auth: s.Auth,
			Logins: loginHistory{p.DB}, ServiceHours: p.ServiceHours,
			Banking: s.Banking, Calendar: p.Calendar, Cutoff: p.Cutoff, Hours: p.Hours,
			PortalURL: portalURL, CertPortalURL: certPortalURL, PasswordChecks: checks, Forms: p.DB,
			Logger: p.Logger, Now: p.Now, Rand: p.Rand})
		if err != nil {
			return nil, err
		}
		a := mk(l)
		mux := http.NewServeMux()
		mux.Handle("/api/", a.Handler())
		mux.Handle("/", w.Handler())
		if l != httpedge.CertPortal {
			return countRequests(p.Metrics, "portal", routes{pki: caObjects, api: a, pages: w}, s.serviceHours(caObjects.Mount(mux), a, w)), nil
		}
		mux.Handle(pkihttp.Prefix, http.NotFoundHandler())
		refuse := func(rw http.ResponseWriter, r *http.Request, err error) {
			if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/pki/") {
				a.Refuse(rw, r, err)
				return
			}
			w.RefuseCertificate(rw, r, err)
		}
		verify := func(ctx context.Context, chain []*x509.Certificate) error {
			return verifyPeer(ctx, chain, pool, p.Now, certificateCheck(s.Auth, p.Logger))
		}
		return countRequests(p.Metrics, "cert-portal", routes{api: a, pages: w},
			VerifyForwarded(s.serviceHours(RequireCertificate(mux, s.Auth, "/static/", refuse), a, w), verify, refuse)), nil
	}
	portal, err := mount(httpedge.Portal)
	if err != nil {
		return nil, err
	}
	certPortal, err := mount(httpedge.CertPortal)
	if err != nil {
		return nil, err
	}
	var console http.Handler
	var consoleCheck ConsoleCheck
	var operatorCAs *x509.CertPool
	var consoleURL string
	if ln.Console != nil {
		if s.OperatorCA = p.OperatorCA; s.OperatorCA == nil {
			if s.OperatorCA, err = pki.LoadOperatorCA(p.Authority.Dir); errors.Is(err, pki.ErrNoOperatorCA) {
				return nil, fmt.Errorf("server: the console (console_addr) needs the operator CA, which %s lacks: "+
					"make it with \"kinko ca operator --data DIR --root-dir DIR\" (the root CA's key signs it), "+
					"or leave console_addr empty: %w", p.Authority.Dir, err)
			} else if err != nil {
				return nil, fmt.Errorf("server: the console's operator CA: %w", err)
			}
		}
		if p.Console == nil {
			return nil, errNoConsole
		}
		if consoleURL = p.ConsoleURL; consoleURL == "" {
			consoleURL = listenerURL(ln.Console.Addr(), p.ServerNames)
		}
		if console, consoleCheck, err = p.Console(s, consoleURL); err != nil {
			return nil, err
		}
		if console == nil || consoleCheck == nil {
			return nil, errNoConsole
		}
		var rt routes
		if r, ok := console.(router); ok {
			rt.pages = r
		}
		console = countRequests(p.Metrics, "console", rt, console)
		operatorCAs = s.OperatorCA.Pool()
	}
	trustRequestID := p.TrustRequestID
	if trustRequestID == nil && !p.TrustedProxies.Empty() {
		trustRequestID = httpedge.FromTrustedProxy
	}
	srv := &Server{Services: s, ln: ln, c: handlers{
		Certificate: cert, ClientCAs: pool, Auth: s.Auth,
		Portal: portal, CertPortal: certPortal,
		PKI: countRequests(p.Metrics, "pki", routes{pki: caObjects}, caObjects.Mount(http.NotFoundHandler())),
		Ops: s.opsHandler(), Metrics: p.Metrics,
		Logger: p.Logger, Now: p.Now, Proxies: p.TrustedProxies, Jobs: timedJobs(p.Metrics, s.jobs()),
		RequestIDs: httpedge.RequestIDs{Trusted: trustRequestID, Rand: p.Rand}, ShutdownTimeout: p.ShutdownTimeout,
		Console: console, ConsoleCheck: consoleCheck, OperatorCAs: operatorCAs,
	}, consoleURL: consoleURL}
	srv.serve()
	return srv, nil
}

// mailSenderOf returns the sender of the outbox's mails: over SMTP when
// it is configured, else into MailDir; nil with neither.
func mailSenderOf(p Parts) *notify.Sender {
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

// listenerURL is the https:// address of a listener bound to addr: its IP
// address, or, when it listens on every address (0.0.0.0, ::), the first
// server name (which the server certificate holds), with the port unless
// it is 443.
func listenerURL(addr net.Addr, serverNames []string) string {
	a, ok := addr.(*net.TCPAddr)
	if !ok {
		return "https://localhost"
	}
	host := a.IP.String()
	if a.IP == nil || a.IP.IsUnspecified() {
		host = "localhost"
		if len(serverNames) > 0 {
			host = serverNames[0]
		}
	}
	if a.Port == 443 {
		if strings.Contains(host, ":") {
			return "https://[" + host + "]"
		}
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(a.Port))
}
