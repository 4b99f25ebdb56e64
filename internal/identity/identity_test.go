package identity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// identityRig is an identity service on a new SQLite database with a fake
// clock and fast password hashing.
type identityRig struct {
	svc   *identity.Service
	db    *store.DB
	clock *testutil.Clock
}

func newIdentityRig(t *testing.T) *identityRig {
	t.Helper()
	db := testutil.OpenSQLite(t)
	clock := testutil.NewClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	svc, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: fastParams}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &identityRig{svc: svc, db: db, clock: clock}
}

var identitySeq atomic.Int64

func identityLoginID(prefix string) string { return fmt.Sprintf("%s%07d", prefix, identitySeq.Add(1)) }

// known returns passwords derived from a login ID.
func known(loginID string) identity.InitialPasswords {
	return identity.InitialPasswords{Password: "Login-" + loginID, ConfirmationPassword: "Confirm-" + loginID}
}

// org creates an organization whose master has known passwords.
func (r *identityRig) org(t *testing.T) (identity.Organization, identity.User) {
	t.Helper()
	id := identityLoginID("m")
	org, master, _, err := r.svc.CreateOrganization(context.Background(), identity.NewOrganization{
		Name: "テスト労働組合", MasterLoginID: id, MasterName: "山田 太郎", MasterEmail: id + "@example.org", Passwords: known(id),
	}, "operator:test")
	if err != nil {
		t.Fatalf("create organization: %v", err)
	}
	return org, master
}

// general adds a general user with known passwords.
func (r *identityRig) general(t *testing.T, master identity.User) identity.User {
	t.Helper()
	id := identityLoginID("g")
	u, _, err := r.svc.CreateGeneralUserWithPasswords(context.Background(), master, id, "佐藤 花子", id+"@example.org", known(id))
	if err != nil {
		t.Fatalf("create general user: %v", err)
	}
	return u
}

// user reloads a user.
func (r *identityRig) user(t *testing.T, loginID string) identity.User {
	t.Helper()
	u, _, err := r.svc.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatalf("user %s: %v", loginID, err)
	}
	return u
}

// lock locks a user with wrong login passwords, as on the certificate
// portal (the paths without a certificate never lock).
func (r *identityRig) lock(t *testing.T, loginID string) {
	t.Helper()
	for i := range identity.LockAfter {
		err := r.svc.CheckPassword(context.Background(), r.user(t, loginID), identity.LoginPassword, "wrong-password", "certificate login")
		if i == identity.LockAfter-1 && !errors.Is(err, identity.ErrAccountLocked) {
			t.Fatalf("wrong password #%d: %v, want ErrAccountLocked", i+1, err)
		}
	}
}

