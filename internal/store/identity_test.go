package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestIdentityTxReadsAndLocks(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
			byID, err := tx.LockOrganization(ctx, org.ID)
			if err != nil {
				return err
			}
			byCode, err := tx.LockOrganizationByCode(ctx, org.Code)
			if err != nil {
				return err
			}
			if byID != org || byCode != org {
				t.Errorf("locked organizations %+v and %+v, want %+v", byID, byCode, org)
			}
			u, err := tx.LockUser(ctx, master.ID)
			if err != nil {
				return err
			}
			if u != master {
				t.Errorf("locked user %+v, want %+v", u, master)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			do   func(tx identity.Tx) error
		}{
			{"organization", func(tx identity.Tx) error { _, err := tx.LockOrganization(ctx, 987654321); return err }},
			{"organization by code", func(tx identity.Tx) error { _, err := tx.LockOrganizationByCode(ctx, "00000000"); return err }},
			{"user", func(tx identity.Tx) error { _, err := tx.LockUser(ctx, 987654321); return err }},
			{"user's password", func(tx identity.Tx) error {
				return tx.SetPassword(ctx, 987654321, identity.LoginPassword, "h", false)
			}},
		}
		for _, tc := range cases {
			t.Run("unknown "+tc.name, func(t *testing.T) {
				if err := db.InIdentityTx(ctx, tc.do); !errors.Is(err, identity.ErrNotFound) {
					t.Errorf("%v, want ErrNotFound", err)
				}
			})
		}
	})
}

func TestIdentityTxCountsGeneralUsersNotDeleted(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, _ := unitOrg(t, db)
		other, _ := unitOrg(t, db)
		unitUser(t, db, other)
		g := []identity.User{unitUser(t, db, org), unitUser(t, db, org), unitUser(t, db, org)}
		if _, err := db.SQL().Exec(`UPDATE users SET deleted_at = 1 WHERE id = $1`, g[1].ID); err != nil {
			t.Fatal(err)
		}
		var n int
		err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
			var err error
			n, err = tx.CountGeneralUsers(ctx, org.ID)
			return err
		})
		if err != nil || n != 2 {
			t.Errorf("general users %d (%v), want 2: the master, the deleted one and another organization's are not counted", n, err)
		}
	})
}

func TestIdentityTxWritesUsers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		t.Run("login failures and lock", func(t *testing.T) {
			for _, want := range []struct {
				failed   int
				lockedAt time.Time
			}{{3, time.Time{}}, {6, unitT0}, {0, time.Time{}}} {
				err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
					return tx.SetLoginFailures(ctx, master.ID, want.failed, want.lockedAt)
				})
				if err != nil {
					t.Fatal(err)
				}
				u, _, err := db.UserByID(ctx, master.ID)
				if err != nil {
					t.Fatal(err)
				}
				if u.FailedLogins != want.failed || !u.LockedAt.Equal(want.lockedAt) {
					t.Errorf("failed %d, locked at %v; want %d, %v", u.FailedLogins, u.LockedAt, want.failed, want.lockedAt)
				}
			}
		})
		t.Run("passwords", func(t *testing.T) {
			err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
				if err := tx.SetPassword(ctx, master.ID, identity.LoginPassword, "login", true); err != nil {
					return err
				}
				return tx.SetPassword(ctx, master.ID, identity.ConfirmationPassword, "confirmation", false)
			})
			if err != nil {
				t.Fatal(err)
			}
			u, _, _ := db.UserByID(ctx, master.ID)
			if u.PasswordHash != "login" || !u.PasswordChangeRequired || u.ConfirmationHash != "confirmation" || u.ConfirmationChangeRequired {
				t.Errorf("user %+v, want the new hashes, the login one to be changed", u)
			}
		})
		t.Run("taken login ID and code", func(t *testing.T) {
			g := identity.User{OrganizationID: org.ID, LoginID: master.LoginID, Name: "n", Email: "n@example.org",
				Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
			if err := db.InIdentityTx(ctx, func(tx identity.Tx) error { return tx.InsertUser(ctx, &g) }); !errors.Is(err, identity.ErrLoginIDTaken) {
				t.Errorf("user with a taken login ID: %v, want ErrLoginIDTaken", err)
			}
			o := identity.Organization{Code: org.Code, Name: "n", CreatedAt: unitT0}
			if err := db.InIdentityTx(ctx, func(tx identity.Tx) error { return tx.InsertOrganization(ctx, &o) }); !errors.Is(err, identity.ErrOrganizationCodeTaken) {
				t.Errorf("organization with a taken code: %v, want ErrOrganizationCodeTaken", err)
			}
		})
	})
}

