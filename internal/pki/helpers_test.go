package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testNow is the creation time of test authorities: a fixed instant with a
// fractional second so that truncation is exercised.
var testNow = time.Date(2026, time.March, 1, 9, 30, 15, 250_000_000, time.UTC)

// newTestAuthority creates and loads an authority on curve in a fresh
// temporary directory.
func newTestAuthority(t testing.TB, name string, curve elliptic.Curve) *Authority {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := Create(dir, CreateOptions{Name: name, Curve: curve, Now: testNow}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	a, err := LoadWithRoot(dir, dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return a
}

// newTestIssuer returns an Issuer for the authority's client-issuing CA.
func newTestIssuer(t testing.TB, a *Authority) *Issuer {
	t.Helper()
	iss, err := NewIssuer(a.Issuing, a.IssuingKey, nil)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return iss
}

// Keys are expensive to generate (RSA especially) and the tests only need
// a few, so they are generated once per kind.
var (
	keyMu    sync.Mutex
	keyCache = map[string]crypto.Signer{}
)

// testKey returns a cached private key of the given kind: "p256", "p384",
// "p521", "rsa1024", "rsa2048", "rsa4096" or "ed25519".
func testKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	if k, ok := keyCache[kind]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch kind {
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa4096":
		k, err = rsa.GenerateKey(rand.Reader, 4096)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		err = fmt.Errorf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatalf("generating %s key: %v", kind, err)
	}
	keyCache[kind] = k
	return k
}

// csrDER makes a DER certificate signing request for key with tmpl (a
// minimal one when nil).
func csrDER(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	if tmpl == nil {
		tmpl = &x509.CertificateRequest{Subject: pkix.Name{CommonName: "applicant"}}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatalf("CreateCertificateRequest: %v", err)
	}
	return der
}

// pemEncode encodes der as one PEM block of type typ.
func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// clientRequest returns a typical request for pub, valid for one calendar
// year from notBefore.
func clientRequest(t testing.TB, pub crypto.PublicKey, notBefore time.Time) Request {
	t.Helper()
	serial, err := NewSerial(rand.Reader)
	if err != nil {
		t.Fatalf("NewSerial: %v", err)
	}
	return Request{
		Serial:       serial,
		PublicKey:    pub,
		Organization: "kinko demo bank",
		CommonName:   "K1234567",
		NotBefore:    notBefore,
		NotAfter:     notBefore.AddDate(1, 0, 0),
	}
}

// issue prepares and signs r with iss, failing the test on error.
func issue(t testing.TB, iss *Issuer, r Request) (*Prepared, []byte, *x509.Certificate) {
	t.Helper()
	p, err := iss.Prepare(r)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	der, c, err := iss.Sign(p)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return p, der, c
}

// bigPow2 returns 2**n.
func bigPow2(n uint) *big.Int { return new(big.Int).Lsh(big.NewInt(1), n) }

// recordingTB is a testing.TB that records Errorf calls instead of failing,
// to show that a checking helper does complain.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.TB.Fatalf("unexpected fatal: "+format, args...)
}
