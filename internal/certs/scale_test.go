package certs_test

import (
	"context"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ocsp"

	"kinko/internal/certs"
	"kinko/internal/notify"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// scaleNow is the present of the filled banks of these tests.
var scaleNow = time.Date(2027, 3, 10, 3, 0, 0, 0, time.UTC)

// scaleServer is one server's view of a filled bank: its own handle on the
// shared database, its own certificate and revocation services (and so its
// own caches).
type scaleServer struct {
	db    *store.DB
	certs *certs.Service
	revs  *certs.Revocations
	clock *scaleClock // shared by the servers
}

// scaleClock is the servers' clock, at scaleNow until advanced.
type scaleClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *scaleClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *scaleClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forEachSharedDB runs f on SQLite and PostgreSQL with two servers on one
// database filled with a bank of 1/1000 of the full size, at scaleNow.
func forEachSharedDB(t *testing.T, f func(t *testing.T, b *testutil.FilledBank, a *pki.Authority, s1, s2 scaleServer)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := ""
			if engine == "sqlite" {
				dsn = filepath.Join(t.TempDir(), "kinko.db")
			} else {
				dsn = testutil.PostgresDSN(t)
			}
			dir := filepath.Join(t.TempDir(), "pki")
			if err := pki.Create(dir, pki.CreateOptions{Name: "kinko scale bank", Now: scaleNow.AddDate(-2, 0, 0)}); err != nil {
				t.Fatal(err)
			}
			a, err := pki.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			clock := &scaleClock{now: scaleNow}
			var servers [2]scaleServer
			for i := range servers {
				db, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				db.SetMailRules(notify.Rules{})
				t.Cleanup(func() { db.Close() })
				revs, err := certs.NewRevocations(certs.RevocationConfig{Store: db.Certs(), Authority: a, Now: clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				// As the server wires them: a revocation made drops the
				// server's own OCSP status cache.
				svc := certs.New(certs.Config{Store: db.Certs(), Now: clock.Now, OnRevoke: func(_ string, err error) {
					if err == nil {
						revs.Revoked()
					}
				}})
				servers[i] = scaleServer{db: db, certs: svc, revs: revs, clock: clock}
			}
			b, err := testutil.FillBank(ctx, servers[0].db, testutil.ScaledBank(0.001), scaleNow)
			if err != nil {
				t.Fatal(err)
			}
			f(t, b, a, servers[0], servers[1])
		})
	}
}

