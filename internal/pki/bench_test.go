package pki

import (
	"crypto/elliptic"
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
