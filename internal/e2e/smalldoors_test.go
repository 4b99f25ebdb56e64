package e2e_test

// The small doors of the hardening: what a stranger can send before
// logging in, through the real listeners, on both engines.

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

// dialTLS12 makes a TLS 1.2 handshake with the listener at base offering
// only suites, and returns its error.
func dialTLS12(t testing.TB, b *testutil.Bank, base string, suites []uint16) error {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{RootCAs: b.Roots, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites,
		Time: b.Clock.Now,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &tls.Certificate{}, nil
		}}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", u.Host, conf)
	if err != nil {
		return err
	}
	return conn.Close()
}

// TestHardening_OversizedBodyIs413: a JSON body over the limit is 413
// request_too_large on both portals, as docs/api.md says, not 400.
func TestHardening_OversizedBodyIs413(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		cl := b.Client(nil)
		big := map[string]string{"login_id": "m00001", "password": strings.Repeat("x", 100<<10)}
		expect(t, "a 100 KiB login on the portal", cl.Portal("POST", "/api/v1/sessions", big), http.StatusRequestEntityTooLarge, "request_too_large")
		expect(t, "a 100 KiB issuance request", cl.Portal("POST", "/api/v1/certificates", big), http.StatusRequestEntityTooLarge, "request_too_large")
	})
}

func TestHardening_TLS12OffersAEADSuitesOnly(t *testing.T) {
	cbc := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	}
	aead := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		for name, base := range map[string]string{"portal": b.PortalURL, "certificate portal": b.CertPortalURL} {
			if err := dialTLS12(t, b, base, cbc); err == nil {
				t.Errorf("%s: a TLS 1.2 client offering only CBC and non-ECDHE suites completed the handshake", name)
			}
			if err := dialTLS12(t, b, base, aead); err != nil {
				t.Errorf("%s: a TLS 1.2 client offering ECDHE AES-GCM: %v", name, err)
			}
		}
	})
}
