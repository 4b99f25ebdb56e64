package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestRecordLoginFailureIsAtomic(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, _ := unitOrg(t, db)
		u := unitUser(t, db, org)
		const attempts = 20
		var wg sync.WaitGroup
		locked := make(chan bool, attempts)
		for range attempts {
			wg.Go(func() {
				l, err := db.RecordLoginFailure(ctx, u.ID, identity.LockAfter, unitT0, audit.Event{At: unitT0, Type: audit.LoginFailed,
					Actor: "user:" + u.LoginID, OrganizationID: org.ID, UserID: u.ID, Detail: "wrong login password"})
				if err != nil {
					t.Errorf("record login failure: %v", err)
				}
				locked <- l
			})
		}
		wg.Wait()
		close(locked)
		nLocked := 0
		for l := range locked {
			if l {
				nLocked++
			}
		}
		if want := attempts - identity.LockAfter + 1; nLocked != want {
			t.Errorf("%d calls reported the user locked, want %d (the %dth and later)", nLocked, want, identity.LockAfter)
		}
		got, _, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FailedLogins != attempts || !got.LockedAt.Equal(unitT0) {
			t.Errorf("failed_logins %d, locked at %s; want %d, %s", got.FailedLogins, got.LockedAt, attempts, unitT0)
		}
		lockEvents := unitAudit(t, db, store.AuditFilter{UserID: u.ID, Type: audit.UserLocked})
		if len(lockEvents) != 1 || lockEvents[0].Detail != "6 wrong passwords in a row" || lockEvents[0].Actor != audit.System {
			t.Errorf("lock events %+v, want exactly one for 6 wrong passwords", lockEvents)
		}
		if n := len(unitAudit(t, db, store.AuditFilter{UserID: u.ID, Type: audit.LoginFailed})); n != attempts {
			t.Errorf("failure events %d, want %d", n, attempts)
		}

		// An unknown user: an error, and nothing recorded.
		before := len(unitAudit(t, db, store.AuditFilter{}))
		if _, err := db.RecordLoginFailure(ctx, 987654321, identity.LockAfter, unitT0, audit.Event{At: unitT0, Type: audit.LoginFailed, Actor: "x"}); err == nil {
			t.Error("failure of an unknown user recorded without error")
		}
		if after := len(unitAudit(t, db, store.AuditFilter{})); after != before {
			t.Errorf("audit events %d -> %d after a failed change", before, after)
		}
	})
}

func TestR8_EnablingCertificateLoginEndsPasswordSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		g := unitUser(t, db, org)
		c := unitIssued(t, db, g, unitT0, unitT0.AddDate(1, 0, 0))
		otherOrg, otherMaster := unitOrg(t, db)
		end := unitT0.Add(12 * time.Hour)
		sessions := []struct {
			name string
			hash string
			want bool
		}{
			{"master's password session", unitSession(t, db, master, nil, unitT0, end), false},
			{"general user's password session", unitSession(t, db, g, nil, unitT0, end), false},
			{"certificate session", unitSession(t, db, g, &c, unitT0, end), true},
			{"other organization's password session", unitSession(t, db, otherMaster, nil, unitT0, end), true},
		}
		ev := audit.Event{At: unitT0, Type: audit.CertificateLoginEnabled, Actor: "operator:suzuki", RequestRef: "REQ-1"}
		got, err := db.SetCertificateLogin(ctx, org.Code, true, ev)
		if err != nil {
			t.Fatalf("enable certificate login: %v", err)
		}
		if !got.CertificateLogin || got.ID != org.ID {
			t.Errorf("returned organization %+v, want %d with certificate login", got, org.ID)
		}
		for _, s := range sessions {
			if exists := unitSessionExists(t, db, s.hash); exists != s.want {
				t.Errorf("%s exists = %v, want %v", s.name, exists, s.want)
			}
		}
		stored, _ := db.OrganizationByCode(ctx, org.Code)
		other, _ := db.OrganizationByCode(ctx, otherOrg.Code)
		if !stored.CertificateLogin || other.CertificateLogin {
			t.Errorf("certificate login stored %v (want true), other organization %v (want false)", stored.CertificateLogin, other.CertificateLogin)
		}
		evs := unitAudit(t, db, store.AuditFilter{OrganizationID: org.ID, Type: audit.CertificateLoginEnabled})
		if len(evs) != 1 || evs[0].RequestRef != "REQ-1" {
			t.Errorf("events %+v, want one with REQ-1 for organization %d", evs, org.ID)
		}

		if _, err := db.SetCertificateLogin(ctx, org.Code, true, ev); !errors.Is(err, identity.ErrCertificateLoginUnchanged) {
			t.Errorf("enable twice: %v, want ErrCertificateLoginUnchanged", err)
		}
		if _, err := db.SetCertificateLogin(ctx, "00000000", true, ev); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("unknown organization: %v, want ErrNotFound", err)
		}
		if n := len(unitAudit(t, db, store.AuditFilter{Type: audit.CertificateLoginEnabled})); n != 1 {
			t.Errorf("refused changes wrote audit events: %d, want 1", n)
		}

		// Turning it off ends nothing.
		cert := unitSession(t, db, g, &c, unitT0, end)
		if _, err := db.SetCertificateLogin(ctx, org.Code, false, audit.Event{At: unitT0, Type: audit.CertificateLoginDisabled, Actor: "operator:x"}); err != nil {
			t.Fatalf("disable: %v", err)
		}
		if !unitSessionExists(t, db, cert) {
			t.Error("disabling certificate login ended a certificate session")
		}
	})
}

func TestCreateGeneralUserLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, _ := unitOrg(t, db)
		const limit = 3
		for i := range limit + 1 {
			u := identity.User{OrganizationID: org.ID, LoginID: unitName("g"), Name: "n", Email: "n@example.org",
				Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
			err := db.CreateGeneralUser(ctx, &u, limit, audit.Event{At: unitT0, Type: audit.UserCreated, Actor: "user:x", OrganizationID: org.ID})
			if i < limit && err != nil {
				t.Fatalf("user %d: %v", i+1, err)
			}
			if i == limit && !errors.Is(err, identity.ErrOrganizationUserLimit) {
				t.Fatalf("user %d: %v, want ErrOrganizationUserLimit", i+1, err)
			}
		}
		users, err := db.ListUsers(ctx, org.ID)
		if err != nil || len(users) != limit+1 || users[0].Role != identity.RoleMaster {
			t.Fatalf("users %d (%v), want master + %d", len(users), err, limit)
		}
		if n := len(unitAudit(t, db, store.AuditFilter{OrganizationID: org.ID, Type: audit.UserCreated})); n != limit {
			t.Errorf("user.created events %d, want %d", n, limit)
		}
		// A deleted user no longer counts.
		if _, err := db.SQL().Exec(`UPDATE users SET deleted_at = 1 WHERE id = $1`, users[1].ID); err != nil {
			t.Fatal(err)
		}
		u := identity.User{OrganizationID: org.ID, LoginID: unitName("g"), Name: "n", Email: "n@example.org",
			Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
		if err := db.CreateGeneralUser(ctx, &u, limit, audit.Event{At: unitT0, Type: audit.UserCreated, Actor: "user:x"}); err != nil {
			t.Fatalf("user after a deletion: %v", err)
		}
	})
}