// TestScale_CRLListsExactlyTheUnexpiredRevoked: the CRL lists the revoked
// certificates that have not expired, and those that expired less than a
// CRL validity ago (RFC 5280 3.3: an entry stays until one CRL issued after
// the expiry has listed it), none other.
func TestScale_CRLListsExactlyTheUnexpiredRevoked(t *testing.T) {
	forEachSharedDB(t, func(t *testing.T, b *testutil.FilledBank, a *pki.Authority, s1, s2 scaleServer) {
		ctx := context.Background()
		want := map[string]bool{}
		since := b.Now.Add(-certs.DefaultCRLValidity)
		dropped := 0
		for i := range b.Size.Users() {
			c := b.Certificate(i)
			switch {
			case c.Revoked && c.NotAfter.After(since):
				want[c.Serial] = true
			case c.Revoked:
				dropped++
			}
		}
		if dropped == 0 {
			t.Fatal("the bank has no revoked certificate expired for longer than a CRL validity")
		}
		der, err := s1.revs.CRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(a.Issuing); err != nil {
			t.Fatalf("crl signature: %v", err)
		}
		got := map[string]bool{}
		for _, e := range crl.RevokedCertificateEntries {
			got[pki.SerialHex(e.SerialNumber)] = true
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("CRL entries (-want +got):\n%s", d)
		}
		// The other server serves the same CRL, made once.
		der2, err := s2.revs.CRL(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(der2) != string(der) {
			t.Error("the second server made another CRL instead of serving the stored one")
		}
	})
}

// ocspStatus asks s's responder for serial's OCSP status.
func ocspStatus(t *testing.T, s scaleServer, a *pki.Authority, serial string) int {
	t.Helper()
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok {
		t.Fatalf("bad serial %q", serial)
	}
	req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: n}, a.Issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := s.revs.OCSP(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ocsp.ParseResponse(der, a.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status
}

// validIssued returns the serial of the bank's certificate i, which must be
// issued, not revoked and valid.
func validIssued(t *testing.T, b *testutil.FilledBank, i int) string {
	t.Helper()
	c := b.Certificate(i)
	if c.Revoked || !c.NotAfter.After(b.Now) {
		t.Fatalf("certificate %d is planned %+v: want issued and valid", i, c)
	}
	return c.Serial
}

// TestScale_OCSPAnswerChangesWithinThePollAfterRevocationOnAnotherServer: a
// server caches the status of the serials it knows; a revocation on another
// server shows in its answers once it has read the revocation epoch again,
// at most DefaultEpochPoll later.
func TestScale_OCSPAnswerChangesWithinThePollAfterRevocationOnAnotherServer(t *testing.T) {
	forEachSharedDB(t, func(t *testing.T, b *testutil.FilledBank, a *pki.Authority, s1, s2 scaleServer) {
		serial := validIssued(t, b, 1)
		// Twice, so that the second answer comes from server 1's cache.
		for range 2 {
			if got := ocspStatus(t, s1, a, serial); got != ocsp.Good {
				t.Fatalf("before revocation: status %d, want good", got)
			}
		}
		if _, err := s2.certs.RevokeByBank(context.Background(), serial, "keyCompromise", "suzuki", "REQ-SCALE-1"); err != nil {
			t.Fatal(err)
		}
		if got := ocspStatus(t, s2, a, serial); got != ocsp.Revoked {
			t.Errorf("on the revoking server: status %d, want revoked", got)
		}
		if got := ocspStatus(t, s1, a, serial); got != ocsp.Good {
			t.Errorf("on the other server within the poll: status %d, want the cached good", got)
		}
		s1.clock.Advance(certs.DefaultEpochPoll)
		if got := ocspStatus(t, s1, a, serial); got != ocsp.Revoked {
			t.Errorf("on the other server a poll later: status %d, want revoked", got)
		}
	})
}

// TestScale_OCSPAnswerChangesAtOnceOnTheRevokingServer: the server that
// revokes drops its own cache, so its next answer is revoked with no wait.
func TestScale_OCSPAnswerChangesAtOnceOnTheRevokingServer(t *testing.T) {
	forEachSharedDB(t, func(t *testing.T, b *testutil.FilledBank, a *pki.Authority, s1, _ scaleServer) {
		serial := validIssued(t, b, 1)
		for range 2 {
			if got := ocspStatus(t, s1, a, serial); got != ocsp.Good {
				t.Fatalf("before revocation: status %d, want good", got)
			}
		}
		if _, err := s1.certs.RevokeByBank(context.Background(), serial, "keyCompromise", "suzuki", "REQ-SCALE-2"); err != nil {
			t.Fatal(err)
		}
		if got := ocspStatus(t, s1, a, serial); got != ocsp.Revoked {
			t.Errorf("right after its own revocation: status %d, want revoked", got)
		}
	})
}

// TestScale_OCSPUnknownSerialIsNotCached: a serial the bank does not know
// is answered unknown and not cached, so once a certificate with it is
// issued (on another server, which does not change the revocation epoch)
// it is answered good at once.
func TestScale_OCSPUnknownSerialIsNotCached(t *testing.T) {
	forEachSharedDB(t, func(t *testing.T, b *testutil.FilledBank, a *pki.Authority, s1, s2 scaleServer) {
		ctx := context.Background()
		serial := validIssued(t, b, 1)
		c, err := s2.db.CertificateHeadBySerial(ctx, serial)
		if err != nil {
			t.Fatal(err)
		}
		// The certificate's serial is "not issued yet" while its row says
		// another serial.
		if _, err := s2.db.SQL().ExecContext(ctx, `UPDATE certificates SET serial = $1 WHERE id = $2`, "7f"+serial, c.ID); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if got := ocspStatus(t, s1, a, serial); got != ocsp.Unknown {
				t.Fatalf("before issuance: status %d, want unknown", got)
			}
		}
		if _, err := s2.db.SQL().ExecContext(ctx, `UPDATE certificates SET serial = $1 WHERE id = $2`, serial, c.ID); err != nil {
			t.Fatal(err)
		}
		if got := ocspStatus(t, s1, a, serial); got != ocsp.Good {
			t.Errorf("right after issuance: status %d, want good", got)
		}
	})
}

func TestScale_ExpiryRemindersReadExactlyTheDueCertificates(t *testing.T) {
	forEachSharedDB(t, func(t *testing.T, b *testutil.FilledBank, _ *pki.Authority, s1, s2 scaleServer) {
		ctx := context.Background()
		want := map[int][]int64{}
		total := 0
		for i := range b.Size.Users() {
			c := b.Certificate(i)
			if c.Revoked {
				continue
			}
			left := certs.Certificate{Status: certs.StatusIssued, NotAfter: c.NotAfter}.DaysLeft(b.Now)
			for _, d := range certs.ReminderDays {
				if d == left {
					want[d] = append(want[d], c.ID)
					total++
				}
			}
		}
		if total == 0 {
			t.Fatal("the bank has no certificate due for a reminder")
		}
		day := 24 * time.Hour
		got := map[int][]int64{}
		for _, d := range certs.ReminderDays {
			list, err := s1.db.ExpiringCertificates(ctx, b.Now.Add(time.Duration(d-1)*day), b.Now.Add(time.Duration(d)*day), "x")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				got[d] = append(got[d], c.ID)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("due certificates by days left (-want +got):\n%s", d)
		}
		n, err := s1.certs.SendExpiryReminders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != total {
			t.Errorf("reminders sent: %d, want %d", n, total)
		}
		// Once sent, the other server's run reads nothing and sends nothing.
		for _, d := range certs.ReminderDays {
			list, err := s2.db.ExpiringCertificates(ctx, b.Now.Add(time.Duration(d-1)*day), b.Now.Add(time.Duration(d)*day), fmtDays(d))
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 0 {
				t.Errorf("%d days: %d certificates read again after their reminder", d, len(list))
			}
		}
		if n, err := s2.certs.SendExpiryReminders(ctx); err != nil || n != 0 {
			t.Errorf("second run: %d sent, %v; want none", n, err)
		}
	})
}

func fmtDays(d int) string { return big.NewInt(int64(d)).String() }