func (r *identityRig) events(t *testing.T, f store.AuditFilter) []audit.Event {
	t.Helper()
	evs, err := r.db.ListAudit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestInitialPasswordsMustBeChanged(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	id := identityLoginID("m")
	org, master, pw, err := r.svc.CreateOrganization(ctx, identity.NewOrganization{
		Name: "生活協同組合", MasterLoginID: id, MasterName: "山田", MasterEmail: "y@example.org",
	}, "operator:test")
	if err != nil {
		t.Fatal(err)
	}
	if len(org.Code) != 8 || org.CertificateLogin {
		t.Errorf("organization %+v, want an 8-digit code and no certificate login (R2)", org)
	}
	given := r.general(t, master)
	gid := identityLoginID("g")
	_, gpw, err := r.svc.CreateGeneralUser(ctx, master, gid, "鈴木", "s@example.org")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		loginID    string
		pw         identity.InitialPasswords
		mustChange bool
	}{
		{"generated master passwords", id, pw, true},
		{"generated general user passwords", gid, gpw, true},
		{"given passwords", given.LoginID, known(given.LoginID), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mustChange && (len(tc.pw.Password) != 12 || len(tc.pw.ConfirmationPassword) != 12 || tc.pw.Password == tc.pw.ConfirmationPassword) {
				t.Errorf("passwords %+v, want two different 12-character passwords", tc.pw)
			}
			u, _, err := r.svc.Authenticate(ctx, tc.loginID, tc.pw.Password, "test", netip.Addr{})
			if err != nil {
				t.Fatalf("log in with the password handed out: %v", err)
			}
			if u.PasswordChangeRequired != tc.mustChange || u.ConfirmationChangeRequired != tc.mustChange {
				t.Errorf("change required: login %v, confirmation %v; want %v", u.PasswordChangeRequired, u.ConfirmationChangeRequired, tc.mustChange)
			}
			if strings.Contains(u.PasswordHash, tc.pw.Password) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
				t.Errorf("stored password hash %q", u.PasswordHash)
			}
			if err := r.svc.CheckPassword(ctx, u, identity.ConfirmationPassword, tc.pw.ConfirmationPassword, "test"); err != nil {
				t.Errorf("confirmation password: %v", err)
			}
		})
	}

	// Changing both clears the flags.
	u := r.user(t, gid)
	if err := r.svc.ChangePassword(ctx, u, identity.LoginPassword, gpw.Password, "Brand-new-1", ""); err != nil {
		t.Fatal(err)
	}
	u = r.user(t, gid)
	if u.PasswordChangeRequired || !u.ConfirmationChangeRequired {
		t.Errorf("after changing the login password: login %v, confirmation %v; want false, true", u.PasswordChangeRequired, u.ConfirmationChangeRequired)
	}
	if err := r.svc.ChangePassword(ctx, u, identity.ConfirmationPassword, gpw.ConfirmationPassword, "Brand-new-2", ""); err != nil {
		t.Fatal(err)
	}
	if u = r.user(t, gid); u.PasswordChangeRequired || u.ConfirmationChangeRequired {
		t.Errorf("after changing both: %v, %v; want false, false", u.PasswordChangeRequired, u.ConfirmationChangeRequired)
	}
}

func TestCreateRefusesInvalidInput(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	cases := []struct {
		name                  string
		loginID, person, mail string
		pw                    identity.InitialPasswords
		want                  func(error) bool
	}{
		{"bad login ID", "abc", "n", "n@example.org", identity.InitialPasswords{}, isLoginIDError},
		{"bad name", identityLoginID("g"), "", "n@example.org", identity.InitialPasswords{}, is(identity.ErrInvalidName)},
		{"bad e-mail", identityLoginID("g"), "n", "nobody", identity.InitialPasswords{}, is(identity.ErrInvalidEmail)},
		{"bad given password", identityLoginID("g"), "n", "n@example.org", identity.InitialPasswords{Password: "short", ConfirmationPassword: "long-enough"}, isPasswordError},
		{"login ID taken", master.LoginID, "n", "n@example.org", identity.InitialPasswords{}, is(identity.ErrLoginIDTaken)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := r.svc.CreateGeneralUserWithPasswords(ctx, master, tc.loginID, tc.person, tc.mail, tc.pw)
			if !tc.want(err) {
				t.Fatalf("create: %v", err)
			}
		})
	}
	if users, _ := r.svc.ListUsers(ctx, master.OrganizationID); len(users) != 1 {
		t.Errorf("users %d after refused creations, want 1", len(users))
	}
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func isLoginIDError(err error) bool {
	var le *identity.LoginIDError
	return errors.As(err, &le)
}

func isPasswordError(err error) bool {
	var pe *identity.PasswordError
	return errors.As(err, &pe)
}

