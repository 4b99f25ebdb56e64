package e2e_test

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kinko/internal/operators"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// dialWith opens a TLS connection to base's listener presenting cert (nil:
// none) and reports the handshake's outcome.
func dialWith(t testing.TB, b *testutil.Bank, base string, cert *tls.Certificate, conf *tls.Config) error {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if conf == nil {
		conf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	conf.RootCAs, conf.Time = b.Roots, b.Clock.Now
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if cert == nil {
			return &tls.Certificate{}, nil
		}
		return cert, nil
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", u.Host, conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	// TLS 1.3: the server's verdict on the client's certificate arrives
	// after the client's side of the handshake; a read sees it.
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil
	}
	return err
}

// TestConsole_OnlyOperatorCertificatesOpenIt: the operator console's
// listener refuses, in the handshake, a customer's certificate of the
// bank's own client-issuing CA, and no certificate at all; an operator's
// certificate opens it, but not the certificate portal. An operator whose
// certificate is revoked or who is disabled is refused on the next
// connection. TLS 1.2 offers AEAD suites only there too.
func TestConsole_OnlyOperatorCertificatesOpenIt(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		if b.ConsoleURL == "" {
			t.Fatal("the bank has no console")
		}
		org := b.NewOrg(t, "窓口労組", true)
		customer := b.IssueCertificate(t, org.Master)
		op := b.NewOperator(t, "sato", "佐藤 花子", operators.RoleClerk)

		if err := dialWith(t, b, b.ConsoleURL, customer, nil); err == nil {
			t.Error("the console accepted a customer's certificate")
		}
		if err := dialWith(t, b, b.ConsoleURL, nil, nil); err == nil {
			t.Error("the console accepted a connection without a certificate")
		}
		if err := dialWith(t, b, b.ConsoleURL, op.Cert, nil); err != nil {
			t.Errorf("the console refused an operator's certificate: %v", err)
		}
		if err := dialWith(t, b, b.CertPortalURL, op.Cert, nil); err == nil {
			t.Error("the certificate portal accepted an operator's certificate")
		}
		r := b.Client(op.Cert).Console(http.MethodGet, "/", nil)
		if r.Err != nil || r.Status != http.StatusOK {
			t.Fatalf("the console's first page: %d %v", r.Status, r.Err)
		}
		if !strings.Contains(string(r.Raw), "佐藤 花子") {
			t.Errorf("the console does not name its operator:\n%s", r.Raw)
		}
		// The portal and the console share one look: the same base
		// stylesheet, each its own after it.
		base := b.Client(op.Cert).Console(http.MethodGet, "/static/base.css", nil)
		portalBase := b.Client(nil).Portal(http.MethodGet, "/static/base.css", nil)
		if base.Status != http.StatusOK || portalBase.Status != http.StatusOK || string(base.Raw) != string(portalBase.Raw) ||
			!strings.Contains(string(base.Raw), ":root") || !strings.HasPrefix(base.Header.Get("Content-Type"), "text/css") {
			t.Errorf("base.css: console %d, portal %d, the same: %v", base.Status, portalBase.Status, string(base.Raw) == string(portalBase.Raw))
		}
		for _, page := range []string{string(r.Raw), string(b.Client(nil).Portal(http.MethodGet, "/", nil).Raw)} {
			if !strings.Contains(page, `href="/static/base.css"`) {
				t.Errorf("a page does not link the base stylesheet")
			}
		}

		cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		if err := dialWith(t, b, b.ConsoleURL, op.Cert, &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: cbc}); err == nil {
			t.Error("the console completed a TLS 1.2 handshake offering only CBC and non-ECDHE suites")
		}

		// Disabled: refused on the next connection.
		approver := b.NewOperator(t, "suzuki", "鈴木 一郎", operators.RoleApprover)
		if err := b.Services.Operators.DisableStaff(t.Context(), approver.Staff, "sato"); err != nil {
			t.Fatal(err)
		}
		if err := dialWith(t, b, b.ConsoleURL, op.Cert, nil); err == nil {
			t.Error("the console accepted a disabled operator's certificate")
		}
		if err := dialWith(t, b, b.ConsoleURL, approver.Cert, nil); err != nil {
			t.Errorf("the console refused the approver: %v", err)
		}
	})
}
