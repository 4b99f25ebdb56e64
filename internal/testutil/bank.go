package testutil

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
)

// FastHasher are argon2id parameters that keep tests quick. The real
// parameters are tested in identity and measured by the benchmarks.
var FastHasher = identity.Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Bank is a whole kinko on real TLS listeners on 127.0.0.1, with a fake
// clock that starts at the present second (NewBank) or at a chosen moment
// (NewBankAt), the moment its certificate authority is made.
type Bank struct {
	DB            *store.DB
	Clock         *Clock
	Authority     *pki.Authority
	Services      *server.Services
	PortalURL     string
	CertPortalURL string
	PKIURL        string          // the plain-HTTP listener of the CRL and OCSP
	OpsURL        string          // the plain-HTTP operations listener (/healthz, /readyz, /metrics)
	ConsoleURL    string          // the operator console (an operator certificate of the operator CA required)
	ServerCert    tls.Certificate // the listeners' certificate
	Roots         *x509.CertPool  // trusts the listeners' certificate
	stop          func()
}

// Creds are a user's login ID and passwords.
type Creds struct {
	LoginID      string
	Password     string
	Confirmation string
	Role         identity.Role
}

// Org is an organization made by NewOrg.
type Org struct {
	ID     int64
	Code   string
	Name   string
	Master Creds
}

// AlwaysOpen are service hours with no closing at all, so that tests do
// not depend on the day and hour they run (the default hours close for
// maintenance on the 1st and 3rd Monday night).
var AlwaysOpen = calendar.Hours{Daily: calendar.Span{To: calendar.Clock{Hour: 24}}, Maintenance: []calendar.Window{}}

// NewBank starts a bank on db, open at all hours; it stops when the test
// ends.
func NewBank(t testing.TB, db *store.DB) *Bank {
	t.Helper()
	return NewBankWith(t, db, nil)
}

// NewBankWith starts a bank on db like NewBank, with the parts changed by
// change first.
func NewBankWith(t testing.TB, db *store.DB, change func(*server.Parts)) *Bank {
	t.Helper()
	return NewBankAt(t, db, time.Now(), change)
}

