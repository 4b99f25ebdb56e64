package httpedge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func selfSigned(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sfBytes(c *x509.Certificate) string { return ":" + base64.StdEncoding.EncodeToString(c.Raw) + ":" }

func mustProxies(t *testing.T, list ...string) Proxies {
	t.Helper()
	p, err := ParseProxies(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seen serves r through p.Handler and returns the request its handler got.
func seen(t *testing.T, p Proxies, r *http.Request) *http.Request {
	t.Helper()
	var got *http.Request
	p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r })).ServeHTTP(httptest.NewRecorder(), r)
	if got == nil {
		t.Fatal("the handler was not called")
	}
	return got
}

func proxiedRequest(remote string, headers map[string][]string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://bank.example/api/v1/me", nil)
	r.RemoteAddr = remote
	r.TLS = &tls.ConnectionState{}
	for k, vs := range headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

// TestProxies_ForgedHeadersFromAnUntrustedPeerAreRemovedAndIgnored: a
// client on the internet that writes Client-Cert, Client-Cert-Chain,
// X-Forwarded-For or Forwarded itself gets no certificate and keeps its
// own address, and nothing behind the edge sees those headers; with no
// proxy configured at all, the same.
func TestProxies_ForgedHeadersFromAnUntrustedPeerAreRemovedAndIgnored(t *testing.T) {
	leaf := selfSigned(t, "forged")
	for _, p := range []Proxies{{}, mustProxies(t, "10.0.0.0/8")} {
		r := seen(t, p, proxiedRequest("198.51.100.4:40000", map[string][]string{
			"Client-Cert": {sfBytes(leaf)}, "Client-Cert-Chain": {sfBytes(leaf)},
			"X-Forwarded-For": {"10.0.0.1"}, "Forwarded": {"for=10.0.0.1"}, "X-Real-Ip": {"10.0.0.1"},
		}))
		for _, h := range forwardingHeaders {
			if v := r.Header.Values(h); len(v) > 0 {
				t.Errorf("%s reached the handler: %q", h, v)
			}
		}
		if c := CertPortal.PeerCertificate(r); c != nil {
			t.Errorf("PeerCertificate = %s, want none", c.Subject)
		}
		if got := ClientAddress(r).String(); got != "198.51.100.4" {
			t.Errorf("ClientAddress = %s, want the peer 198.51.100.4", got)
		}
		if FromTrustedProxy(r) {
			t.Error("FromTrustedProxy for an untrusted peer")
		}
	}
}

// TestProxies_TrustedProxysClientCertIsThePeerCertificate: from a trusted
// proxy, the certificate is the one of Client-Cert with Client-Cert-Chain
// after it, never the proxy's own handshake certificate; the headers are
// read once and removed.
func TestProxies_TrustedProxysClientCertIsThePeerCertificate(t *testing.T) {
	leaf, ca, proxyOwn := selfSigned(t, "client"), selfSigned(t, "ca"), selfSigned(t, "proxy")
	p := mustProxies(t, "10.0.0.0/8", "192.0.2.10")
	r := proxiedRequest("10.1.2.3:5555", map[string][]string{"Client-Cert": {sfBytes(leaf)}, "Client-Cert-Chain": {sfBytes(ca)}})
	r.TLS.PeerCertificates = []*x509.Certificate{proxyOwn}
	got := seen(t, p, r)
	chain, err := CertPortal.PeerChain(got)
	if err != nil || len(chain) != 2 || !chain[0].Equal(leaf) || !chain[1].Equal(ca) {
		t.Fatalf("PeerChain = %v, %v; want the client's certificate and its CA", chain, err)
	}
	if c := CertPortal.PeerCertificate(got); c == nil || !c.Equal(leaf) {
		t.Errorf("PeerCertificate = %v, want the Client-Cert", c)
	}
	if c := Portal.PeerCertificate(got); c != nil {
		t.Errorf("the portal's PeerCertificate = %s, want none", c.Subject)
	}
	if got.Header.Get("Client-Cert") != "" || got.Header.Get("Client-Cert-Chain") != "" {
		t.Error("the Client-Cert headers reached the handler")
	}
	if !FromTrustedProxy(got) {
		t.Error("not FromTrustedProxy")
	}

	// Without Client-Cert, the proxy's handshake certificate is no one's.
	r = proxiedRequest("192.0.2.10:5555", nil)
	r.TLS.PeerCertificates = []*x509.Certificate{proxyOwn}
	if c := CertPortal.PeerCertificate(seen(t, p, r)); c != nil {
		t.Errorf("PeerCertificate = %s, want none: the proxy's own certificate is not a client's", c.Subject)
	}
}

// TestProxies_TheConsoleTakesNoForwardedCertificate: a trusted proxy's
// Client-Cert is never the console's certificate; the console's is the
// one of its own handshake, which a proxy passes through untouched.
func TestProxies_TheConsoleTakesNoForwardedCertificate(t *testing.T) {
	leaf, own := selfSigned(t, "operator by header"), selfSigned(t, "operator in the handshake")
	p := mustProxies(t, "10.0.0.0/8")
	r := proxiedRequest("10.1.2.3:5555", map[string][]string{"Client-Cert": {sfBytes(leaf)}})
	got := seen(t, p, r)
	if c := Console.PeerCertificate(got); c != nil {
		t.Errorf("the console's PeerCertificate = %s, want none: a forwarded certificate is no operator's", c.Subject)
	}
	r = proxiedRequest("10.1.2.3:5555", map[string][]string{"Client-Cert": {sfBytes(leaf)}})
	r.TLS.PeerCertificates = []*x509.Certificate{own}
	got = seen(t, p, r)
	chain, err := Console.PeerChain(got)
	if err != nil || len(chain) != 1 || !chain[0].Equal(own) {
		t.Errorf("the console's PeerChain = %v, %v; want the handshake's certificate", chain, err)
	}
}

// TestProxies_UnreadableClientCertIsAnError: a trusted proxy's Client-Cert
// that is not one byte sequence holding a DER certificate gives no
// certificate and an error.
func TestProxies_UnreadableClientCertIsAnError(t *testing.T) {
	leaf := selfSigned(t, "client")
	p := mustProxies(t, "10.0.0.0/8")
	for name, vals := range map[string][]string{
		"base64 without colons":  {base64.StdEncoding.EncodeToString(leaf.Raw)},
		"not base64":             {":!!!:"},
		"not a certificate":      {":" + base64.StdEncoding.EncodeToString([]byte("hello")) + ":"},
		"two Client-Cert fields": {sfBytes(leaf), sfBytes(leaf)},
		"PEM":                    {"-----BEGIN CERTIFICATE-----"},
	} {
		t.Run(name, func(t *testing.T) {
			got := seen(t, p, proxiedRequest("10.0.0.1:1", map[string][]string{"Client-Cert": vals}))
			chain, err := CertPortal.PeerChain(got)
			if !errors.Is(err, errClientCert) || chain != nil {
				t.Errorf("PeerChain = %v, %v; want errClientCert", chain, err)
			}
			if CertPortal.PeerCertificate(got) != nil {
				t.Error("PeerCertificate is not nil")
			}
		})
	}
}

// TestProxies_ClientAddressIsTheRightMostUntrustedHop: X-Forwarded-For
// is read from the right, past the trusted proxies; what a client put on
// its left is never believed.
func TestProxies_ClientAddressIsTheRightMostUntrustedHop(t *testing.T) {
	p := mustProxies(t, "10.0.0.0/8", "2001:db8:1::/48")
	for _, c := range []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"one hop", "10.0.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client spoofs a hop on the left", "10.0.0.1:1", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"client spoofs a trusted address", "10.0.0.1:1", []string{"10.9.9.9, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted proxies", "10.0.0.1:1", []string{"6.6.6.6, 203.0.113.9, 10.0.0.2"}, "203.0.113.9"},
		{"several header lines", "10.0.0.1:1", []string{"6.6.6.6", "203.0.113.9,10.0.0.2"}, "203.0.113.9"},
		{"hop with a port", "10.0.0.1:1", []string{"203.0.113.9:4444"}, "203.0.113.9"},
		{"IPv6 hop", "[2001:db8:1::5]:1", []string{"[2001:db8:2::7]:80"}, "2001:db8:2::7"},
		{"every hop trusted", "10.0.0.1:1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"no header", "10.0.0.1:1", nil, "10.0.0.1"},
		{"garbage at the proxy's hop", "10.0.0.1:1", []string{"203.0.113.9, unknown"}, "10.0.0.1"},
		{"untrusted peer's header", "198.51.100.4:1", []string{"203.0.113.9"}, "198.51.100.4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := seen(t, p, proxiedRequest(c.remote, map[string][]string{"X-Forwarded-For": c.xff}))
			if a := ClientAddress(got).String(); a != c.want {
				t.Errorf("ClientAddress = %s, want %s", a, c.want)
			}
			if got.Header.Get("X-Forwarded-For") != "" {
				t.Error("X-Forwarded-For reached the handler")
			}
		})
	}
}

// TestParseProxiesRefusesWhatIsNotAnAddress: a typo in trusted_proxies is
// an error at start-up, not a proxy trusted by accident or not at all.
func TestParseProxiesRefusesWhatIsNotAnAddress(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "proxy.bank.example", "10.0.0"} {
		if _, err := ParseProxies([]string{s}); err == nil {
			t.Errorf("ParseProxies(%q) accepted", s)
		}
	}
	p := mustProxies(t, "::ffff:10.0.0.1", "10.2.0.0/16")
	for a, want := range map[string]bool{"10.0.0.1": true, "10.2.3.4": true, "10.3.0.1": false} {
		if got := p.Trusts(hostAddr(a)); got != want {
			t.Errorf("Trusts(%s) = %v, want %v", a, got, want)
		}
	}
}
