package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kinko/internal/testutil/zlint"
)

// newConstrainedAuthority creates an authority limited to names whose root
// key is in a directory of its own, and returns the server's view (Load)
// and the ceremony's (LoadWithRoot).
func newConstrainedAuthority(t *testing.T, names ...string) (server, ceremony *Authority) {
	t.Helper()
	base := t.TempDir()
	dir, rootDir := filepath.Join(base, "data", "pki"), filepath.Join(base, "offline")
	if err := Create(dir, CreateOptions{Name: "kinko demo bank", Now: testNow, RootDir: rootDir, ServerNames: names}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	var err error
	if server, err = Load(dir); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if ceremony, err = LoadWithRoot(dir, rootDir); err != nil {
		t.Fatalf("LoadWithRoot: %v", err)
	}
	return server, ceremony
}

func TestCreate_RootKeyOnlyInTheRootDirectory(t *testing.T) {
	a, c := newConstrainedAuthority(t, "localhost")
	if _, err := os.Stat(filepath.Join(a.Dir, RootKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("root key in the authority directory: %v", err)
	}
	if a.RootKey != nil {
		t.Errorf("Load read the root key")
	}
	if c.RootKey == nil || !publicKeysEqual(c.RootKey.Public(), a.Root.PublicKey) {
		t.Errorf("LoadWithRoot did not load the root's key")
	}
	for _, name := range []string{RootCertFile, IssuingCertFile, IssuingKeyFile} {
		if _, err := os.Stat(filepath.Join(a.Dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoad_NeverReadsTheRootKey(t *testing.T) {
	a, _ := newConstrainedAuthority(t, "localhost")
	// A file no loader would accept: open to everyone, and not a key.
	if err := os.WriteFile(filepath.Join(a.Dir, RootKeyFile), []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(a.Dir)
	if err != nil {
		t.Fatalf("Load with an unreadable root key beside it: %v", err)
	}
	if got.RootKey != nil {
		t.Errorf("Load set a root key")
	}
	if _, err := LoadWithRoot(a.Dir, a.Dir); err == nil {
		t.Errorf("LoadWithRoot accepted the broken root key")
	}
}

// oidNameConstraints is the name constraints extension.
var oidNameConstraints = asn1.ObjectIdentifier{2, 5, 29, 30}

// leafFrom signs a server certificate for dns and ips by the root,
// bypassing ServerCertificate's check, as a rogue use of the root would.
func leafFrom(t *testing.T, c *Authority, dns []string, ips []net.IP, eku x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	key := testKey(t, "p256")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "x"},
		NotBefore: testNow, NotAfter: testNow.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{eku}, DNSNames: dns, IPAddresses: ips}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Root, key.Public(), c.RootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// TestRootNameConstraints_TrustOnlyTheBanksServers: the root carries
// critical name constraints from the server names, so a certificate the
// root signed for any other name or address does not verify; the bank's
// own server certificate (serverAuth) does, and so do the client
// certificates of the issuing CA below it, which lint clean.
func TestRootNameConstraints_TrustOnlyTheBanksServers(t *testing.T) {
	a, c := newConstrainedAuthority(t, "Bank.Example", "192.0.2.10")
	var ext *pkix.Extension
	for i := range a.Root.Extensions {
		if a.Root.Extensions[i].Id.Equal(oidNameConstraints) {
			ext = &a.Root.Extensions[i]
		}
	}
	if ext == nil || !ext.Critical {
		t.Fatalf("root name constraints extension %+v: want present and critical", ext)
	}
	if !slices.Equal(a.Root.PermittedDNSDomains, []string{"bank.example"}) || len(a.Root.PermittedIPRanges) != 1 ||
		a.Root.PermittedIPRanges[0].String() != "192.0.2.10/32" {
		t.Errorf("permitted %q %v, want bank.example and 192.0.2.10/32", a.Root.PermittedDNSDomains, a.Root.PermittedIPRanges)
	}
	zlint.LintCertificate(t, a.Root.Raw)

	roots := x509.NewCertPool()
	roots.AddCert(a.Root)
	verify := func(leaf *x509.Certificate, eku x509.ExtKeyUsage, inter ...*x509.Certificate) error {
		pool := x509.NewCertPool()
		for _, i := range inter {
			pool.AddCert(i)
		}
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: testNow.Add(time.Hour),
			KeyUsages: []x509.ExtKeyUsage{eku}})
		return err
	}
	for _, tt := range []struct {
		name string
		dns  []string
		ips  []net.IP
		ok   bool
	}{
		{"the bank's name", []string{"bank.example"}, nil, true},
		{"a name below it", []string{"www.bank.example"}, nil, true},
		{"the bank's address", nil, []net.IP{net.ParseIP("192.0.2.10")}, true},
		{"another bank", []string{"www.other-bank.example"}, nil, false},
		{"a look-alike", []string{"bank.example.evil.example"}, nil, false},
		{"another address", nil, []net.IP{net.ParseIP("198.51.100.1")}, false},
		{"an IPv6 address", nil, []net.IP{net.ParseIP("2001:db8::1")}, false},
		{"the bank's name and another", []string{"bank.example", "mail.google.com"}, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := verify(leafFrom(t, c, tt.dns, tt.ips, x509.ExtKeyUsageServerAuth), x509.ExtKeyUsageServerAuth)
			if (err == nil) != tt.ok {
				t.Errorf("verify: %v, want ok=%v", err, tt.ok)
			}
		})
	}

	t.Run("server certificate", func(t *testing.T) {
		cert, err := c.ServerCertificate([]string{"www.bank.example", "192.0.2.10"}, testNow, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cert.Leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
			t.Errorf("server certificate EKU %v, want serverAuth only", cert.Leaf.ExtKeyUsage)
		}
		if err := verify(cert.Leaf, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("the bank's server certificate: %v", err)
		}
		if _, err := c.ServerCertificate([]string{"www.other-bank.example"}, testNow, nil); err == nil || !strings.Contains(err.Error(), "name constraints") {
			t.Errorf("server certificate outside the constraints: %v, want a refusal", err)
		}
	})

	t.Run("client certificates below the issuing CA", func(t *testing.T) {
		iss := newTestIssuer(t, a)
		_, der, leaf := issue(t, iss, clientRequest(t, testKey(t, "p256").Public(), testNow))
		zlint.LintCertificate(t, der)
		if err := verify(leaf, x509.ExtKeyUsageClientAuth, a.Issuing); err != nil {
			t.Errorf("client certificate under the constrained root: %v", err)
		}
	})
}

func TestRootNameConstraints_AKindNotGivenIsExcluded(t *testing.T) {
	t.Run("DNS names only: no IP address", func(t *testing.T) {
		a, c := newConstrainedAuthority(t, "bank.example")
		if len(a.Root.ExcludedIPRanges) != 2 {
			t.Errorf("excluded IP ranges %v, want all of IPv4 and IPv6", a.Root.ExcludedIPRanges)
		}
		roots := x509.NewCertPool()
		roots.AddCert(a.Root)
		leaf := leafFrom(t, c, nil, []net.IP{net.ParseIP("198.51.100.1")}, x509.ExtKeyUsageServerAuth)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow.Add(time.Hour)}); err == nil {
			t.Errorf("an IP address verified under a root limited to DNS names")
		}
	})
	t.Run("IP addresses only: no DNS name", func(t *testing.T) {
		a, c := newConstrainedAuthority(t, "127.0.0.1")
		if !slices.Equal(a.Root.PermittedDNSDomains, []string{dnsNothing}) {
			t.Errorf("permitted DNS %q, want only %q", a.Root.PermittedDNSDomains, dnsNothing)
		}
		roots := x509.NewCertPool()
		roots.AddCert(a.Root)
		leaf := leafFrom(t, c, []string{"www.example.com"}, nil, x509.ExtKeyUsageServerAuth)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: testNow.Add(time.Hour)}); err == nil {
			t.Errorf("a DNS name verified under a root limited to IP addresses")
		}
	})
}

