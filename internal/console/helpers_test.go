package console_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kinko/internal/console"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// consoleFixture is a bank with the console on a real TLS listener that
// requires a client certificate of a throwaway operator CA, and operators
// of each role with their certificates.
type consoleFixture struct {
	t        *testing.T
	bank     *testutil.Bank
	db       *store.DB
	ops      *testOperators
	srv      *httptest.Server
	caCert   *x509.Certificate
	caKey    *ecdsa.PrivateKey
	clerk    *operatorClient
	approver *operatorClient
	second   *operatorClient // another approver
	auditor  *operatorClient
	issued   [][]byte // PKCS#12 files given by the fake operator CA
}

// operatorClient is a browser of one operator: their certificate and
// their cookies.
type operatorClient struct {
	f     *consoleFixture
	staff operators.Staff
	cert  tls.Certificate
	http  *http.Client
}

// fakeOperatorCertificates stands for the operator CA on the staff page.
type fakeOperatorCertificates struct{ f *consoleFixture }

func (c fakeOperatorCertificates) Issue(_ context.Context, s operators.Staff) ([]byte, string, error) {
	p12 := []byte("PKCS12 of " + s.Name)
	c.f.issued = append(c.f.issued, p12)
	return p12, "file-password-" + s.Name, nil
}

func newFixture(t *testing.T, db *store.DB) *consoleFixture {
	t.Helper()
	return newFixtureAt(t, db, time.Now())
}

// newFixtureAt is newFixture with the bank's clock at at. The operators'
// certificates are valid at the real time, which the TLS handshake uses.
func newFixtureAt(t *testing.T, db *store.DB, at time.Time) *consoleFixture {
	t.Helper()
	bank := testutil.NewBankAt(t, db, at, nil)
	f := &consoleFixture{t: t, bank: bank, db: db}
	f.ops = &testOperators{identity: bank.Services.Identity, certs: bank.Services.Certs, banking: bank.Services.Banking,
		now: bank.Clock.Now, byCert: map[string]int64{}}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test operator CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	f.caCert, _ = x509.ParseCertificate(der)
	f.caKey = key
	h, err := console.New(console.Config{
		Identity: bank.Services.Identity, Certs: bank.Services.Certs, Banking: bank.Services.Banking,
		Operators: f.ops, Store: db, OperatorCertificates: fakeOperatorCertificates{f},
		InterbankDir: t.TempDir(), Now: bank.Clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(f.caCert)
	f.srv = httptest.NewUnstartedServer(h)
	f.srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.clerk = f.operator("tanaka", "田中 一郎", operators.RoleClerk)
	f.approver = f.operator("sato", "佐藤 花子", operators.RoleApprover)
	f.second = f.operator("suzuki", "鈴木 次郎", operators.RoleApprover)
	f.auditor = f.operator("kato", "加藤 三郎", operators.RoleAuditor)
	return f
}

// operator adds an operator with a certificate of the test's operator CA.
func (f *consoleFixture) operator(name, display string, role operators.Role) *operatorClient {
	f.t.Helper()
	s, err := f.ops.AddStaff(context.Background(), operators.NewStaff{Name: name, DisplayName: display, Role: role}, "")
	if err != nil {
		f.t.Fatal(err)
	}
	c := f.client(s.Name)
	f.ops.addCertificate(s.ID, pki.Fingerprint(c.cert.Certificate[0]))
	c.staff = s
	return c
}

// client returns a browser with a new certificate of the operator CA for
// the name (recorded for no one until addCertificate).
func (f *consoleFixture) client(name string) *operatorClient {
	f.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.caCert, key.Public(), f.caKey)
	if err != nil {
		f.t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	jar, _ := cookiejar.New(nil)
	tr := f.srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	return &operatorClient{f: f, cert: cert, http: &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer of the console.
type page struct {
	status int
	body   string
	header http.Header
}

func (c *operatorClient) get(path string) page {
	c.f.t.Helper()
	resp, err := c.http.Get(c.f.srv.URL + path)
	if err != nil {
		c.f.t.Fatalf("GET %s: %v", path, err)
	}
	return read(c.f.t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if m := missingKey.FindString(string(b)); m != "" {
		t.Errorf("%s %s shows a message missing from the catalogue: %s", resp.Request.Method, resp.Request.URL.Path, m)
	}
	return page{status: resp.StatusCode, body: string(b), header: resp.Header}
}

// missingKey is how a page shows a key the catalogue does not have.
var missingKey = regexp.MustCompile(`\[[a-z_]+(\.[A-Za-z_]+)+\]`)

var tokenField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// token returns the form token of the operator's session (from a page).
func (c *operatorClient) token() string {
	c.f.t.Helper()
	p := c.get("/file/limit_set")
	m := tokenField.FindStringSubmatch(p.body)
	if m == nil {
		p = c.get("/staff")
		if m = tokenField.FindStringSubmatch(p.body); m == nil {
			return "none-on-the-pages" // an auditor's pages have no form
		}
	}
	return m[1]
}

// post sends a form with the session's form token.
func (c *operatorClient) post(path string, form url.Values) page {
	c.f.t.Helper()
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", c.token())
	}
	return c.postRaw(path, form)
}

// postRaw sends a form as it is.
func (c *operatorClient) postRaw(path string, form url.Values) page {
	c.f.t.Helper()
	resp, err := c.http.PostForm(c.f.srv.URL+path, form)
	if err != nil {
		c.f.t.Fatalf("POST %s: %v", path, err)
	}
	return read(c.f.t, resp)
}

// mustContain fails unless the page holds every text.
func (p page) mustContain(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("the page (status %d) does not contain %q:\n%s", p.status, s, excerpt(p.body))
		}
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000]
	}
	return s
}

// lastRequest returns the newest request.
func (f *consoleFixture) lastRequest() operators.Request {
	f.t.Helper()
	list, _ := f.ops.List(context.Background(), operators.Filter{Limit: 1})
	if len(list) == 0 {
		f.t.Fatal("no request")
	}
	return list[0]
}

// fingerprintOf is the fingerprint of a client's certificate.
func fingerprintOf(c *operatorClient) string { return pki.Fingerprint(c.cert.Certificate[0]) }

// fingerprintDER is the fingerprint of a certificate.
func fingerprintDER(der []byte) string { return pki.Fingerprint(der) }
