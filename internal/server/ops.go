package server

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/metrics"
)

// The operations listener: plain HTTP, for the bank's monitoring on a
// private network, never on the public listeners. /healthz says that the
// process lives; /readyz whether this server can serve (its database
// answers with the schema this binary knows, the issuing CA's key signs,
// the holiday calendar covers today); /metrics the Prometheus metrics
// (package metrics).

// opsServer is the operations listener's HTTP server. Its requests are
// not logged: monitoring and load balancers poll it every few seconds.
func (s *Server) opsServer() *http.Server {
	srv := &http.Server{
		Handler:           s.c.Ops,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	srv.ErrorLog = slog.NewLogLogger(s.c.Logger.Handler(), slog.LevelDebug)
	return srv
}

// readyTimeout bounds the checks of one /readyz.
const readyTimeout = 5 * time.Second

// opsHandler serves the operations listener.
func (s *Services) opsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		checks, ready := s.Readiness(ctx)
		status := http.StatusOK
		if !ready {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Cache-Control", "no-store")
		httpedge.WriteJSON(w, status, struct {
			Ready  bool              `json:"ready"`
			Checks map[string]string `json:"checks"`
		}{ready, checks})
	})
	mux.Handle("GET /metrics", s.Parts.Metrics.Handler())
	return mux
}

// Readiness runs the checks of /readyz: each check's name and "ok", or
// what is wrong; ready when every check is ok. A holiday calendar that
// lacks only a later year is ready with a warning.
func (s *Services) Readiness(ctx context.Context) (map[string]string, bool) {
	checks := map[string]string{}
	ready := true
	put := func(name string, err error) {
		if err != nil {
			checks[name] = err.Error()
			ready = false
			return
		}
		checks[name] = "ok"
	}
	p := s.Parts
	put("database", p.DB.SQL().PingContext(ctx))
	put("schema", s.checkSchema(ctx))
	put("signing", s.checkSigning())
	err := p.Calendar.Coverage(calendar.DateOf(p.Now()))
	if ce, ok := errors.AsType[*calendar.CoverageError](err); ok && !ce.Urgent() {
		checks["calendar"] = "warning: " + err.Error()
	} else {
		put("calendar", err)
	}
	return checks, ready
}

// checkSchema checks that every migration this binary embeds is applied,
// and no newer one.
func (s *Services) checkSchema(ctx context.Context) error {
	db := s.Parts.DB
	known, count, err := db.KnownSchemaVersion()
	if err != nil {
		return err
	}
	have, applied, err := db.AppliedMigrations(ctx)
	if err != nil {
		return err
	}
	if have != known || applied != count {
		return fmt.Errorf("database schema %d (%d migrations applied), this binary's %d (%d migrations)", have, applied, known, count)
	}
	return nil
}

// readyDigest is what the signing check signs.
var readyDigest = sha256.Sum256([]byte("kinko readiness"))

// checkSigning signs a test digest with the issuing CA's key and verifies
// the signature with its certificate's public key.
func (s *Services) checkSigning() error {
	a := s.Parts.Authority
	if a == nil || a.IssuingKey == nil {
		return errors.New("no issuing key")
	}
	var opts crypto.SignerOpts = crypto.SHA256
	msg := readyDigest[:]
	if _, ok := a.Issuing.PublicKey.(ed25519.PublicKey); ok {
		opts = crypto.Hash(0) // Ed25519 signs the message itself
	}
	sig, err := a.IssuingKey.Sign(s.Parts.Rand, msg, opts)
	if err != nil {
		return fmt.Errorf("issuing key: sign: %w", err)
	}
	ok := false
	switch pub := a.Issuing.PublicKey.(type) {
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, msg, sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, msg, sig) == nil || rsa.VerifyPSS(pub, crypto.SHA256, msg, sig, nil) == nil
	case ed25519.PublicKey:
		ok = ed25519.Verify(pub, msg, sig)
	default:
		return fmt.Errorf("issuing key: unknown key type %T", pub)
	}
	if !ok {
		return errors.New("issuing key: the signature does not verify with the issuing CA's certificate")
	}
	return nil
}

