// Package server runs kinko's TLS listeners: the portal, which never asks for
// a client certificate, and the certificate portal, which requires one that
// chains to the client-issuing CA and is, by a database lookup of its exact
// fingerprint, issued, unrevoked, unexpired and held by an active user. The
// check runs in tls.Config.VerifyConnection (called on resumed connections
// too) and again on every request. The operator console, when it has an
// address, is a TLS listener of its own whose handshake requires an
// operator's certificate of the operator CA (console.go). A plain-HTTP
// listener may serve the CA's CRL and OCSP responses, which are signed and
// public. It also runs background jobs and shuts down gracefully. It holds
// no business rules of its own.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pires/go-proxyproto"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/metrics"
)

// Addrs are the addresses of the listeners; port 0 takes any free port.
type Addrs struct {
	Portal     string
	CertPortal string
	// PKI is the plain-HTTP listener of the CA's signed public objects
	// (CRL, OCSP): relying parties fetch them over HTTP (RFC 5280
	// 4.2.1.13, RFC 6960). Empty: the portal's host with port 0.
	PKI string
	// Ops is the plain-HTTP operations listener (/healthz, /readyz,
	// /metrics; ops.go), for a private network. Empty: none.
	Ops string
	// Console is the operator console's TLS listener (console.go). Empty:
	// none.
	Console string
}

// Listeners are kinko's open listeners. Listen opens them before anything
// else is built, so that every address is known to what New builds.
type Listeners struct {
	Portal     net.Listener
	CertPortal net.Listener
	PKI        net.Listener
	Ops        net.Listener // nil: no operations listener
	Console    net.Listener // nil: no operator console
}

// Listen opens the listeners at a.
func Listen(a Addrs) (*Listeners, error) {
	pkiAddr := a.PKI
	if pkiAddr == "" {
		host, _, err := net.SplitHostPort(a.Portal)
		if err != nil {
			return nil, fmt.Errorf("server: portal address %q: %w", a.Portal, err)
		}
		pkiAddr = net.JoinHostPort(host, "0")
	}
	ln := &Listeners{}
	var err error
	if ln.Portal, err = net.Listen("tcp", a.Portal); err != nil {
		return nil, fmt.Errorf("server: portal listener: %w", err)
	}
	if ln.CertPortal, err = net.Listen("tcp", a.CertPortal); err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: certificate portal listener: %w", err)
	}
	if ln.PKI, err = net.Listen("tcp", pkiAddr); err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: pki listener: %w", err)
	}
	if a.Ops != "" {
		if ln.Ops, err = net.Listen("tcp", a.Ops); err != nil {
			ln.Close()
			return nil, fmt.Errorf("server: operations listener: %w", err)
		}
	}
	if a.Console != "" {
		if ln.Console, err = net.Listen("tcp", a.Console); err != nil {
			ln.Close()
			return nil, fmt.Errorf("server: console listener: %w", err)
		}
	}
	return ln, nil
}

// proxyProtocol wraps l so that a connection from a trusted proxy must
// begin with a PROXY protocol header (v1 or v2), whose source address then
// is the connection's RemoteAddr (and so every request's RemoteAddr and
// httpedge.ClientAddress); a connection from anywhere else that begins
// with one is refused, and one that does not is served as it is. The
// header is read, with a deadline, by the connection's own goroutine, not
// by Accept.
func proxyProtocol(l net.Listener, trusted httpedge.Proxies) net.Listener {
	return &proxyproto.Listener{
		Listener:          l,
		ReadHeaderTimeout: 10 * time.Second,
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if trusted.TrustsAddr(o.Upstream) {
				return proxyproto.REQUIRE, nil
			}
			return proxyproto.REJECT, nil
		},
	}
}

// OpsAddr returns the operations listener's bound address; nil without
// one.
func (s *Server) OpsAddr() net.Addr {
	if s.ln.Ops == nil {
		return nil
	}
	return s.ln.Ops.Addr()
}

// Close closes the listeners that are open.
func (ln *Listeners) Close() {
	for _, l := range []net.Listener{ln.Portal, ln.CertPortal, ln.PKI, ln.Ops, ln.Console} {
		if l != nil {
			l.Close()
		}
	}
}