func TestIdentityTxCertificateLoginAndPasswordSessions(t *testing.T) {
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
		err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
			if err := tx.SetCertificateLogin(ctx, org.ID, true); err != nil {
				return err
			}
			return tx.DeletePasswordSessions(ctx, org.ID)
		})
		if err != nil {
			t.Fatal(err)
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
	})
}

// TestIdentityTxDeleteUserSessions: a user's sessions go, password and
// certificate ones alike, but the one excepted; another user's stay; with
// no exception, every one of the user's goes.
func TestIdentityTxDeleteUserSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		g := unitUser(t, db, org)
		c := unitIssued(t, db, g, unitT0, unitT0.AddDate(1, 0, 0))
		end := unitT0.Add(12 * time.Hour)
		kept := unitSession(t, db, g, nil, unitT0, end)
		other := unitSession(t, db, g, nil, unitT0, end)
		certSession := unitSession(t, db, g, &c, unitT0, end)
		masters := unitSession(t, db, master, nil, unitT0, end)
		del := func(except string) {
			t.Helper()
			if err := db.InIdentityTx(ctx, func(tx identity.Tx) error { return tx.DeleteUserSessions(ctx, g.ID, except) }); err != nil {
				t.Fatal(err)
			}
		}
		want := func(step string, hashes map[string]bool) {
			t.Helper()
			for name, w := range hashes {
				if got := unitSessionExists(t, db, name); got != w {
					t.Errorf("%s: session %s exists = %v, want %v", step, name[:8], got, w)
				}
			}
		}
		del(kept)
		want("all but one", map[string]bool{kept: true, other: false, certSession: false, masters: true})
		del("")
		want("all", map[string]bool{kept: false, masters: true})
	})
}

// TestIdentityLocksLetOthersInsertRowsNamingThem: while a transaction holds
// an organization's or a user's lock, other transactions still insert the
// rows that name them (a user, a session), whose foreign-key checks take a
// FOR KEY SHARE lock on the row: the lock is FOR NO KEY UPDATE, never FOR
// UPDATE, which would queue every such insert behind it. PostgreSQL only:
// SQLite has one writer at a time.
func TestIdentityLocksLetOthersInsertRowsNamingThem(t *testing.T) {
	db := testutil.OpenPostgres(t)
	ctx := context.Background()
	org, master := unitOrg(t, db)
	cases := []struct {
		name   string
		lock   func(tx identity.Tx) error
		insert func(ctx context.Context) error
	}{
		{"organization, a user inserted", func(tx identity.Tx) error {
			_, err := tx.LockOrganization(ctx, org.ID)
			return err
		}, func(ctx context.Context) error {
			u := identity.User{OrganizationID: org.ID, LoginID: unitName("g"), Name: "n", Email: "n@example.org",
				Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
			return unitCreateUser(ctx, db, &u, audit.Event{At: unitT0, Type: audit.UserCreated, Actor: "user:test", OrganizationID: org.ID})
		}},
		{"organization by code, a user inserted", func(tx identity.Tx) error {
			_, err := tx.LockOrganizationByCode(ctx, org.Code)
			return err
		}, func(ctx context.Context) error {
			_, err := db.SQL().ExecContext(ctx, unitInsertUser, org.ID, unitName("g"), "general", 0)
			return err
		}},
		{"user, a session inserted", func(tx identity.Tx) error {
			_, err := tx.LockUser(ctx, master.ID)
			return err
		}, func(ctx context.Context) error {
			_, err := db.SQL().ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
				VALUES ($1, $2, 0, 0, 1)`, unitRandomHex(32), master.ID)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
				if err := tc.lock(tx); err != nil {
					return err
				}
				ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if err := tc.insert(ictx); err != nil {
					t.Errorf("insert while the lock is held: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