// result is an outcome's metrics label: metrics.OK, or the API error code
// of err (docs/api.md), a bounded set.
func result(err error) string {
	if err == nil {
		return metrics.OK
	}
	return httpedge.RefusalOf(err).Code
}

// registerMetrics adds to the server's metrics the figures read when scraped: the
// database pool, the mail outbox's backlog and the password-check queue.
func (s *Services) registerMetrics() error {
	p := s.Parts
	gate := p.PasswordGate
	if err := p.Metrics.Register(metrics.DBPool(p.DB.SQL().Stats)); err != nil {
		return fmt.Errorf("server: metrics: %w", err)
	}
	if err := p.Metrics.Register(metrics.Outbox(p.DB.OutboxBacklog, p.Now)); err != nil {
		return fmt.Errorf("server: metrics: %w", err)
	}
	err := p.Metrics.Register(metrics.PasswordGate(func() metrics.GateStats {
		g := gate.Stats()
		return metrics.GateStats{Slots: g.Slots, Running: g.Running, Waiting: g.Waiting, Refused: g.Refused}
	}))
	if err != nil {
		return fmt.Errorf("server: metrics: %w", err)
	}
	return nil
}

// timedJobs returns jobs whose runs are counted and timed in m.
func timedJobs(m *metrics.Metrics, jobs []Job) []Job {
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		run := j.Run
		j.Run = func(ctx context.Context) error {
			start := time.Now()
			err := run(ctx)
			if ctx.Err() == nil {
				m.JobRun(j.Name, err, time.Since(start))
			}
			return err
		}
		out[i] = j
	}
	return out
}

// router gives the route pattern that serves a request (web, api and
// pkihttp have one each).
type router interface {
	Route(r *http.Request) string
}

// routes say which route of a listener serves a request: the CA's objects
// under /pki/ (nil: none there), the API under /api/, the pages elsewhere
// (nil: none).
type routes struct {
	pki, api, pages router
}

func (rt routes) of(r *http.Request) string {
	var h router
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/pki/"):
		h = rt.pki
	case strings.HasPrefix(p, "/api/"):
		h = rt.api
	default:
		h = rt.pages
	}
	if h == nil {
		return "unmatched"
	}
	if pattern := h.Route(r); pattern != "" {
		return pattern
	}
	return "unmatched"
}

// countRequests counts each request that h answers on listener in m, by
// its route pattern (never its path, which has no bound) and status,
// with its duration.
func countRequests(m *metrics.Metrics, listener string, rt routes, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := rt.of(r)
		sw := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		m.Request(listener, route, status, time.Since(start))
	})
}

// statusRecorder keeps the status of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer beneath.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countRefusals makes the certificate portal's VerifyConnection count
// each handshake it refuses in m, by reason: the chain's fault (an
// unknown authority, a certificate not for client authentication...) or
// the API error code of the database check's refusal.
func countRefusals(m *metrics.Metrics, tc *tls.Config) {
	verify := tc.VerifyConnection
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		err := verify(cs)
		if err != nil {
			m.HandshakeRefused(refusalReason(err))
		}
		return err
	}
}

// refusalReason names why a handshake was refused, from a bounded set.
func refusalReason(err error) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hu x509.HostnameError
	switch {
	case errors.As(err, &ua):
		return "unknown_authority"
	case errors.As(err, &ci):
		switch ci.Reason {
		case x509.Expired:
			return "chain_expired"
		case x509.IncompatibleUsage:
			return "incompatible_usage"
		default:
			return "invalid_chain"
		}
	case errors.As(err, &hu):
		return "invalid_chain"
	}
	return result(err)
}

// loggedIn, issued and revoked count the services' outcomes in the
// metrics, if any.
func (p Parts) loggedIn() func(string, error) {
	if p.Metrics == nil {
		return nil
	}
	return func(channel string, err error) { p.Metrics.Login(channel, result(err)) }
}

func (p Parts) issued() func(string, error) {
	if p.Metrics == nil {
		return nil
	}
	return func(kind string, err error) { p.Metrics.Issuance(kind, result(err)) }
}

func (p Parts) revoked() func(string, error) {
	if p.Metrics == nil {
		return nil
	}
	return func(by string, err error) { p.Metrics.Revocation(by, result(err)) }
}