// handlers are what a Server serves on its listeners.
type handlers struct {
	Certificate tls.Certificate // the listeners' server certificate
	ClientCAs   *x509.CertPool  // the client-issuing CA only
	Auth        *auth.Manager
	Portal      http.Handler
	CertPortal  http.Handler
	PKI         http.Handler
	Ops         http.Handler // the operations listener's (ops.go)
	// Console is the operator console's handler, ConsoleCheck the check
	// of an operator's certificate in its handshakes, OperatorCAs the
	// operator CA alone; unused without a console listener.
	Console      http.Handler
	ConsoleCheck ConsoleCheck
	OperatorCAs  *x509.CertPool
	Metrics      *metrics.Metrics
	Logger       *slog.Logger
	Now          func() time.Time
	Proxies      httpedge.Proxies // the trusted proxies
	// Jobs run in the background until shutdown.
	Jobs []Job
	// RequestIDs gives every request of every listener its ID.
	RequestIDs httpedge.RequestIDs
	// ShutdownTimeout bounds the wait for the requests in flight at
	// shutdown; zero: DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server is kinko on its listeners: the services, the HTTP servers of
// the three listeners, and the background jobs.
type Server struct {
	// Services are the domain services the listeners serve.
	Services   *Services
	c          handlers
	ln         *Listeners
	portal     *http.Server
	certPortal *http.Server
	pki        *http.Server
	// cert is the listeners' server certificate (SetCertificate).
	cert atomic.Pointer[tls.Certificate]
	// inFlight counts the requests being served, on every listener.
	inFlight atomic.Int64
	ops      *http.Server // nil without an operations listener
	// console is the operator console's server, nil without one;
	// consoleURL its address as operators reach it.
	console    *http.Server
	consoleURL string
}

// AEADCipherSuites are the TLS 1.2 suites every listener offers: ECDHE
// with an AEAD only (AES-GCM, ChaCha20-Poly1305). Go's default list also
// has the CBC suites (ECDHE-ECDSA-AES128-SHA, AES256-SHA...), open to
// padding-oracle and Lucky13-style attacks and without forward secrecy for
// the RSA ones. TLS 1.3 suites are not configurable and all AEAD.
var AEADCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// PortalTLSConfig is the portal's TLS configuration: TLS 1.2+ with AEAD
// suites only, no client certificate.
func PortalTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: AEADCipherSuites,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.NoClientCert,
	}
}

// CertPortalTLSConfig is the certificate portal's TLS configuration: TLS
// 1.2+ with AEAD suites only (AEADCipherSuites), a client certificate asked for (naming clientCAs) but not required,
// so that a person whose browser has none, or one that is revoked or
// expired, gets a page that says so instead of a browser error. A
// certificate that is presented must chain to clientCAs for clientAuth (its
// own expiry aside: that one is explained too), or the handshake fails; then
// check looks it up in the database, and fails the handshake for a
// certificate the bank never issued. VerifyConnection runs on resumed
// connections too. Every request is checked again (RequireCertificate).
func CertPortalTLSConfig(cert tls.Certificate, clientCAs *x509.CertPool, now func() time.Time, check func(context.Context, *x509.Certificate) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: AEADCipherSuites,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    clientCAs,
		Time:         now,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil // explained by RequireCertificate
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return verifyPeer(ctx, cs.PeerCertificates, clientCAs, now, check)
		},
	}
}

// verifyPeer is the certificate portal's check of a client certificate
// and the certificates sent with it, leaf first, whether from a handshake
// or from a trusted proxy: the chain to clientCAs for clientAuth
// (verifyClientChain), then check.
func verifyPeer(ctx context.Context, chain []*x509.Certificate, clientCAs *x509.CertPool, now func() time.Time, check func(context.Context, *x509.Certificate) error) error {
	if err := verifyClientChain(chain, clientCAs, now()); err != nil {
		return err
	}
	return check(ctx, chain[0])
}

