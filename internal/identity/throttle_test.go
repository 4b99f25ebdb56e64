package identity_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// lookupCounter counts the user look-ups of Authenticate: a throttled
// attempt is refused before it, and so before any password hash.
type lookupCounter struct {
	identity.Store
	n atomic.Int64
}

func (c *lookupCounter) UserByLoginID(ctx context.Context, loginID string) (identity.User, identity.Organization, error) {
	c.n.Add(1)
	return c.Store.UserByLoginID(ctx, loginID)
}

func newCountingRig(t *testing.T, db *store.DB, th identity.Throttle) (*identityRig, *lookupCounter) {
	t.Helper()
	clock := testutil.NewClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	lc := &lookupCounter{Store: db}
	svc, err := identity.New(identity.Config{Store: lc, Hasher: identity.Hasher{Params: fastParams}, Now: clock.Now, Throttle: th})
	if err != nil {
		t.Fatal(err)
	}
	return &identityRig{svc: svc, db: db, clock: clock}, lc
}

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var te *identity.ThrottledError
	if !errors.As(err, &te) {
		t.Fatalf("%v, want a ThrottledError", err)
	}
	return te.Wait
}

// TestHardening_LoginThrottlePerLoginID: after the free failures, one
// login ID waits 1 s, 2 s, 4 s ...; while it waits even the right password
// is refused, before the user is looked up; the right password after the
// wait logs in and forgets the count. The failures never lock.
func TestHardening_LoginThrottlePerLoginID(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r, lc := newCountingRig(t, db, identity.Throttle{})
		ctx := context.Background()
		_, master := r.org(t)
		g := r.general(t, master)
		from := netip.MustParseAddr("192.0.2.10")
		try := func(pw string) error {
			_, _, err := r.svc.Authenticate(ctx, g.LoginID, pw, "password login", from)
			return err
		}
		for i := range identity.DefaultThrottle.PerLoginID.Free + 1 {
			if err := try("Wrong-password-1"); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("wrong password %d: %v, want ErrInvalidCredentials", i+1, err)
			}
		}
		before := lc.n.Load()
		err := try(known(g.LoginID).Password)
		if d := retryAfter(t, err); d != time.Second {
			t.Errorf("right password while throttled: retry after %s, want 1s", d)
		}
		if lc.n.Load() != before {
			t.Errorf("a throttled attempt looked the user up (and so checked a password)")
		}
		// The ID is throttled from any address.
		if _, _, err := r.svc.Authenticate(ctx, g.LoginID, "Wrong-password-1", "password login", netip.MustParseAddr("198.51.100.7")); !errors.Is(err, identity.ErrThrottled) {
			t.Errorf("from another address: %v, want ErrThrottled", err)
		}
		r.clock.Advance(time.Second)
		if err := try("Wrong-password-1"); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("wrong password after the wait: %v", err)
		}
		if d := retryAfter(t, try("Wrong-password-1")); d != 2*time.Second {
			t.Errorf("after the 7th failure: retry after %s, want 2s (doubled)", d)
		}
		r.clock.Advance(2 * time.Second)
		if err := try(known(g.LoginID).Password); err != nil {
			t.Fatalf("right password after the wait: %v", err)
		}
		if err := try("Wrong-password-1"); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("a wrong password after a login: %v, want ErrInvalidCredentials (the count was forgotten)", err)
		}
		if u := r.user(t, g.LoginID); u.Locked() || u.FailedLogins != 0 {
			t.Errorf("locked %v with %d failures counted towards the lock, want neither", u.Locked(), u.FailedLogins)
		}
	})
}