func TestAuthenticateUnknownIDAndWrongPasswordLookAlike(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	_, _, unknownErr := r.svc.Authenticate(ctx, "nobody99", "Login-whatever", "password login", netip.Addr{})
	_, _, wrongErr := r.svc.Authenticate(ctx, master.LoginID, "Login-whatever", "password login", netip.Addr{})
	if !errors.Is(unknownErr, identity.ErrInvalidCredentials) || unknownErr != wrongErr {
		t.Fatalf("unknown ID: %v; wrong password: %v; want the same ErrInvalidCredentials", unknownErr, wrongErr)
	}
	evs := r.events(t, store.AuditFilter{Type: audit.LoginFailed})
	if len(evs) != 2 {
		t.Fatalf("login failures recorded %d, want 2", len(evs))
	}
	if evs[0].Detail != "password login from an unknown address: unknown login ID #"+identity.LoginIDDigest("NOBODY99") || evs[0].UserID != 0 || evs[0].Actor != audit.System {
		t.Errorf("unknown ID event %+v", evs[0])
	}
	if evs[1].Detail != "password login from an unknown address: wrong login password" || evs[1].UserID != master.ID {
		t.Errorf("wrong password event %+v", evs[1])
	}
	// A failure without a certificate counts towards no lock.
	if u := r.user(t, master.LoginID); u.FailedLogins != 0 {
		t.Errorf("master's failure count %d, want 0", u.FailedLogins)
	}
	// What was typed as an unknown ID (often a password typed into the
	// wrong field) is never in the log, however long.
	for _, typed := range []string{"Secret-Passw0rd", strings.Repeat("x", 500)} {
		if _, _, err := r.svc.Authenticate(ctx, typed, "pw", "password login", netip.Addr{}); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		evs = r.events(t, store.AuditFilter{Type: audit.LoginFailed})
		if d := evs[len(evs)-1].Detail; strings.Contains(d, typed[:10]) || len(d) > 100 {
			t.Errorf("unknown login ID %q logged as typed: %q", typed, d)
		}
	}
}

func TestLockoutAfterSixWrongPasswordsInARow(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	g := r.general(t, master)
	pw := known(g.LoginID).Password
	auth := func(p string) error {
		return r.svc.CheckPassword(ctx, r.user(t, g.LoginID), identity.LoginPassword, p, "certificate login")
	}
	// 5 wrong, then the right one: the count starts again.
	for i := range identity.LockAfter - 1 {
		if err := auth("wrong-password"); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("wrong password #%d: %v, want ErrInvalidCredentials", i+1, err)
		}
	}
	if u := r.user(t, g.LoginID); u.FailedLogins != 5 {
		t.Fatalf("failure count %d after 5 wrong passwords, want 5", u.FailedLogins)
	}
	if err := auth(pw); err != nil {
		t.Fatalf("right password after 5 wrong ones: %v", err)
	}
	if u := r.user(t, g.LoginID); u.FailedLogins != 0 || u.Locked() {
		t.Fatalf("after the right password: count %d, locked %v; want 0, false", u.FailedLogins, u.Locked())
	}
	// Now 6 wrong in a row: the 6th locks.
	for i := range identity.LockAfter {
		err := auth("wrong-password")
		want := identity.ErrInvalidCredentials
		if i == identity.LockAfter-1 {
			want = identity.ErrAccountLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong password #%d: %v, want %v", i+1, err, want)
		}
	}
	u := r.user(t, g.LoginID)
	if !u.Locked() || !u.LockedAt.Equal(r.clock.Now()) {
		t.Fatalf("user locked at %v, want %v", u.LockedAt, r.clock.Now())
	}
	// Locked: even the right password is refused, and does not unlock.
	for _, p := range []string{pw, "wrong-password"} {
		if err := auth(p); !errors.Is(err, identity.ErrAccountLocked) {
			t.Errorf("locked user with %q: %v, want ErrAccountLocked", p, err)
		}
	}
	if err := r.svc.CheckPassword(ctx, r.user(t, g.LoginID), identity.ConfirmationPassword, known(g.LoginID).ConfirmationPassword, "test"); !errors.Is(err, identity.ErrAccountLocked) {
		t.Errorf("locked user's confirmation password: %v, want ErrAccountLocked", err)
	}
	if evs := r.events(t, store.AuditFilter{UserID: g.ID, Type: audit.UserLocked}); len(evs) != 1 {
		t.Errorf("lock events %d, want 1", len(evs))
	}

	// Wrong confirmation passwords count too.
	g2 := r.general(t, master)
	for i := range identity.LockAfter {
		err := r.svc.CheckPassword(ctx, r.user(t, g2.LoginID), identity.ConfirmationPassword, "wrong-password", "test")
		want := identity.ErrInvalidConfirmation
		if i == identity.LockAfter-1 {
			want = identity.ErrAccountLocked
		}
		if !errors.Is(err, want) {
			t.Fatalf("wrong confirmation password #%d: %v, want %v", i+1, err, want)
		}
	}
}

