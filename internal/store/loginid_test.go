package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestHardening_LoginIDsUniqueWithoutRegardToCase: a login ID that differs
// from a user's only in case is taken, deleted users' included, and the
// user is found whatever case is typed.
func TestHardening_LoginIDsUniqueWithoutRegardToCase(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db) // login IDs like m0000001
		upper := strings.ToUpper(master.LoginID)
		g := identity.User{OrganizationID: org.ID, LoginID: upper, Name: "n", Email: "n@example.org",
			Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
		if err := db.InIdentityTx(ctx, func(tx identity.Tx) error { return tx.InsertUser(ctx, &g) }); !errors.Is(err, identity.ErrLoginIDTaken) {
			t.Errorf("user %s beside %s: %v, want ErrLoginIDTaken", upper, master.LoginID, err)
		}
		for _, typed := range []string{master.LoginID, upper, strings.ToUpper(master.LoginID[:1]) + master.LoginID[1:]} {
			u, _, err := db.UserByLoginID(ctx, typed)
			if err != nil || u.ID != master.ID {
				t.Errorf("UserByLoginID(%q) = %d, %v; want user %d", typed, u.ID, err, master.ID)
			}
		}
		// The Kelvin sign lower-cases to k in Unicode, never in a login ID.
		kelvin := strings.Replace(upper, "M", "\u212a", 1)
		if _, _, err := db.UserByLoginID(ctx, kelvin); !errors.Is(err, identity.ErrNotFound) {
			t.Errorf("UserByLoginID(%q) = %v, want ErrNotFound", kelvin, err)
		}
	})
}

// TestHardening_LoginIDCaseMigrationRefusesExistingDuplicates: a database
// that holds two login IDs differing only in case cannot take migration
// 0009, which then changes nothing (one login ID is the bank's to change).
func TestHardening_LoginIDCaseMigrationRefusesExistingDuplicates(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		raw := db.SQL()
		migration, err := os.ReadFile("migrations/" + string(db.Dialect()) + "/0009_login_id_case.sql")
		if err != nil {
			t.Fatal(err)
		}
		org, master := unitOrg(t, db)
		if _, err := raw.ExecContext(ctx, `DROP INDEX users_login_id_lower`); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, unitInsertUser, org.ID, strings.ToUpper(master.LoginID), "general", 0); err != nil {
			t.Fatalf("a user differing only in case, before the migration: %v", err)
		}
		if _, err := raw.ExecContext(ctx, string(migration)); err == nil {
			t.Fatal("migration 0009 applied over two login IDs differing only in case")
		}
		if _, err := raw.ExecContext(ctx, `DELETE FROM users WHERE login_id = $1`, strings.ToUpper(master.LoginID)); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, string(migration)); err != nil {
			t.Fatalf("migration 0009 once the duplicate is gone: %v", err)
		}
	})
}