// NewBankAt starts a bank on db like NewBankWith whose clock starts at at
// and whose certificate authority and server certificate are made at that
// moment too. A test that stands at a fixed date makes its bank there:
// a bank made at the real time and then set back would find its own CA
// not yet valid.
func NewBankAt(t testing.TB, db *store.DB, at time.Time, change func(*server.Parts)) *Bank {
	t.Helper()
	at = at.UTC().Truncate(time.Second)
	dir := filepath.Join(t.TempDir(), "pki")
	// The root is limited to the listeners' names, as a bank's is, and
	// its key stays out of the server: only the ceremony reads it.
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko test bank", Now: at, RootDir: filepath.Join(filepath.Dir(dir), "root"),
		ServerNames: []string{"localhost", "127.0.0.1"}}); err != nil {
		t.Fatalf("create authority: %v", err)
	}
	ceremony, err := pki.LoadWithRoot(dir, filepath.Join(filepath.Dir(dir), "root"))
	if err != nil {
		t.Fatalf("load authority with its root key: %v", err)
	}
	serverCert := serverCertificate(t, ceremony, at)
	authority, err := pki.Load(dir)
	if err != nil {
		t.Fatalf("load authority: %v", err)
	}
	clock := NewClock(at)
	parts := server.Parts{
		DB: db, Authority: authority, Now: clock.Now, Hasher: FastHasher, ServerCert: &serverCert,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hours:  AlwaysOpen,
		// Tests send many logins at once from one address to prove the
		// rules of racing requests; the bounds of a flood (a gate of the
		// cores' size, two per address) are the test's to set when it
		// is about them.
		PasswordGate:            identity.NewGate(identity.GateConfig{Procs: 4, Queue: 1000, Wait: time.Minute}),
		PasswordChecksPerClient: 1000,
		Console:                 server.ConsoleHandler(filepath.Join(filepath.Dir(dir), "interbank")),
	}
	if change != nil {
		change(&parts)
	}
	// A change may give the bank another authority (several servers of
	// one bank on one database); without a server certificate of its
	// own, the bank's is then signed by that authority's root.
	if parts.Authority != authority {
		switch {
		case parts.ServerCert != &serverCert:
			// The change gave its own server certificate too.
			authority = parts.Authority
		case parts.Authority.RootKey != nil:
			serverCert, authority = serverCertificate(t, parts.Authority, at), parts.Authority
		default:
			// An authority loaded as a server loads it, without the
			// root's key: the certificate its root signed, with its key
			// as the file has it (a proxy in front may need it too).
			// Without one the listeners keep the test's own server
			// certificate, and the clients trust its root.
			if c, err := tls.LoadX509KeyPair(filepath.Join(parts.Authority.Dir, pki.ServerCertFile),
				filepath.Join(parts.Authority.Dir, pki.ServerKeyFile)); err == nil {
				serverCert, authority = c, parts.Authority
			}
		}
	}
	// The console listens when the bank's authority has an operator CA
	// (every authority pki.Create makes).
	consoleAddr := ""
	if _, err := pki.LoadOperatorCA(parts.Authority.Dir); err == nil || parts.OperatorCA != nil {
		consoleAddr = "127.0.0.1:0"
	}
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0", Ops: "127.0.0.1:0",
		Console: consoleAddr})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv, err := server.New(parts, ln)
	if err != nil {
		ln.Close()
		t.Fatalf("server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	roots := x509.NewCertPool()
	roots.AddCert(authority.Root)
	return &Bank{
		DB: db, Clock: clock, Authority: parts.Authority, Services: srv.Services, Roots: roots, ServerCert: *parts.ServerCert,
		PortalURL: "https://" + srv.PortalAddr().String(), CertPortalURL: "https://" + srv.CertPortalAddr().String(),
		PKIURL: "http://" + srv.PKIAddr().String(), OpsURL: "http://" + srv.OpsAddr().String(), ConsoleURL: srv.ConsoleURL(), stop: stop,
	}
}

// Stop stops the bank's server as a shutdown does: its listeners close,
// the requests in flight are answered, its jobs end. Its database stays.
func (b *Bank) Stop() { b.stop() }

// serverCertificate returns a server certificate for 127.0.0.1 and
// localhost, signed by the bank's root, valid from at for as long as the
// root: a test may move the bank's clock years ahead, and its clients,
// which stand at the bank's time, still trust the server. (A bank's own
// server certificate lives about a year and is made anew at start-up.)
func serverCertificate(t testing.TB, a *pki.Authority, at time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := pki.NewSerial(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: at, NotAfter: a.Root.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Root, key.Public(), a.RootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// NewOrg creates an organization whose master user has known passwords that
// need no change.
func (b *Bank) NewOrg(t testing.TB, name string, certificateLogin bool) Org {
	t.Helper()
	ctx := context.Background()
	loginID := uniqueLoginID("m")
	master := Creds{LoginID: loginID, Password: "Login-" + loginID, Confirmation: "Confirm-" + loginID, Role: identity.RoleMaster}
	org, _, _, err := b.Services.Identity.CreateOrganization(ctx, identity.NewOrganization{
		Name: name, MasterLoginID: loginID, MasterName: "マスター " + loginID, MasterEmail: loginID + "@example.org",
		Passwords: identity.InitialPasswords{Password: master.Password, ConfirmationPassword: master.Confirmation},
	}, "operator:test")
	if err != nil {
		t.Fatalf("create organization: %v", err)
	}
	if certificateLogin {
		if _, err := b.Services.Identity.SetCertificateLogin(ctx, org.Code, true, "operator:test", "REQ-TEST"); err != nil {
			t.Fatalf("enable certificate login: %v", err)
		}
	}
	return Org{ID: org.ID, Code: org.Code, Name: org.Name, Master: master}
}

// NewGeneralUser adds a general user with known passwords that need no change.
func (b *Bank) NewGeneralUser(t testing.TB, org Org) Creds {
	t.Helper()
	ctx := context.Background()
	master, _, err := b.Services.Identity.UserByLoginID(ctx, org.Master.LoginID)
	if err != nil {
		t.Fatalf("master: %v", err)
	}
	loginID := uniqueLoginID("g")
	c := Creds{LoginID: loginID, Password: "Login-" + loginID, Confirmation: "Confirm-" + loginID, Role: identity.RoleGeneral}
	if _, _, err := b.Services.Identity.CreateGeneralUserWithPasswords(ctx, master, loginID, "一般 "+loginID, loginID+"@example.org",
		identity.InitialPasswords{Password: c.Password, ConfirmationPassword: c.Confirmation}); err != nil {
		t.Fatalf("create general user: %v", err)
	}
	return c
}

var loginIDs = make(chan int, 1)

func init() { loginIDs <- 0 }

// uniqueLoginID returns a valid login ID not used before in this process.
func uniqueLoginID(prefix string) string {
	n := <-loginIDs
	loginIDs <- n + 1
	return fmt.Sprintf("%s%07d", prefix, n+1)
}

// NewCSR returns a PEM CSR for key with a subject that the bank must ignore.
func NewCSR(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored", Organization: []string{"ignored"}}}, key)
	if err != nil {
		t.Fatalf("csr: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// IssueCertificate issues a certificate to c through the API with a new
// P-256 key, checks it with zlint, and returns it ready for a TLS client.
func (b *Bank) IssueCertificate(t testing.TB, c Creds) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := b.Client(nil).Portal(http.MethodPost, "/api/v1/certificates", map[string]string{
		"login_id": c.LoginID, "password": c.Password, "csr": NewCSR(t, key)})
	if r.Status != http.StatusCreated {
		t.Fatalf("issue certificate for %s: %d %s", c.LoginID, r.Status, r.Raw)
	}
	return CertificateFromResponse(t, r, key)
}

// CertificateFromResponse turns an issuance response into a TLS client
// certificate with key, after linting it.
func CertificateFromResponse(t testing.TB, r Response, key any) *tls.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(r.String("certificate")))
	if block == nil {
		t.Fatalf("no certificate in response: %s", r.Raw)
	}
	LintCertificate(t, block.Bytes)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf}
}

// Client is an HTTPS client of the bank with its own cookie jar and,
// optionally, a client certificate.
type Client struct {
	HTTP *http.Client
	bank *Bank
}

// Client returns a new client presenting cert (nil: none) that checks the
// server's certificate at the bank's time. Each request opens a new
// connection unless KeepAlive is used.
func (b *Bank) Client(cert *tls.Certificate) *Client {
	jar, _ := cookiejar.New(nil)
	// The client stands at the bank's time, as the bank's own CA and
	// server certificate do.
	tc := &tls.Config{RootCAs: b.Roots, MinVersion: tls.VersionTLS12, Time: b.Clock.Now}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	return &Client{bank: b, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 4}}}
}

