//go:build linux

package browsertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kinko/internal/console"
	"kinko/internal/operators"
	"kinko/internal/pki"
)

// consoleSite is the operator console of a site's bank on a real TLS
// listener (the bank's server certificate) that requires a certificate of
// an operator CA made for the test, with the operators it knows.
type consoleSite struct {
	s      *site
	URL    string
	record func(operators.Staff, *x509.Certificate) // records an operator's certificate
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

// newConsole starts the console of s's bank with operators known by their
// certificates only (browserOperators).
func (s *site) newConsole() *consoleSite {
	s.t.Helper()
	ops := &browserOperators{byCert: map[string]operators.Staff{}}
	return s.newConsoleWith(ops, func(st operators.Staff, c *x509.Certificate) { ops.add(st, pki.Fingerprint(c.Raw)) })
}

// newConsoleWith starts the console of s's bank with the operators ops,
// record recording each operator certificate that operatorP12 makes (the
// operators' service records it with AddCertificate).
func (s *site) newConsoleWith(ops console.Operators, record func(operators.Staff, *x509.Certificate)) *consoleSite {
	s.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kinko test operator CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		s.t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	cs := &consoleSite{s: s, record: record, caCert: ca, caKey: key}
	h, err := console.New(console.Config{
		Identity: s.bank.Services.Identity, Certs: s.bank.Services.Certs, Banking: s.bank.Services.Banking,
		Operators: ops, Store: s.bank.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		s.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{s.bank.ServerCert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	s.t.Cleanup(srv.Close)
	cs.URL = srv.URL
	return cs
}

// operatorP12 makes an operator with a certificate of the test's operator
// CA and returns it as a PKCS#12 file with password.
func (cs *consoleSite) operatorP12(st operators.Staff, password string) string {
	s := cs.s
	s.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: st.DisplayName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, cs.caCert, key.Public(), cs.caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		s.t.Fatal(err)
	}
	cs.record(st, leaf)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		s.t.Fatal(err)
	}
	certFile := filepath.Join(s.dir, st.Name+"-operator.pem")
	keyFile := filepath.Join(s.dir, st.Name+"-operator.key")
	p12 := filepath.Join(s.dir, st.Name+"-operator.p12")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		s.t.Fatal(err)
	}
	run(s.t, "openssl", "pkcs12", "-export", "-in", certFile, "-inkey", keyFile, "-name", st.Name,
		"-out", p12, "-passout", "pass:"+password)
	return p12
}

// browserOperators knows the operators of a browser test by their
// certificates and has no requests: the least the console's reading pages
// need. The operators' service (package operators) is the console's in
// the server.
type browserOperators struct {
	mu     sync.Mutex
	byCert map[string]operators.Staff
	staff  []operators.Staff
}

func (o *browserOperators) add(st operators.Staff, fingerprint string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byCert[fingerprint] = st
	o.staff = append(o.staff, st)
}

func (o *browserOperators) StaffByCertificate(_ context.Context, fingerprint string) (operators.Staff, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	st, ok := o.byCert[fingerprint]
	if !ok {
		return operators.Staff{}, operators.ErrNotFound
	}
	return st, nil
}

func (o *browserOperators) ListStaff(context.Context) ([]operators.Staff, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]operators.Staff(nil), o.staff...), nil
}

func (o *browserOperators) AddStaff(context.Context, operators.NewStaff, string) (operators.Staff, error) {
	return operators.Staff{}, operators.ErrForbidden
}

func (o *browserOperators) File(context.Context, operators.Staff, operators.Kind, string, any) (operators.Request, error) {
	return operators.Request{}, operators.ErrForbidden
}

func (o *browserOperators) Approve(context.Context, operators.Staff, int64) (operators.Request, operators.Outcome, error) {
	return operators.Request{}, operators.Outcome{}, operators.ErrForbidden
}

func (o *browserOperators) Reject(context.Context, operators.Staff, int64, string) (operators.Request, error) {
	return operators.Request{}, operators.ErrForbidden
}

func (o *browserOperators) Get(context.Context, int64) (operators.Request, error) {
	return operators.Request{}, operators.ErrNotFound
}

func (o *browserOperators) List(context.Context, operators.Filter) ([]operators.Request, error) {
	return nil, nil
}

// TestConsoleFindsAnOrganizationByALoginID: an operator with the operator
// certificate in the PC's certificate store (NSS) opens the console,
// searches a user's login ID and reaches the user's organization, shown
// by its code.
func TestConsoleFindsAnOrganizationByALoginID(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "みなと信用組合 事務センター", false)
	other := s.bank.NewOrg(t, "別の協同組合", false)
	user := s.bank.NewGeneralUser(t, org)
	cs := s.newConsole()
	const filePassword = "Operator-File-1"
	p12 := cs.operatorP12(operators.Staff{ID: 1, Name: "tanaka", DisplayName: "田中 一郎", Role: operators.RoleClerk}, filePassword)

	p := s.person(t, "operator")
	p.importP12(p12, filePassword)
	b := p.open()
	b.visit(cs.URL + "/")
	b.wantText("#operator", "田中 一郎", "担当者")
	b.fill("#q", user.LoginID)
	b.submit("#search")
	b.wantText("#results", org.Code, org.Name)
	if b.exists(`a[href="/organizations/` + other.Code + `"]`) {
		b.errorf("the search for %s found %s too", user.LoginID, other.Code)
	}
	b.screenshot("console-search", "")
	b.submit(`a[href="/organizations/` + org.Code + `"]`)
	b.wantAt(cs.URL + "/organizations/" + org.Code)
	b.wantText("#org-code", org.Code)
	b.wantText("#users", org.Master.LoginID, user.LoginID)
	b.screenshot("console-organization", "")

	// Without the operator certificate, the listener refuses the
	// connection in the handshake.
	stranger := s.person(t, "stranger").open()
	ctx, cancel := context.WithTimeout(stranger.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(cs.URL+"/")); err == nil {
		if stranger.exists("#operator") {
			stranger.errorf("the console served a browser without an operator certificate")
		}
	}
}
