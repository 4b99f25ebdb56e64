package identity_test

import (
	"testing"

	"kinko/internal/identity"
)

// The password benchmarks run on one goroutine, so their rates are per
// core: a server checks as many passwords at once as it has cores.

// BenchmarkPasswordHash measures hashing a password with the parameters new
// hashes get (identity.DefaultParams: argon2id, m=19 MiB, t=2, p=1).
func BenchmarkPasswordHash(b *testing.B) {
	h := identity.Hasher{Params: identity.DefaultParams}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("Login-password-1"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkPasswordVerify measures checking a password against a hash made
// with identity.DefaultParams, the cost of every password login and of
// every confirmation password.
func BenchmarkPasswordVerify(b *testing.B) {
	h := identity.Hasher{Params: identity.DefaultParams}
	encoded, err := h.Hash("Login-password-1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ok, err := h.Verify("Login-password-1", encoded)
		if err != nil || !ok {
			b.Fatalf("verify: %v %v", ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
