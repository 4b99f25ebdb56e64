package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
)

// BenchmarkPrepareSign measures issuing one client certificate from a P-256
// CA: the lint signature and profile check, then the real signature and its
// checks.
func BenchmarkPrepareSign(b *testing.B) {
	a := newTestAuthority(b, "bank", elliptic.P256())
	iss := newTestIssuer(b, a)
	r := clientRequest(b, testKey(b, "p256").Public(), testNow)
	b.ReportAllocs()
	for b.Loop() {
		p, err := iss.Prepare(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := iss.Sign(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateCertificateBare measures x509.CreateCertificate alone with
// a P-256 key and a comparable template, for comparison.
func BenchmarkCreateCertificateBare(b *testing.B) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "bench CA"},
		NotBefore:             testNow,
		NotAfter:              testNow.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte{1, 2, 3, 4},
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{Organization: []string{"bank"}, CommonName: "K1234567"},
		NotBefore:             testNow,
		NotAfter:              testNow.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          []byte{5, 6, 7, 8},
	}
	pub := testKey(b, "p256").Public()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey); err != nil {
			b.Fatal(err)
		}
	}
}