func TestUnlockByMaster(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	g := r.general(t, master)
	other := r.general(t, master)
	_, otherMaster := r.org(t)
	otherG := r.general(t, otherMaster)
	for _, id := range []string{g.LoginID, master.LoginID, otherG.LoginID} {
		r.lock(t, id)
	}
	master = r.user(t, master.LoginID) // locked now, which does not stop tests below
	cases := []struct {
		name   string
		actor  identity.User
		target string
		want   error
	}{
		{"general user as caller", other, g.LoginID, identity.ErrForbidden},
		{"master user as target", master, master.LoginID, identity.ErrMasterUnlockByBank},
		{"other organization's user", master, otherG.LoginID, identity.ErrNotFound},
		{"other organization's master", master, otherMaster.LoginID, identity.ErrNotFound},
		{"unknown user", master, "nobody99", identity.ErrNotFound},
		{"user not locked", master, other.LoginID, identity.ErrNotLocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.svc.UnlockByMaster(ctx, tc.actor, tc.target, known(tc.actor.LoginID).ConfirmationPassword); !errors.Is(err, tc.want) {
				t.Fatalf("unlock: %v, want %v", err, tc.want)
			}
		})
	}
	if !r.user(t, otherG.LoginID).Locked() || !r.user(t, master.LoginID).Locked() {
		t.Fatal("a refused unlock unlocked someone")
	}
	// A locked master cannot unlock anybody: the confirmation password is
	// refused while the master is locked.
	if err := r.svc.UnlockByMaster(ctx, master, g.LoginID, known(master.LoginID).ConfirmationPassword); !errors.Is(err, identity.ErrAccountLocked) {
		t.Fatalf("locked master unlocks: %v, want ErrAccountLocked", err)
	}
	if err := r.svc.UnlockByBank(ctx, master.LoginID, "test", "REQ-UNLOCK"); err != nil {
		t.Fatal(err)
	}
	master = r.user(t, master.LoginID)
	if err := r.svc.UnlockByMaster(ctx, master, g.LoginID, "Wrong-password1"); !errors.Is(err, identity.ErrInvalidConfirmation) {
		t.Fatalf("unlock with a wrong confirmation password: %v, want ErrInvalidConfirmation", err)
	}
	if !r.user(t, g.LoginID).Locked() {
		t.Fatal("a wrong confirmation password unlocked the user")
	}
	master = r.user(t, master.LoginID)
	if err := r.svc.UnlockByMaster(ctx, master, g.LoginID, known(master.LoginID).ConfirmationPassword); err != nil {
		t.Fatalf("master unlocks own general user: %v", err)
	}
	if u := r.user(t, g.LoginID); u.Locked() || u.FailedLogins != 0 {
		t.Errorf("after unlock: locked %v, count %d", u.Locked(), u.FailedLogins)
	}
	if _, _, err := r.svc.Authenticate(ctx, g.LoginID, known(g.LoginID).Password, "test", netip.Addr{}); err != nil {
		t.Errorf("log in after unlock: %v", err)
	}
	evs := r.events(t, store.AuditFilter{Type: audit.UserUnlocked, UserID: g.ID})
	if len(evs) != 1 || evs[0].UserID != g.ID || evs[0].Actor != audit.UserActor(master.LoginID) {
		t.Errorf("unlock events %+v, want one by the master for %d", evs, g.ID)
	}
}

