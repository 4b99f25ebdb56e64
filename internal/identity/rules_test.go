package identity_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// The rules that identity decides inside the store's transaction, on both
// engines: the store only reads, locks and writes.

// newRigOn is an identity service on db with a fake clock and fast password
// hashing.
func newRigOn(t *testing.T, db *store.DB) *identityRig {
	t.Helper()
	clock := testutil.NewClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	svc, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: fastParams}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &identityRig{svc: svc, db: db, clock: clock}
}

func TestR6_GeneralUserLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		ctx := context.Background()
		cases := []struct {
			name    string
			general int // general users before the creation
			deleted int // of which deleted
			want    error
		}{
			{"none yet", 0, 0, nil},
			{"the 19th", identity.MaxGeneralUsers - 1, 0, nil},
			{"the 20th", identity.MaxGeneralUsers, 0, identity.ErrOrganizationUserLimit},
			{"the 20th, one of 19 deleted", identity.MaxGeneralUsers, 1, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, master := r.org(t)
				for i := range tc.general {
					g := r.general(t, master)
					if i < tc.deleted {
						if _, err := db.SQL().Exec(`UPDATE users SET deleted_at = 1 WHERE id = $1`, g.ID); err != nil {
							t.Fatal(err)
						}
					}
				}
				before := len(r.events(t, store.AuditFilter{OrganizationID: master.OrganizationID, Type: audit.UserCreated}))
				id := identityLoginID("g")
				_, _, err := r.svc.CreateGeneralUser(ctx, master, id, "n", "n@example.org")
				if !errors.Is(err, tc.want) {
					t.Fatalf("create: %v, want %v", err, tc.want)
				}
				_, _, lookErr := r.svc.UserByLoginID(ctx, id)
				after := len(r.events(t, store.AuditFilter{OrganizationID: master.OrganizationID, Type: audit.UserCreated}))
				if tc.want == nil && (lookErr != nil || after != before+1) {
					t.Errorf("created user: %v, events %d -> %d", lookErr, before, after)
				}
				if tc.want != nil && (!errors.Is(lookErr, identity.ErrNotFound) || after != before) {
					t.Errorf("refused user: %v (want ErrNotFound), events %d -> %d", lookErr, before, after)
				}
			})
		}
	})
}

func TestR6_RacingCreationsStayWithinLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		_, master := r.org(t)
		const free, racing = 2, 6
		for range identity.MaxGeneralUsers - free {
			r.general(t, master)
		}
		errs := make(chan error, racing)
		var wg sync.WaitGroup
		for range racing {
			wg.Go(func() {
				id := identityLoginID("g")
				_, _, err := r.svc.CreateGeneralUser(context.Background(), master, id, "n", "n@example.org")
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		created := 0
		for err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, identity.ErrOrganizationUserLimit):
				t.Errorf("create: %v", err)
			}
		}
		users, err := r.svc.ListUsers(context.Background(), master.OrganizationID)
		if err != nil {
			t.Fatal(err)
		}
		if created != free || len(users) != 1+identity.MaxGeneralUsers {
			t.Errorf("%d created, %d users; want %d created and the master with %d general users", created, len(users), free, identity.MaxGeneralUsers)
		}
	})
}

func TestLockoutCountsRacingWrongPasswords(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		_, master := r.org(t)
		g := r.general(t, master)
		const attempts = 20
		errs := make(chan error, attempts)
		var wg sync.WaitGroup
		for range attempts {
			wg.Go(func() {
				// Every caller read the user before any failure was counted.
				errs <- r.svc.CheckPassword(context.Background(), g, identity.LoginPassword, "wrong-password", "test")
			})
		}
		wg.Wait()
		close(errs)
		locked := 0
		for err := range errs {
			switch {
			case errors.Is(err, identity.ErrAccountLocked):
				locked++
			case !errors.Is(err, identity.ErrInvalidCredentials):
				t.Errorf("wrong password: %v", err)
			}
		}
		if want := attempts - identity.LockAfter + 1; locked != want {
			t.Errorf("%d calls answered locked, want %d (the %dth and later)", locked, want, identity.LockAfter)
		}
		u := r.user(t, g.LoginID)
		if u.FailedLogins != attempts || !u.LockedAt.Equal(r.clock.Now()) {
			t.Errorf("failed logins %d, locked at %v; want %d, %v", u.FailedLogins, u.LockedAt, attempts, r.clock.Now())
		}
		lockEvents := r.events(t, store.AuditFilter{UserID: g.ID, Type: audit.UserLocked})
		if len(lockEvents) != 1 || lockEvents[0].Detail != "6 wrong passwords in a row" || lockEvents[0].Actor != audit.System {
			t.Errorf("lock events %+v, want exactly one for 6 wrong passwords", lockEvents)
		}
		if n := len(r.events(t, store.AuditFilter{UserID: g.ID, Type: audit.LoginFailed})); n != attempts {
			t.Errorf("failure events %d, want %d", n, attempts)
		}
	})
}