// TestHardening_LoginThrottlePerAddress: many login IDs, none of them
// existing, from one address are throttled after the address's free
// failures; an IPv6 client is one client for its whole /64; another
// address is not held up.
func TestHardening_LoginThrottlePerAddress(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		th := identity.Throttle{PerAddress: identity.ThrottleRule{Free: 3, Base: 10 * time.Second, Max: time.Minute, Window: time.Hour}}
		r, _ := newCountingRig(t, db, th)
		ctx := context.Background()
		for _, tc := range []struct {
			name       string
			from, next netip.Addr
		}{
			{"IPv4", netip.MustParseAddr("192.0.2.20"), netip.MustParseAddr("192.0.2.20")},
			{"IPv6 by its /64", netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")},
			{"IPv4 mapped in IPv6", netip.MustParseAddr("::ffff:198.51.100.30"), netip.MustParseAddr("198.51.100.30")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for i := range 4 {
					id := identityLoginID("x")
					if _, _, err := r.svc.Authenticate(ctx, id, "Wrong-password-1", "password login", tc.from); !errors.Is(err, identity.ErrInvalidCredentials) {
						t.Fatalf("attempt %d: %v, want ErrInvalidCredentials", i+1, err)
					}
				}
				_, _, err := r.svc.Authenticate(ctx, identityLoginID("x"), "Wrong-password-1", "password login", tc.next)
				if d := retryAfter(t, err); d != 10*time.Second {
					t.Errorf("retry after %s, want 10s", d)
				}
			})
		}
		if _, _, err := r.svc.Authenticate(ctx, identityLoginID("x"), "Wrong-password-1", "password login", netip.MustParseAddr("2001:db8:1:3::1")); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("another /64: %v, want ErrInvalidCredentials", err)
		}
		// The rows go once their time is past.
		r.clock.Advance(2 * time.Hour)
		n, err := db.DeleteExpiredLoginThrottles(ctx, r.clock.Now())
		if err != nil || n == 0 {
			t.Errorf("expired throttles deleted: %d, %v; want some", n, err)
		}
		if n, _ := db.DeleteExpiredLoginThrottles(ctx, r.clock.Now()); n != 0 {
			t.Errorf("deleted %d more, want 0", n)
		}
	})
}

// TestHardening_LockedWrongPasswordLooksUnknown: a locked user and an
// unknown ID get the same error for a wrong password, after the same
// writes (both leave a throttle row behind); only the right password
// learns of the lock.
func TestHardening_LockedWrongPasswordLooksUnknown(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		ctx := context.Background()
		_, master := r.org(t)
		r.lock(t, master.LoginID)
		from := netip.MustParseAddr("192.0.2.40")
		_, _, locked := r.svc.Authenticate(ctx, master.LoginID, "Wrong-password-1", "password login", from)
		_, _, unknown := r.svc.Authenticate(ctx, "nobody0001", "Wrong-password-1", "password login", from)
		if !errors.Is(locked, identity.ErrInvalidCredentials) || locked != unknown {
			t.Fatalf("locked: %v; unknown: %v; want the same ErrInvalidCredentials", locked, unknown)
		}
		if _, _, err := r.svc.Authenticate(ctx, master.LoginID, known(master.LoginID).Password, "password login", from); !errors.Is(err, identity.ErrAccountLocked) {
			t.Errorf("right password of a locked user: %v, want ErrAccountLocked", err)
		}
		// Five more failures of each: both IDs are throttled alike.
		for range identity.DefaultThrottle.PerLoginID.Free {
			_, _, _ = r.svc.Authenticate(ctx, master.LoginID, "Wrong-password-1", "password login", from)
			_, _, _ = r.svc.Authenticate(ctx, "nobody0001", "Wrong-password-1", "password login", from)
		}
		_, _, locked = r.svc.Authenticate(ctx, master.LoginID, "Wrong-password-1", "password login", from)
		_, _, unknown = r.svc.Authenticate(ctx, "nobody0001", "Wrong-password-1", "password login", from)
		if retryAfter(t, locked) != retryAfter(t, unknown) {
			t.Errorf("throttled: locked %v, unknown %v; want the same wait", locked, unknown)
		}
	})
}