func TestSignIssuing_RenewAndNewKey(t *testing.T) {
	a, c := newConstrainedAuthority(t, "localhost")
	later := testNow.AddDate(15, 0, 0) // ten years from then is past the root's end

	// Renewal: the same key, a new certificate with the same subject.
	der, err := c.SignIssuing(a.Issuing.PublicKey, later, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteIssuing(a.Dir, der, nil); err != nil {
		t.Fatal(err)
	}
	renewed, err := Load(a.Dir)
	if err != nil {
		t.Fatalf("Load after renewal: %v", err)
	}
	if string(renewed.Issuing.RawSubject) != string(a.Issuing.RawSubject) || !publicKeysEqual(renewed.Issuing.PublicKey, a.Issuing.PublicKey) {
		t.Errorf("the renewed issuing CA changed its subject or key")
	}
	if !renewed.Issuing.NotAfter.Equal(a.Root.NotAfter) {
		t.Errorf("renewed issuing CA ends %s, want the root's end %s", renewed.Issuing.NotAfter, a.Root.NotAfter)
	}
	zlint.LintCertificate(t, der)

	// A new key.
	key, err := c.NewIssuingKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err = c.SignIssuing(key.Public(), later, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteIssuing(a.Dir, der, key); err != nil {
		t.Fatal(err)
	}
	rekeyed, err := Load(a.Dir)
	if err != nil {
		t.Fatalf("Load after a new key: %v", err)
	}
	if publicKeysEqual(rekeyed.IssuingKey.Public(), a.IssuingKey.Public()) {
		t.Errorf("the issuing key did not change")
	}
	_, _, leaf := issue(t, newTestIssuer(t, rekeyed), clientRequest(t, testKey(t, "p256").Public(), later))
	if err := leaf.CheckSignatureFrom(rekeyed.Issuing); err != nil {
		t.Errorf("a certificate of the new issuing key: %v", err)
	}

	if _, err := a.SignIssuing(key.Public(), later, nil); err == nil {
		t.Errorf("SignIssuing without the root key succeeded")
	}
}

func TestStoredServerCertificate_WithoutTheRootKey(t *testing.T) {
	a, c := newConstrainedAuthority(t, "localhost", "127.0.0.1")
	if _, err := a.StoredServerCertificate([]string{"localhost"}, testNow); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no stored certificate: %v, want not-exist", err)
	}
	if _, err := a.ServerCertificate([]string{"localhost"}, testNow, nil); err == nil {
		t.Errorf("the server's authority signed a server certificate without the root key")
	}
	if _, err := c.ServerCertificate([]string{"localhost", "127.0.0.1"}, testNow, nil); err != nil {
		t.Fatal(err)
	}
	cert, err := a.StoredServerCertificate([]string{"127.0.0.1", "localhost"}, testNow)
	if err != nil {
		t.Fatalf("StoredServerCertificate: %v", err)
	}
	if len(cert.Certificate) != 2 || string(cert.Certificate[1]) != string(a.Root.Raw) {
		t.Errorf("chain is not the leaf and the root")
	}
	if _, err := a.StoredServerCertificate([]string{"www.bank.example"}, testNow); err == nil || !strings.Contains(err.Error(), "www.bank.example") {
		t.Errorf("a name the certificate lacks: %v", err)
	}
	if _, err := a.StoredServerCertificate([]string{"localhost"}, testNow.AddDate(2, 0, 0)); err == nil {
		t.Errorf("an expired server certificate was accepted")
	}
}

func TestLoadServerCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Public CA"}, NotBefore: testNow,
		NotAfter: testNow.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name string, eku x509.ExtKeyUsage, keyMode os.FileMode) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: testNow,
			NotAfter: testNow.AddDate(0, 3, 0), ExtKeyUsage: []x509.ExtKeyUsage{eku}, DNSNames: []string{"www.bank.example"},
			KeyUsage: x509.KeyUsageDigitalSignature}, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
		cf, kf := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
		os.WriteFile(cf, append(pemEncode("CERTIFICATE", der), pemEncode("CERTIFICATE", caDER)...), 0o644)
		os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), keyMode)
		return cf, kf
	}
	cf, kf := write("good", x509.ExtKeyUsageServerAuth, 0o600)
	cert, err := LoadServerCertificateFiles(cf, kf, []string{"www.bank.example"}, testNow.Add(time.Hour))
	if err != nil {
		t.Fatalf("LoadServerCertificateFiles: %v", err)
	}
	if len(cert.Certificate) != 2 {
		t.Errorf("chain of %d certificates, want the leaf and its CA", len(cert.Certificate))
	}
	for _, tt := range []struct {
		name  string
		eku   x509.ExtKeyUsage
		mode  os.FileMode
		names []string
		at    time.Time
		want  string
	}{
		{"key open to others", x509.ExtKeyUsageServerAuth, 0o640, []string{"www.bank.example"}, testNow, "0640"},
		{"other names", x509.ExtKeyUsageServerAuth, 0o600, []string{"bank.example"}, testNow, `"bank.example"`},
		{"clientAuth only", x509.ExtKeyUsageClientAuth, 0o600, []string{"www.bank.example"}, testNow, "serverAuth"},
		{"expired", x509.ExtKeyUsageServerAuth, 0o600, []string{"www.bank.example"}, testNow.AddDate(1, 0, 0), "not now"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cf, kf := write(strings.ReplaceAll(tt.name, " ", "-"), tt.eku, tt.mode)
			if _, err := LoadServerCertificateFiles(cf, kf, tt.names, tt.at); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}
