package e2e_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/testutil"
)

// Paths of the API used throughout.
const (
	pathSessions     = "/api/v1/sessions"
	pathSession      = "/api/v1/sessions/current"
	pathCertificates = "/api/v1/certificates"
	pathMe           = "/api/v1/me"
	pathUsers        = "/api/v1/users"
)

func revocationPath(loginID string) string {
	return "/api/v1/users/" + loginID + "/certificate/revocation"
}
func unlockPath(loginID string) string { return "/api/v1/users/" + loginID + "/unlock" }

// expect fails the test unless r is an HTTP answer with status and error
// code ("" for an answer without one).
func expect(t testing.TB, what string, r testutil.Response, status int, code string) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: request failed below HTTP: %v (want %d %q)", what, r.Err, status, code)
	}
	if r.Status != status || r.ErrorCode() != code {
		t.Fatalf("%s: got %d %q, want %d %q; body %s", what, r.Status, r.ErrorCode(), status, code, r.Raw)
	}
}

// expectRefusedTLS fails the test unless the request failed below HTTP, as
// it does when the certificate portal refuses the client certificate.
func expectRefusedTLS(t testing.TB, what string, r testutil.Response) {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("%s: got HTTP %d %s, want the TLS connection refused", what, r.Status, r.Raw)
	}
}

// newKey returns a new P-256 key, as a user's PC makes one.
func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// issue asks the portal for a certificate for c with a new key. On 201 it
// also returns the certificate, linted, ready for a TLS client.
func issue(t testing.TB, b *testutil.Bank, c testutil.Creds) (testutil.Response, *tls.Certificate) {
	t.Helper()
	key := newKey(t)
	r := b.Client(nil).Portal(http.MethodPost, pathCertificates, map[string]string{
		"login_id": c.LoginID, "password": c.Password, "csr": testutil.NewCSR(t, key)})
	if r.Status != http.StatusCreated {
		return r, nil
	}
	return r, testutil.CertificateFromResponse(t, r, key)
}

// certLogin logs c in on the certificate portal with cert and returns the
// client that holds the session.
func certLogin(t testing.TB, b *testutil.Bank, cert *tls.Certificate, c testutil.Creds) *testutil.Client {
	t.Helper()
	cl := b.Client(cert)
	expect(t, "certificate login of "+c.LoginID, cl.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": c.Password}), http.StatusCreated, "")
	return cl
}

// passwordLogin logs c in on the portal with login ID and password and
// returns the client that holds the session.
func passwordLogin(t testing.TB, b *testutil.Bank, c testutil.Creds) *testutil.Client {
	t.Helper()
	cl := b.Client(nil)
	expect(t, "password login of "+c.LoginID, cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": c.LoginID, "password": c.Password}), http.StatusCreated, "")
	return cl
}

// revoke has the master, logged in with cl, revoke target's certificate.
func revoke(cl *testutil.Client, master testutil.Creds, target, reason string) testutil.Response {
	return cl.CertPortal(http.MethodPost, revocationPath(target), map[string]string{"reason": reason, "confirmation_password": master.Confirmation})
}

// serialOf returns the serial of a certificate as the API writes it.
func serialOf(c *tls.Certificate) string { return strings.ToLower(c.Leaf.SerialNumber.Text(16)) }

// keepAlive makes cl use one connection per listener, opened once and
// reused, and returns the number of connections it has dialled.
func keepAlive(cl *testutil.Client) *atomic.Int32 {
	var dials atomic.Int32
	tr := cl.HTTP.Transport.(*http.Transport)
	tr.MaxConnsPerHost = 1
	d := &net.Dialer{Timeout: 10 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	return &dials
}

// send sends a request with a raw body and extra headers through cl.
func send(cl *testutil.Client, method, url string, body []byte, header map[string]string) testutil.Response {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return testutil.Response{Err: err}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return testutil.Response{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	r := testutil.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw, Err: err}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &r.Body)
	}
	return r
}

// jsonBody encodes v.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cookie returns the value of the cookie name that cl holds for base.
func cookie(t testing.TB, cl *testutil.Client, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cl.HTTP.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no cookie %s for %s", name, base)
	return ""
}

// user returns the stored user of a login ID.
func user(t testing.TB, b *testutil.Bank, loginID string) identity.User {
	t.Helper()
	u, _, err := b.Services.Identity.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatalf("user %s: %v", loginID, err)
	}
	return u
}

// activeCertificates returns the organization's certificates that are
// issued, unrevoked and unexpired on the bank's clock.
func activeCertificates(t testing.TB, b *testutil.Bank, orgID int64) []certs.Certificate {
	t.Helper()
	list, err := b.Services.Certs.List(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	now := b.Clock.Now()
	var out []certs.Certificate
	for _, c := range list {
		if c.Active(now) {
			out = append(out, c)
		}
	}
	return out
}

// certificateOfMe returns the certificate object of a GET /api/v1/me answer.
func certificateOfMe(t testing.TB, r testutil.Response) map[string]any {
	t.Helper()
	expect(t, "GET /api/v1/me", r, http.StatusOK, "")
	c, ok := r.Body["certificate"].(map[string]any)
	if !ok {
		t.Fatalf("GET /api/v1/me: no certificate object: %s", r.Raw)
	}
	return c
}

// verifiedByIssuingCA returns nil when leaf chains to the bank's issuing CA
// as a client certificate at now.
func verifiedByIssuingCA(b *testutil.Bank, leaf *x509.Certificate, now time.Time) error {
	pool := x509.NewCertPool()
	pool.AddCert(b.Authority.Issuing)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err
}

// sessionCookieSet returns the first Set-Cookie header of r that sets a
// cookie rather than clearing one ("" when none does).
func sessionCookieSet(r testutil.Response) string {
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || (c.Value != "" && c.MaxAge >= 0) {
			return line
		}
	}
	return ""
}

// expectSessionRefused fails the test unless a session's request after its
// certificate was revoked is refused: its session ended (401
// unauthenticated) or its certificate was found revoked (403
// certificate_revoked).
func expectSessionRefused(t testing.TB, what string, r testutil.Response) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: request failed below HTTP: %v", what, r.Err)
	}
	switch {
	case r.Status == http.StatusUnauthorized && r.ErrorCode() == "unauthenticated":
	case r.Status == http.StatusForbidden && r.ErrorCode() == "certificate_revoked":
	default:
		t.Fatalf("%s: got %d %q, want 401 unauthenticated or 403 certificate_revoked; body %s", what, r.Status, r.ErrorCode(), r.Raw)
	}
}