func TestUnlockByBank(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	r.lock(t, master.LoginID)
	if err := r.svc.UnlockByBank(ctx, "nobody99", "suzuki", "REQ-2026-001"); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if err := r.svc.UnlockByBank(ctx, master.LoginID, "suzuki", "REQ-2026-001"); err != nil {
		t.Fatalf("bank unlocks the master: %v", err)
	}
	if _, _, err := r.svc.Authenticate(ctx, master.LoginID, known(master.LoginID).Password, "test", netip.Addr{}); err != nil {
		t.Errorf("master logs in after the bank's unlock: %v", err)
	}
	evs := r.events(t, store.AuditFilter{Type: audit.UserUnlocked})
	if len(evs) != 1 || evs[0].RequestRef != "REQ-2026-001" || evs[0].Actor != "operator:suzuki" || evs[0].UserID != master.ID {
		t.Errorf("unlock events %+v, want one by operator:suzuki with REQ-2026-001", evs)
	}
	if err := r.svc.UnlockByBank(ctx, master.LoginID, "suzuki", "REQ-2026-002"); !errors.Is(err, identity.ErrNotLocked) {
		t.Errorf("unlock of an unlocked user: %v, want ErrNotLocked", err)
	}
}

func TestChangePassword(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	pw := known(master.LoginID)
	cases := []struct {
		name          string
		kind          identity.PasswordKind
		current, next string
		reason        string // PasswordError reason
		want          error
	}{
		{"same as current", identity.LoginPassword, pw.Password, pw.Password, "same_as_current", nil},
		{"same as the confirmation password", identity.LoginPassword, pw.Password, pw.ConfirmationPassword, "same_as_other", nil},
		{"confirmation same as the login password", identity.ConfirmationPassword, pw.ConfirmationPassword, pw.Password, "same_as_other", nil},
		{"too short", identity.LoginPassword, pw.Password, "short", "length", nil},
		{"the login ID", identity.LoginPassword, pw.Password, strings.ToUpper(master.LoginID), "same_as_login_id", nil},
		{"wrong current login password", identity.LoginPassword, "wrong-password", "Brand-new-1", "", identity.ErrInvalidCredentials},
		{"wrong current confirmation password", identity.ConfirmationPassword, "wrong-password", "Brand-new-1", "", identity.ErrInvalidConfirmation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := r.svc.ChangePassword(ctx, r.user(t, master.LoginID), tc.kind, tc.current, tc.next, "")
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("change: %v, want %v", err, tc.want)
				}
				return
			}
			var pe *identity.PasswordError
			if !errors.As(err, &pe) || pe.Reason != tc.reason {
				t.Fatalf("change: %v, want PasswordError %q", err, tc.reason)
			}
		})
	}
	if evs := r.events(t, store.AuditFilter{Type: audit.PasswordChanged}); len(evs) != 0 {
		t.Fatalf("refused changes recorded: %+v", evs)
	}
	u := r.user(t, master.LoginID)
	if err := r.svc.ChangePassword(ctx, u, identity.LoginPassword, pw.Password, "Brand-new-1", ""); err != nil {
		t.Fatalf("change: %v", err)
	}
	if _, _, err := r.svc.Authenticate(ctx, master.LoginID, "Brand-new-1", "test", netip.Addr{}); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, _, err := r.svc.Authenticate(ctx, master.LoginID, pw.Password, "test", netip.Addr{}); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Errorf("old password: %v, want ErrInvalidCredentials", err)
	}
	if evs := r.events(t, store.AuditFilter{Type: audit.PasswordChanged}); len(evs) != 1 || evs[0].Password != audit.LoginPassword {
		t.Errorf("change events %+v", evs)
	}
}

func TestR6_AtMost19GeneralUsers(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	for range identity.MaxGeneralUsers {
		r.general(t, master)
	}
	id := identityLoginID("g")
	if _, _, err := r.svc.CreateGeneralUser(ctx, master, id, "n", "n@example.org"); !errors.Is(err, identity.ErrOrganizationUserLimit) {
		t.Fatalf("20th general user: %v, want ErrOrganizationUserLimit", err)
	}
	users, err := r.svc.ListUsers(ctx, master.OrganizationID)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1+identity.MaxGeneralUsers || users[0].ID != master.ID {
		t.Errorf("users %d, want the master and %d general users", len(users), identity.MaxGeneralUsers)
	}
	if _, _, err := r.svc.UserByLoginID(ctx, id); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("refused user: %v, want ErrNotFound", err)
	}
	// Another organization is not affected, and general users create nobody.
	_, otherMaster := r.org(t)
	g := r.general(t, otherMaster)
	if _, _, err := r.svc.CreateGeneralUser(ctx, g, identityLoginID("g"), "n", "n@example.org"); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("general user creates a user: %v, want ErrForbidden", err)
	}
}