// TestHardening_FailureReport: the failures on a known ID, on every path,
// are reported at the next login with the most recent addresses, at most
// ReportAddresses of them whatever the number of attempts, and the report
// stays until the login after.
func TestHardening_FailureReport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		th := identity.Throttle{PerLoginID: identity.ThrottleRule{Free: 100}, PerAddress: identity.ThrottleRule{Free: 100}}
		r, _ := newCountingRig(t, db, th)
		ctx := context.Background()
		_, master := r.org(t)
		for i := range 8 {
			r.clock.Advance(time.Minute)
			from := netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", 100+i))
			if _, _, err := r.svc.Authenticate(ctx, master.LoginID, "Wrong-password-1", "certificate issuance", from); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		r.clock.Advance(time.Minute)
		certAt := r.clock.Now()
		if err := r.svc.CheckPasswordFrom(ctx, r.user(t, master.LoginID), identity.LoginPassword, "Wrong-password-1", "certificate login",
			netip.MustParseAddr("2001:db8::5")); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		// Unknown IDs are reported to nobody.
		_, _, _ = r.svc.Authenticate(ctx, "nobody0002", "Wrong-password-1", "password login", netip.MustParseAddr("192.0.2.99"))

		if rep, err := r.svc.FailureReport(ctx, master.ID); err != nil || rep.Count != 0 {
			t.Fatalf("report before the login: %+v, %v; want none yet", rep, err)
		}
		if err := r.svc.StartReport(ctx, master.ID); err != nil {
			t.Fatal(err)
		}
		rep, err := r.svc.FailureReport(ctx, master.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Count != 9 || len(rep.Sources) != identity.ReportAddresses {
			t.Fatalf("report %+v, want 9 failures and %d addresses", rep, identity.ReportAddresses)
		}
		if s := rep.Sources[0]; s.Address != "2001:db8::5" || s.Channel != "certificate login" || !s.At.Equal(certAt) {
			t.Errorf("newest source %+v, want the certificate login's", s)
		}
		if s := rep.Sources[len(rep.Sources)-1]; s.Address != "192.0.2.104" || s.Channel != "certificate issuance" {
			t.Errorf("oldest source kept %+v, want 192.0.2.104 by issuance", s)
		}
		// The report stays until the next login, which has none.
		if again, _ := r.svc.FailureReport(ctx, master.ID); again.Count != 9 {
			t.Errorf("report read again: %+v", again)
		}
		if err := r.svc.StartReport(ctx, master.ID); err != nil {
			t.Fatal(err)
		}
		if next, _ := r.svc.FailureReport(ctx, master.ID); next.Count != 0 || len(next.Sources) != 0 {
			t.Errorf("report of the next login %+v, want none", next)
		}
		evs, err := r.db.ListAudit(ctx, store.AuditFilter{UserID: master.ID, Type: audit.LoginFailed})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 9 || evs[0].Detail != "certificate issuance from 192.0.2.100: wrong login password" {
			t.Errorf("%d failure events, first %+v", len(evs), evs[0])
		}
	})
}

// TestHardening_LoginThrottleCountsRacingFailures: failures that race are
// each counted once in the shared row, on both engines.
func TestHardening_LoginThrottleCountsRacingFailures(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r, _ := newCountingRig(t, db, identity.Throttle{PerAddress: identity.ThrottleRule{Free: 1000}})
		ctx := context.Background()
		const n = 12
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, _, err := r.svc.Authenticate(ctx, fmt.Sprintf("race%04d", i), "Wrong-password-1", "password login", netip.MustParseAddr("192.0.2.50"))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Errorf("racing failure: %v", err)
			}
		}
		states, err := db.LoginThrottles(ctx, []string{"ip:192.0.2.50"})
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 1 || states[0].Failures != n {
			t.Errorf("address throttle %+v, want %d failures", states, n)
		}
	})
}

// TestHardening_LoginThrottleSetWhileRunning: rules set on a running
// service (a reload) hold from the next attempt on, and the failures
// counted before stay counted.
func TestHardening_LoginThrottleSetWhileRunning(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r, _ := newCountingRig(t, db, identity.Throttle{})
		ctx := context.Background()
		_, master := r.org(t)
		g := r.general(t, master)
		from := netip.MustParseAddr("192.0.2.11")
		try := func() error {
			_, _, err := r.svc.Authenticate(ctx, g.LoginID, "Wrong-password-1", "password login", from)
			return err
		}
		for i := range 2 {
			if err := try(); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("wrong password %d under the defaults: %v, want ErrInvalidCredentials", i+1, err)
			}
		}
		r.svc.SetThrottle(identity.Throttle{PerLoginID: identity.ThrottleRule{Free: 2, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour}})
		if err := try(); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("third wrong password: %v, want ErrInvalidCredentials (it starts the wait)", err)
		}
		if d := retryAfter(t, try()); d != time.Minute {
			t.Errorf("after the new rules' free failures: retry after %s, want the new delay 1m", d)
		}
	})
}