// VerifyForwarded wraps the certificate portal's handler: a client
// certificate that a trusted proxy forwarded (httpedge.Proxies) gets, on
// every request, exactly the checks that the certificate portal's
// VerifyConnection gives a handshake's certificate (verifyPeer with the
// same clientCAs and check); where a handshake would fail, the request is
// refused with that error (auth.ErrUnknownCertificate, or the database's
// error), and a Client-Cert that is not a certificate with
// auth.ErrUnknownCertificate. What a handshake lets through and RequireCertificate
// explains (no certificate, revoked, expired...) goes on to it. Requests
// that did not come from a trusted proxy were checked by their handshake.
func VerifyForwarded(h http.Handler, verify func(context.Context, []*x509.Certificate) error, refuse func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpedge.FromTrustedProxy(r) {
			h.ServeHTTP(w, r)
			return
		}
		chain, err := httpedge.CertPortal.PeerChain(r)
		if err != nil {
			err = fmt.Errorf("%w: %w", auth.ErrUnknownCertificate, err)
		} else if len(chain) > 0 {
			err = verify(r.Context(), chain)
		}
		if err != nil {
			refuse(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// certificateCheck is the database check of a client certificate that
// has a chain to the client-issuing CA, as the handshake runs it: an error
// for a certificate the bank did not issue; nil for one that
// RequireCertificate refuses with an explanation (explained).
func certificateCheck(a *auth.Manager, logger *slog.Logger) func(context.Context, *x509.Certificate) error {
	return func(ctx context.Context, c *x509.Certificate) error {
		_, _, _, err := a.CheckCertificate(ctx, c)
		switch {
		case err == nil:
			return nil
		case explained(err):
			// The handshake (or the forwarded request) goes on: the
			// request is refused with a page.
			logger.InfoContext(ctx, "client certificate refused", "serial", fmt.Sprintf("%x", c.SerialNumber), "err", err)
			return nil
		}
		// The handshake fails: its log (handshakeLog) names the serial,
		// at a bounded rate.
		return fmt.Errorf("%sserial %x: %w", unknownPrefix, c.SerialNumber, err)
	}
}

// verifyClientChain verifies that certs[0] chains to roots for clientAuth;
// a certificate that does not is auth.ErrUnknownCertificate.
// The leaf is verified at now, or, when now lies outside its validity, at
// the nearest instant inside it: a certificate past its notAfter is still
// recognized as ours, and refused with an explanation per request.
func verifyClientChain(certs []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	leaf := certs[0]
	at := now
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	if at.Before(leaf.NotBefore) {
		at = leaf.NotBefore
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return fmt.Errorf("%s%w: %w", untrustedPrefix, auth.ErrUnknownCertificate, err)
	}
	return nil
}

// explained reports whether a refusal of a certificate is one that the
// certificate portal explains to its holder on a page, rather than by
// failing the handshake: no certificate, or one of ours that is revoked,
// expired, not yet valid or held by a locked or deleted user.
func explained(err error) bool {
	for _, e := range []error{auth.ErrCertificateRequired, auth.ErrCertificateRevoked, auth.ErrCertificateExpired,
		auth.ErrCertificateNotYetValid, auth.ErrUserUnavailable} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// RequireCertificate wraps the certificate portal's handler: every request
// must come on a connection whose certificate is issued, unrevoked,
// unexpired and held by an active user, checked in the database each time
// (so a revocation takes effect on connections opened before it). A
// request with a session bound to the connection's certificate proves that
// with the session's own read (auth.Manager.Authenticate checks the same
// record by the exact fingerprint), whose principal then goes on in the
// request's context; any other request is checked by the certificate
// alone. Requests that fail get refuse, which explains why; the portal's
// static files (staticPrefix, if not empty) are served to all, so that the
// explanation has its styles.
func RequireCertificate(h http.Handler, a *auth.Manager, staticPrefix string, refuse func(http.ResponseWriter, *http.Request, error)) http.Handler {
	sessions := httpedge.Sessions{Listener: httpedge.CertPortal, Auth: a}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if staticPrefix != "" && strings.HasPrefix(r.URL.Path, staticPrefix) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			h.ServeHTTP(w, r)
			return
		}
		peer := httpedge.CertPortal.PeerCertificate(r)
		if p, err := sessions.Principal(r); err == nil && p.Certificate != nil && peer != nil {
			h.ServeHTTP(w, r.WithContext(httpedge.WithPrincipal(r.Context(), p)))
			return
		}
		if _, _, _, err := a.CheckCertificate(r.Context(), peer); err != nil {
			refuse(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serve sets up the HTTP servers of the listeners.
func (s *Server) serve() {
	check := certificateCheck(s.c.Auth, s.c.Logger)
	// The certificate is the one of the moment (SetCertificate).
	s.SetCertificate(s.c.Certificate)
	portal := PortalTLSConfig(s.c.Certificate)
	certPortal := CertPortalTLSConfig(s.c.Certificate, s.c.ClientCAs, s.c.Now, check)
	for _, tc := range []*tls.Config{portal, certPortal} {
		tc.Certificates, tc.GetCertificate = nil, s.certificate
	}
	s.pki = s.httpServer("pki", s.c.PKI, nil)
	s.portal = s.httpServer("portal", s.c.Portal, portal)
	countRefusals(s.c.Metrics, certPortal)
	s.certPortal = s.httpServer("cert-portal", s.c.CertPortal, certPortal)
	if s.ln.Ops != nil {
		s.ops = s.opsServer()
	}
	if s.ln.Console != nil {
		console := ConsoleTLSConfig(s.c.Certificate, s.c.OperatorCAs, s.c.Now, s.c.ConsoleCheck)
		console.Certificates, console.GetCertificate = nil, s.certificate
		s.console = s.httpServer("console", consoleHeaders(s.c.Console), console)
	}
}

func (s *Server) httpServer(name string, h http.Handler, tc *tls.Config) *http.Server {
	srv := &http.Server{
		// The trusted proxies' headers are read, and everyone else's
		// removed, before anything else sees the request; then it gets
		// its ID.
		Handler:           s.c.Proxies.Handler(s.c.RequestIDs.Handler(s.logRequests(name, h))),
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	// crypto/tls's errors reach the log through http.Server's ErrorLog.
	srv.ErrorLog = log.New(newHandshakeLog(s.c.Logger, name, time.Now), "", 0)
	return srv
}

// PortalAddr returns the portal's bound address.
func (s *Server) PortalAddr() net.Addr { return s.ln.Portal.Addr() }

// CertPortalAddr returns the certificate portal's bound address.
func (s *Server) CertPortalAddr() net.Addr { return s.ln.CertPortal.Addr() }

// PKIAddr returns the plain-HTTP PKI listener's bound address.
func (s *Server) PKIAddr() net.Addr { return s.ln.PKI.Addr() }

// Close closes the listeners of a server that is not serving; Serve
// closes them itself when it ends.
func (s *Server) Close() { s.ln.Close() }

// Serve serves until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 5)
	go func() { errc <- s.portal.ServeTLS(s.ln.Portal, "", "") }()
	go func() { errc <- s.certPortal.ServeTLS(s.ln.CertPortal, "", "") }()
	go func() { errc <- s.pki.Serve(s.ln.PKI) }()
	if s.ops != nil {
		go func() { errc <- s.ops.Serve(s.ln.Ops) }()
	}
	if s.console != nil {
		go func() { errc <- s.console.ServeTLS(s.ln.Console, "", "") }()
	}
	var wg sync.WaitGroup
	jobCtx, stopJobs := context.WithCancel(ctx)
	for _, j := range s.c.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runJob(jobCtx, j)
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.shutdown(stopJobs, &wg)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// DefaultShutdownTimeout is how long a shutdown waits for the requests in
// flight when Parts.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 30 * time.Second

// shutdown stops accepting connections, lets the requests in flight finish
// within the shutdown timeout (cutting off those still running then),
// stops the jobs and waits for them, and logs what it did: how many
// requests were in flight, how long it took, whether it timed out.
func (s *Server) shutdown(stopJobs func(), jobs *sync.WaitGroup) {
	start := time.Now()
	timeout := s.c.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	inFlight := s.inFlight.Load()
	s.c.Logger.Info("shutting down", "in_flight", inFlight, "timeout", timeout)
	stopJobs()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	servers := []*http.Server{s.portal, s.certPortal, s.pki}
	if s.console != nil {
		servers = append(servers, s.console)
	}
	errs := make(chan error, len(servers))
	for _, hs := range servers {
		go func() { errs <- hs.Shutdown(ctx) }()
	}
	timedOut := false
	for range servers {
		if err := <-errs; err != nil {
			timedOut = true
		}
	}
	cutOff := s.inFlight.Load()
	if timedOut {
		for _, hs := range servers {
			hs.Close()
		}
	}
	jobs.Wait()
	if s.ops != nil {
		// Last, so that monitoring sees the server until it is gone.
		if err := s.ops.Shutdown(ctx); err != nil {
			s.ops.Close()
		}
	}
	attrs := []any{"in_flight", inFlight, "duration", time.Since(start).Round(time.Millisecond), "timed_out", timedOut}
	if timedOut {
		s.c.Logger.Warn("shut down: requests cut off at the timeout", append(attrs, "cut_off", cutOff)...)
		return
	}
	s.c.Logger.Info("shut down", attrs...)
}

func (s *Server) runJob(ctx context.Context, j Job) {
	t := time.NewTicker(j.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := j.Run(ctx); err != nil && ctx.Err() == nil {
				s.c.Logger.Error("job failed", "job", j.Name, "err", err)
			}
		}
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logRequests writes one log line per request, with the request's ID
// (RequestIDs runs before it), and sets the headers every response
// carries.
func (s *Server) logRequests(listener string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		attrs := []any{"listener", listener, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "duration", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr,
			"client", httpedge.ClientAddress(r)}
		if c := httpedge.CertPortal.PeerCertificate(r); c != nil && listener == "cert-portal" {
			attrs = append(attrs, "client_serial", strings.ToLower(c.SerialNumber.Text(16)))
		}
		if listener == "console" {
			if c := httpedge.Console.PeerCertificate(r); c != nil {
				attrs = append(attrs, "operator", c.Subject.CommonName, "client_serial", strings.ToLower(c.SerialNumber.Text(16)))
			}
		}
		s.c.Logger.InfoContext(r.Context(), "request", attrs...)
	})
}
