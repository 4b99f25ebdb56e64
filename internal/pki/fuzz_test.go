package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseCSR feeds the CSR intake arbitrary bytes, starting from real
// requests (PEM and DER, keys accepted and refused) and the files in
// testdata/csr. It never panics; it refuses with ErrInvalidCSR or
// ErrUnsupportedKey; what it accepts has an accepted key and a
// self-signature that verifies.
func FuzzParseCSR(f *testing.F) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, key := range []any{p256, p521, rsa2048} {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "fuzz"}}, key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
		f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
		f.Add(append([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: der})...))
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "csr", "*"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("-----BEGIN"))
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			if csr != nil || !(errors.Is(err, ErrInvalidCSR) || errors.Is(err, ErrUnsupportedKey)) {
				t.Fatalf("ParseCSR error %v (request %v) wraps neither ErrInvalidCSR nor ErrUnsupportedKey", err, csr != nil)
			}
			return
		}
		if err := checkPublicKey(csr.PublicKey); err != nil {
			t.Fatalf("ParseCSR accepted a key it refuses: %v", err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("ParseCSR accepted a request whose signature fails: %v", err)
		}
	})
}