func TestSetCertificateLogin(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	org, _ := r.org(t)
	got, err := r.svc.SetCertificateLogin(ctx, org.Code, true, "operator:suzuki", "REQ-5")
	if err != nil || !got.CertificateLogin {
		t.Fatalf("enable: %+v, %v", got, err)
	}
	if _, err := r.svc.SetCertificateLogin(ctx, org.Code, true, "operator:suzuki", "REQ-6"); !errors.Is(err, identity.ErrCertificateLoginUnchanged) {
		t.Errorf("enable twice: %v, want ErrCertificateLoginUnchanged", err)
	}
	if _, err := r.svc.SetCertificateLogin(ctx, org.Code, false, "operator:suzuki", "REQ-7"); err != nil {
		t.Fatalf("disable: %v", err)
	}
	evs := r.events(t, store.AuditFilter{OrganizationID: org.ID})
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type)+" "+ev.RequestRef)
	}
	want := []string{string(audit.OrganizationCreated) + " ", string(audit.CertificateLoginEnabled) + " REQ-5", string(audit.CertificateLoginDisabled) + " REQ-7"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("events %q, want %q", types, want)
	}
}

func TestAuthenticateUnknownIDCostsAPasswordCheck(t *testing.T) {
	// With the real parameters, an unknown login ID must take about as long
	// as a password check, or the time of the answer tells which IDs exist.
	// Minimums of a few runs keep the comparison steady on a busy machine.
	db := testutil.OpenSQLite(t)
	h := identity.Hasher{Params: identity.DefaultParams}
	svc, err := identity.New(identity.Config{Store: db, Hasher: h})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash("Some-password-1")
	if err != nil {
		t.Fatal(err)
	}
	minOf := func(f func()) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			f()
			best = min(best, time.Since(start))
		}
		return best
	}
	verify := minOf(func() { _, _ = h.Verify("Other-password-1", hash) })
	unknown := minOf(func() {
		if _, _, err := svc.Authenticate(context.Background(), "nobody99", "Other-password-1", "test", netip.Addr{}); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("unknown ID: %v", err)
		}
	})
	if unknown < verify*3/10 {
		t.Errorf("unknown login ID answered in %s, a password check takes %s: no hash was verified", unknown, verify)
	}
}

// failingAudit is a store whose audit log cannot be written.
type failingAudit struct{ identity.Store }

func (failingAudit) AppendAudit(context.Context, audit.Event) error {
	return errors.New("disk full")
}