// TestLockKeepsItsCount: a right password checked against a user read
// before the lock does not reset the count of a user locked since.
func TestLockKeepsItsCount(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		ctx := context.Background()
		_, master := r.org(t)
		g := r.general(t, master)
		if err := r.svc.CheckPassword(ctx, g, identity.LoginPassword, "wrong-password", "test"); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		stale := r.user(t, g.LoginID)
		r.lock(t, g.LoginID)
		if err := r.svc.CheckPassword(ctx, stale, identity.LoginPassword, known(g.LoginID).Password, "test"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if u := r.user(t, g.LoginID); !u.Locked() || u.FailedLogins != identity.LockAfter {
			t.Errorf("locked %v with %d failures, want locked with %d", u.Locked(), u.FailedLogins, identity.LockAfter)
		}
	})
}

func TestUnlockDecidesUnderTheLock(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		ctx := context.Background()
		_, master := r.org(t)
		r.lock(t, master.LoginID)
		const racing = 4
		errs := make(chan error, racing)
		var wg sync.WaitGroup
		for range racing {
			wg.Go(func() { errs <- r.svc.UnlockByBank(ctx, master.LoginID, "suzuki", "REQ-1") })
		}
		wg.Wait()
		close(errs)
		unlocked := 0
		for err := range errs {
			switch {
			case err == nil:
				unlocked++
			case !errors.Is(err, identity.ErrNotLocked):
				t.Errorf("unlock: %v", err)
			}
		}
		if unlocked != 1 {
			t.Errorf("%d unlocks succeeded, want 1; the others ErrNotLocked", unlocked)
		}
		if u := r.user(t, master.LoginID); u.Locked() || u.FailedLogins != 0 {
			t.Errorf("after unlock: locked %v, count %d", u.Locked(), u.FailedLogins)
		}
		if n := len(r.events(t, store.AuditFilter{UserID: master.ID, Type: audit.UserUnlocked})); n != 1 {
			t.Errorf("unlock events %d, want 1", n)
		}
	})
}

func TestR8_CertificateLoginChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRigOn(t, db)
		ctx := context.Background()
		session := func(t *testing.T, u identity.User) string {
			t.Helper()
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			h := hex.EncodeToString(b)
			now := r.clock.Now()
			if err := db.CreateSession(ctx, auth.Session{IDHash: h, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
				audit.Event{At: now, Type: audit.LoginSucceeded, Actor: audit.UserActor(u.LoginID)}); err != nil {
				t.Fatal(err)
			}
			return h
		}
		exists := func(t *testing.T, h string) bool {
			t.Helper()
			var n int
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM sessions WHERE id_hash = $1`, h).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		cases := []struct {
			name         string
			before       bool // certificate login before the change
			enable       bool
			code         string // "" for the organization's own
			want         error
			sessionsLeft bool // the organization's password sessions after it
		}{
			{"enabled: password sessions end", false, true, "", nil, false},
			{"disabled: sessions stay", true, false, "", nil, true},
			{"enabled twice", true, true, "", identity.ErrCertificateLoginUnchanged, true},
			{"disabled twice", false, false, "", identity.ErrCertificateLoginUnchanged, true},
			{"unknown organization", false, true, "00000000", identity.ErrNotFound, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				org, master := r.org(t)
				if tc.before {
					if _, err := r.svc.SetCertificateLogin(ctx, org.Code, true, "operator:test", "REQ-0"); err != nil {
						t.Fatal(err)
					}
				}
				_, otherMaster := r.org(t)
				mine, other := session(t, master), session(t, otherMaster)
				code := org.Code
				if tc.code != "" {
					code = tc.code
				}
				typ := audit.CertificateLoginDisabled
				if tc.enable {
					typ = audit.CertificateLoginEnabled
				}
				before := len(r.events(t, store.AuditFilter{Type: typ}))
				got, err := r.svc.SetCertificateLogin(ctx, code, tc.enable, "operator:suzuki", "REQ-1")
				if !errors.Is(err, tc.want) {
					t.Fatalf("change: %v, want %v", err, tc.want)
				}
				if tc.want == nil && (got.ID != org.ID || got.CertificateLogin != tc.enable) {
					t.Errorf("returned %+v, want organization %d with certificate login %v", got, org.ID, tc.enable)
				}
				stored, _ := r.svc.OrganizationByCode(ctx, org.Code)
				if want := tc.before != (tc.want == nil); stored.CertificateLogin != want {
					t.Errorf("stored certificate login %v, want %v", stored.CertificateLogin, want)
				}
				if exists(t, mine) != tc.sessionsLeft || !exists(t, other) {
					t.Errorf("password sessions: the organization's left %v (want %v), another's left %v (want true)",
						exists(t, mine), tc.sessionsLeft, exists(t, other))
				}
				wantEvents := before
				if tc.want == nil {
					wantEvents++
				}
				if n := len(r.events(t, store.AuditFilter{Type: typ})); n != wantEvents {
					t.Errorf("%s events %d, want %d", typ, n, wantEvents)
				}
			})
		}
	})
}
