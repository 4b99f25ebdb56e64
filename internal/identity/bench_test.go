package identity_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"kinko/internal/identity"
	"kinko/internal/testutil"
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

// BenchmarkAuthenticateUnknownVsKnown measures a wrong password for an
// unknown login ID, a known one and a locked one, with the real hash
// parameters on SQLite: the three should cost the same (one hash, the same
// writes), so that the time does not tell which IDs exist. The throttle
// is set loose, so that every attempt reaches the password check.
func BenchmarkAuthenticateUnknownVsKnown(b *testing.B) {
	db := testutil.OpenSQLite(b)
	loose := identity.ThrottleRule{Free: 1 << 30}
	svc, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: identity.DefaultParams},
		Throttle: identity.Throttle{PerLoginID: loose, PerAddress: loose}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	newMaster := func(id string) identity.User {
		_, u, _, err := svc.CreateOrganization(ctx, identity.NewOrganization{Name: "計測労働組合", MasterLoginID: id, MasterName: "計測 太郎",
			MasterEmail: id + "@example.org", Passwords: known(id)}, "operator:test")
		if err != nil {
			b.Fatal(err)
		}
		return u
	}
	newMaster("bknown01")
	locked := newMaster("blocked01")
	for range identity.LockAfter {
		u, _, _ := svc.UserByLoginID(ctx, locked.LoginID)
		_ = svc.CheckPassword(ctx, u, identity.LoginPassword, "Wrong-password-1", "certificate login")
	}
	from := netip.MustParseAddr("192.0.2.1")
	for _, id := range []string{"nobody01", "bknown01", "blocked01"} {
		b.Run(id, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := svc.Authenticate(ctx, id, "Wrong-password-1", "password login", from); !errors.Is(err, identity.ErrInvalidCredentials) {
					b.Fatal(err)
				}
			}
		})
	}
}