// TestFailedAuditWriteIsLogged: a refused login whose audit event, written
// on its own, cannot be written is still refused alike, and the failure is
// logged, never swallowed.
func TestFailedAuditWriteIsLogged(t *testing.T) {
	r := newIdentityRig(t)
	var log bytes.Buffer
	svc, err := identity.New(identity.Config{Store: failingAudit{r.db}, Hasher: identity.Hasher{Params: fastParams}, Now: r.clock.Now,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, master := r.org(t)
	r.lock(t, master.LoginID)
	if _, _, err := svc.Authenticate(context.Background(), master.LoginID, known(master.LoginID).Password, "test", netip.Addr{}); !errors.Is(err, identity.ErrAccountLocked) {
		t.Fatalf("locked user's right password: %v, want ErrAccountLocked", err)
	}
	if out := log.String(); !strings.Contains(out, "audit event not recorded") || !strings.Contains(out, "disk full") ||
		!strings.Contains(out, string(audit.LoginFailed)) {
		t.Fatalf("the failed audit write was not logged with its type and cause:\n%s", out)
	}
}

func TestResetPasswordsByMaster(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	g := r.general(t, master)
	other := r.general(t, master)
	_, otherMaster := r.org(t)
	otherG := r.general(t, otherMaster)
	cases := []struct {
		name   string
		actor  identity.User
		target string
		want   error
	}{
		{"general user as caller", other, g.LoginID, identity.ErrForbidden},
		{"master user as target", master, master.LoginID, identity.ErrMasterResetByBank},
		{"other organization's user", master, otherG.LoginID, identity.ErrNotFound},
		{"other organization's master", master, otherMaster.LoginID, identity.ErrNotFound},
		{"unknown user", master, "nobody99", identity.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.svc.ResetPasswordsByMaster(ctx, tc.actor, tc.target, known(tc.actor.LoginID).ConfirmationPassword); !errors.Is(err, tc.want) {
				t.Fatalf("reset: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := r.svc.ResetPasswordsByMaster(ctx, master, g.LoginID, "Wrong-password1"); !errors.Is(err, identity.ErrInvalidConfirmation) {
		t.Fatalf("reset with a wrong confirmation password: %v, want ErrInvalidConfirmation", err)
	}
	if u := r.user(t, master.LoginID); u.FailedLogins != 1 {
		t.Errorf("master's failure count after a wrong confirmation password: %d, want 1", u.FailedLogins)
	}
	if _, _, err := r.svc.Authenticate(ctx, g.LoginID, known(g.LoginID).Password, "test", netip.Addr{}); err != nil {
		t.Fatalf("a refused reset changed the password: %v", err)
	}
	r.lock(t, g.LoginID)
	pw, err := r.svc.ResetPasswordsByMaster(ctx, r.user(t, master.LoginID), g.LoginID, known(master.LoginID).ConfirmationPassword)
	if err != nil {
		t.Fatalf("master resets own general user: %v", err)
	}
	if pw.Password == "" || pw.ConfirmationPassword == "" || pw.Password == pw.ConfirmationPassword {
		t.Fatalf("new passwords %+v", pw)
	}
	u := r.user(t, g.LoginID)
	if u.Locked() || u.FailedLogins != 0 || !u.PasswordChangeRequired || !u.ConfirmationChangeRequired {
		t.Errorf("after reset: locked %v, count %d, change required %v/%v", u.Locked(), u.FailedLogins, u.PasswordChangeRequired, u.ConfirmationChangeRequired)
	}
	if _, _, err := r.svc.Authenticate(ctx, g.LoginID, known(g.LoginID).Password, "test", netip.Addr{}); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Errorf("old password after reset: %v, want ErrInvalidCredentials", err)
	}
	if _, _, err := r.svc.Authenticate(ctx, g.LoginID, pw.Password, "test", netip.Addr{}); err != nil {
		t.Errorf("new password after reset: %v", err)
	}
	if err := r.svc.CheckPassword(ctx, r.user(t, g.LoginID), identity.ConfirmationPassword, pw.ConfirmationPassword, "test"); err != nil {
		t.Errorf("new confirmation password after reset: %v", err)
	}
	evs := r.events(t, store.AuditFilter{Type: audit.PasswordsReset, UserID: g.ID})
	if len(evs) != 1 || evs[0].Actor != audit.UserActor(master.LoginID) || evs[0].OrganizationID != master.OrganizationID {
		t.Errorf("reset events %+v, want one by the master", evs)
	}
}

// TestResetPasswordsByMasterLockout: the master's confirmation password is
// checked as every confirmation password is, and the master is locked at
// the LockAfter-th wrong one.
func TestResetPasswordsByMasterLockout(t *testing.T) {
	r := newIdentityRig(t)
	ctx := context.Background()
	_, master := r.org(t)
	g := r.general(t, master)
	var err error
	for i := 0; i < identity.LockAfter; i++ {
		_, err = r.svc.ResetPasswordsByMaster(ctx, r.user(t, master.LoginID), g.LoginID, "Wrong-password1")
	}
	if !errors.Is(err, identity.ErrAccountLocked) {
		t.Fatalf("after %d wrong confirmation passwords: %v, want ErrAccountLocked", identity.LockAfter, err)
	}
	if _, err := r.svc.ResetPasswordsByMaster(ctx, r.user(t, master.LoginID), g.LoginID, known(master.LoginID).ConfirmationPassword); !errors.Is(err, identity.ErrAccountLocked) {
		t.Fatalf("locked master resets: %v, want ErrAccountLocked", err)
	}
}
