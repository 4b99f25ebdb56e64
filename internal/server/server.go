// Package server runs kinko's TLS listeners: the portal, which never asks for
// a client certificate, and the certificate portal, which requires one that
// chains to the client-issuing CA and is, by a database lookup of its exact
// fingerprint, issued, unrevoked, unexpired and held by an active user. The
// check runs in tls.Config.VerifyConnection (called on resumed connections
// too) and again on every request. A third, plain-HTTP listener may serve
// the CA's CRL and OCSP responses, which are signed and public. It also runs
// background jobs and shuts down gracefully. It holds no business rules of
// its own.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

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
}

// Listeners are kinko's open listeners. Listen opens them before anything
// else is built, so that every address is known to what New builds.
type Listeners struct {
	Portal     net.Listener
	CertPortal net.Listener
	PKI        net.Listener
	Ops        net.Listener // nil: no operations listener
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
	return ln, nil
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
	for _, l := range []net.Listener{ln.Portal, ln.CertPortal, ln.PKI, ln.Ops} {
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
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	Now         func() time.Time
	// Jobs run in the background until shutdown.
	Jobs []Job
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
	ops        *http.Server // nil without an operations listener
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
			if err := verifyClientChain(cs.PeerCertificates, clientCAs, now()); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return check(ctx, cs.PeerCertificates[0])
		},
	}
}

// verifyClientChain verifies that certs[0] chains to roots for clientAuth.
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
		return fmt.Errorf("server: client certificate: %w", err)
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
	check := func(ctx context.Context, c *x509.Certificate) error {
		_, _, _, err := s.c.Auth.CheckCertificate(ctx, c)
		if err != nil {
			s.c.Logger.Info("client certificate refused", "serial", fmt.Sprintf("%x", c.SerialNumber), "err", err)
		}
		if explained(err) {
			return nil
		}
		return err
	}
	s.pki = s.httpServer("pki", s.c.PKI, nil)
	s.portal = s.httpServer("portal", s.c.Portal, PortalTLSConfig(s.c.Certificate))
	certTLS := CertPortalTLSConfig(s.c.Certificate, s.c.ClientCAs, s.c.Now, check)
	countRefusals(s.c.Metrics, certTLS)
	s.certPortal = s.httpServer("cert-portal", s.c.CertPortal, certTLS)
	if s.ln.Ops != nil {
		s.ops = s.opsServer()
	}
}

func (s *Server) httpServer(name string, h http.Handler, tc *tls.Config) *http.Server {
	srv := &http.Server{
		Handler:           s.logRequests(name, h),
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	srv.ErrorLog = slog.NewLogLogger(s.c.Logger.Handler(), slog.LevelDebug)
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
	errc := make(chan error, 4)
	go func() { errc <- s.portal.ServeTLS(s.ln.Portal, "", "") }()
	go func() { errc <- s.certPortal.ServeTLS(s.ln.CertPortal, "", "") }()
	go func() { errc <- s.pki.Serve(s.ln.PKI) }()
	if s.ops != nil {
		go func() { errc <- s.ops.Serve(s.ln.Ops) }()
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
	stopJobs()
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, hs := range []*http.Server{s.portal, s.certPortal, s.pki} {
		if err := hs.Shutdown(shutCtx); err != nil {
			s.c.Logger.Warn("shutdown", "err", err)
		}
	}
	wg.Wait()
	if s.ops != nil {
		// Last, so that monitoring sees the server until it is gone.
		if err := s.ops.Shutdown(shutCtx); err != nil {
			s.c.Logger.Warn("shutdown", "err", err)
		}
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
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

// logRequests writes one log line per request and sets the headers every
// response carries.
func (s *Server) logRequests(listener string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		attrs := []any{"listener", listener, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "duration", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			attrs = append(attrs, "client_serial", strings.ToLower(r.TLS.PeerCertificates[0].SerialNumber.Text(16)))
		}
		s.c.Logger.Info("request", attrs...)
	})
}