// Response is what a request got: a status and a JSON body, or Err when
// the request failed below HTTP (for example a refused client certificate).
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
	Err    error
}

// String returns a top-level string field of the body.
func (r Response) String(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// ErrorCode returns the body's error code.
func (r Response) ErrorCode() string { return r.String("error") }

// Portal sends a request to the portal.
func (c *Client) Portal(method, path string, body any) Response {
	return c.Do(method, c.bank.PortalURL+path, body)
}

// CertPortal sends a request to the certificate portal.
func (c *Client) CertPortal(method, path string, body any) Response {
	return c.Do(method, c.bank.CertPortalURL+path, body)
}

// Do sends a request; a non-nil body is sent as JSON.
func (c *Client) Do(method, url string, body any) Response {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{Err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return Response{Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{Status: resp.StatusCode, Err: err}
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &r.Body)
	}
	return r
}

// CloseIdle closes the client's idle connections, so that the next request
// opens a new TLS connection.
func (c *Client) CloseIdle() { c.HTTP.CloseIdleConnections() }

// LockUser locks a user with wrong login passwords as the certificate
// portal counts them (wrong passwords on the paths without a certificate
// are throttled and never lock).
func (b *Bank) LockUser(t testing.TB, loginID string) {
	t.Helper()
	ctx := context.Background()
	for range identity.LockAfter {
		u, _, err := b.Services.Identity.UserByLoginID(ctx, loginID)
		if err != nil {
			t.Fatalf("lock %s: %v", loginID, err)
		}
		_ = b.Services.Identity.CheckPassword(ctx, u, identity.LoginPassword, "Wrong-password-to-lock1", "certificate login")
	}
	if u, _, err := b.Services.Identity.UserByLoginID(ctx, loginID); err != nil || !u.Locked() {
		t.Fatalf("lock %s: not locked (%v)", loginID, err)
	}
}
