package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// unitT0 is the time the store tests start at.
var unitT0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

var unitSeq atomic.Int64

// unitName returns a name not used before in this process: a login ID when
// prefix is a letter.
func unitName(prefix string) string {
	return fmt.Sprintf("%s%07d", prefix, unitSeq.Add(1))
}

func unitRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// unitOrg creates an organization and its master user directly in the store.
func unitOrg(t *testing.T, db *store.DB) (identity.Organization, identity.User) {
	t.Helper()
	org := identity.Organization{Code: unitName("9"), Name: "労組 " + unitName("o"), CreatedAt: unitT0}
	master := identity.User{LoginID: unitName("m"), Name: "マスター", Email: "m@example.org", Role: identity.RoleMaster,
		PasswordHash: "hash", ConfirmationHash: "hash", CreatedAt: unitT0}
	err := unitCreateOrg(context.Background(), db, &org, &master,
		audit.Event{At: unitT0, Type: audit.OrganizationCreated, Actor: "operator:test"})
	if err != nil {
		t.Fatalf("create organization: %v", err)
	}
	if org.ID == 0 || master.ID == 0 || master.OrganizationID != org.ID {
		t.Fatalf("create organization: ids not set: org %d, master %d in %d", org.ID, master.ID, master.OrganizationID)
	}
	return org, master
}

// unitCreateOrg inserts org and its master user with ev, in one
// transaction of identity's.
func unitCreateOrg(ctx context.Context, db *store.DB, org *identity.Organization, master *identity.User, ev audit.Event) error {
	return db.InIdentityTx(ctx, func(tx identity.Tx) error {
		if err := tx.InsertOrganization(ctx, org); err != nil {
			return err
		}
		master.OrganizationID = org.ID
		if err := tx.InsertUser(ctx, master); err != nil {
			return err
		}
		ev.OrganizationID, ev.UserID = org.ID, master.ID
		return tx.AppendAudit(ctx, ev)
	})
}

// unitCreateUser inserts u with ev, in one transaction of identity's.
func unitCreateUser(ctx context.Context, db *store.DB, u *identity.User, ev audit.Event) error {
	return db.InIdentityTx(ctx, func(tx identity.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		ev.UserID = u.ID
		return tx.AppendAudit(ctx, ev)
	})
}

// unitUser adds a general user to org directly in the store.
func unitUser(t *testing.T, db *store.DB, org identity.Organization) identity.User {
	t.Helper()
	u := identity.User{OrganizationID: org.ID, LoginID: unitName("g"), Name: "一般", Email: "g@example.org",
		Role: identity.RoleGeneral, PasswordHash: "hash", ConfirmationHash: "hash", CreatedAt: unitT0}
	err := unitCreateUser(context.Background(), db, &u,
		audit.Event{At: unitT0, Type: audit.UserCreated, Actor: "user:test", OrganizationID: org.ID})
	if err != nil {
		t.Fatalf("create general user: %v", err)
	}
	return u
}

// unitPendingRecord returns a pending certificate record for u, valid one
// year from createdAt, not yet stored.
func unitPendingRecord(u identity.User, createdAt time.Time) certs.Certificate {
	return certs.Certificate{Serial: unitRandomHex(16), UserID: u.ID, OrganizationID: u.OrganizationID,
		Status: certs.StatusPending, TBS: []byte("tbs"), NotBefore: createdAt, NotAfter: createdAt.AddDate(1, 0, 0),
		CreatedAt: createdAt}
}

func unitRequested(c certs.Certificate) audit.Event {
	return audit.Event{At: c.CreatedAt, Type: audit.CertificateRequested, Actor: "user:test",
		OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: c.Serial}
}

// unitPending records a pending certificate for u created at createdAt.
func unitPending(t *testing.T, db *store.DB, u identity.User, createdAt time.Time) certs.Certificate {
	t.Helper()
	c := unitPendingRecord(u, createdAt)
	if err := unitInsertPending(context.Background(), db, &c); err != nil {
		t.Fatalf("record pending: %v", err)
	}
	return c
}

// unitInsertPending inserts c as pending in its user's place, with its
// requested event, in one certificate transaction.
func unitInsertPending(ctx context.Context, db *store.DB, c *certs.Certificate) error {
	return db.Certs().InTx(ctx, func(tx certs.Tx) error {
		if err := tx.InsertPending(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, unitRequested(*c))
	})
}

// unitMarkIssued stores the signature of the pending record id with ev, in
// one certificate transaction; an error if the record is not pending.
func unitMarkIssued(ctx context.Context, db *store.DB, id int64, der []byte, fingerprint string, at time.Time, ev audit.Event) error {
	return db.Certs().InTx(ctx, func(tx certs.Tx) error {
		ok, err := tx.SetIssued(ctx, id, der, fingerprint, at)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("certificate %d is not pending", id)
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// unitRevoke revokes record id, ends its sessions and appends ev, in one
// certificate transaction.
func unitRevoke(ctx context.Context, db *store.DB, id int64, r certs.Revocation, ev audit.Event) error {
	return db.Certs().InTx(ctx, func(tx certs.Tx) error {
		if err := tx.SetRevoked(ctx, id, r); err != nil {
			return err
		}
		if err := tx.EndSessions(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// unitIssued records and marks issued a certificate for u, valid from
// createdAt until notAfter.
func unitIssued(t *testing.T, db *store.DB, u identity.User, createdAt, notAfter time.Time) certs.Certificate {
	t.Helper()
	c := unitPendingRecord(u, createdAt)
	c.NotAfter = notAfter
	if err := unitInsertPending(context.Background(), db, &c); err != nil {
		t.Fatalf("record pending: %v", err)
	}
	c.DER, c.Fingerprint = []byte("der "+c.Serial), unitRandomHex(32)
	err := unitMarkIssued(context.Background(), db, c.ID, c.DER, c.Fingerprint, createdAt,
		audit.Event{At: createdAt, Type: audit.CertificateIssued, Actor: "user:test", OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: c.Serial})
	if err != nil {
		t.Fatalf("mark issued: %v", err)
	}
	c.Status, c.IssuedAt = certs.StatusIssued, createdAt
	return c
}

// unitSession stores a session of u, bound to c when c is not nil, and
// returns its hash.
func unitSession(t *testing.T, db *store.DB, u identity.User, c *certs.Certificate, lastSeen, expires time.Time) string {
	t.Helper()
	s := auth.Session{IDHash: unitRandomHex(32), UserID: u.ID, CreatedAt: lastSeen, LastSeenAt: lastSeen, ExpiresAt: expires}
	if c != nil {
		s.CertificateID, s.Fingerprint = c.ID, c.Fingerprint
	}
	if err := db.CreateSession(context.Background(), s, audit.Event{At: lastSeen, Type: audit.LoginSucceeded, Actor: "user:" + u.LoginID, UserID: u.ID}); err != nil {
		t.Fatalf("create session: %v", err)
	}
	return s.IDHash
}

// unitSessionExists reports whether the session with hash h is stored.
func unitSessionExists(t *testing.T, db *store.DB, h string) bool {
	t.Helper()
	_, err := db.SessionPrincipal(context.Background(), h)
	if err != nil && !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("session: %v", err)
	}
	return err == nil
}

// unitAudit returns the audit events of a type.
func unitAudit(t *testing.T, db *store.DB, f store.AuditFilter) []audit.Event {
	t.Helper()
	evs, err := db.ListAudit(context.Background(), f)
	if err != nil {
		t.Fatalf("list audit: %v", err)
	}
	return evs
}

// unitCount runs a COUNT(*) query.
func unitCount(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// unitState dumps every row of the tables that hold state (all but the
// audit log and the migrations table), to compare before and after a change
// that must not happen.
func unitState(t *testing.T, db *store.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"organizations", "users", "certificates", "sessions"} {
		rows, err := db.SQL().Query(`SELECT * FROM ` + table + ` ORDER BY 1`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		rows.Close()
	}
	return b.String()
}

// unitReopenDSN returns a DSN that opens the same database as db.
func unitReopenDSN(t *testing.T, db *store.DB) string {
	t.Helper()
	switch db.Dialect() {
	case store.SQLite:
		var file string
		if err := db.SQL().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
			t.Fatalf("database file: %v", err)
		}
		return file
	case store.Postgres:
		var schema string
		if err := db.SQL().QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatalf("schema: %v", err)
		}
		u, err := url.Parse(os.Getenv(testutil.PostgresEnv))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	t.Fatalf("unknown dialect %q", db.Dialect())
	return ""
}

// unitMigrationVersions lists the versions of the migration files of a
// dialect, from the source tree.
func unitMigrationVersions(t *testing.T, d store.Dialect) []int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", string(d)))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		t.Fatalf("no migrations for %s", d)
	}
	return out
}

type unitMigration struct {
	Version   int
	AppliedAt int64
}

func unitAppliedMigrations(t *testing.T, db *store.DB) []unitMigration {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []unitMigration
	for rows.Next() {
		var m unitMigration
		if err := rows.Scan(&m.Version, &m.AppliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestMigrationsApplyOnceAndReapplyIdempotently(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		want := unitMigrationVersions(t, db.Dialect())
		first := unitAppliedMigrations(t, db)
		var got []int
		for _, m := range first {
			got = append(got, m.Version)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("applied migrations %v, want one row per file %v", got, want)
		}
		org, _ := unitOrg(t, db)

		dsn := unitReopenDSN(t, db)
		for i := range 2 {
			again, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatalf("open #%d on a migrated database: %v", i+2, err)
			}
			after := unitAppliedMigrations(t, again)
			if fmt.Sprint(after) != fmt.Sprint(first) {
				t.Errorf("open #%d: schema_migrations %v, want unchanged %v", i+2, after, first)
			}
			got, err := again.OrganizationByCode(ctx, org.Code)
			if err != nil || got.ID != org.ID {
				t.Errorf("open #%d: organization %s: %+v, %v; want it kept", i+2, org.Code, got, err)
			}
			again.Close()
		}
	})
}

// unitWantConstraint checks that err is the violation of a database
// constraint: pgName is the PostgreSQL constraint name, sqliteText the
// text SQLite puts in its message.
func unitWantConstraint(t *testing.T, db *store.DB, err error, pgName, sqliteText string) {
	t.Helper()
	if err == nil {
		t.Fatalf("statement succeeded, want a violation of %s / %s", pgName, sqliteText)
	}
	want := sqliteText
	if db.Dialect() == store.Postgres {
		want = `"` + pgName + `"`
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}

const unitInsertUser = `INSERT INTO users (organization_id, login_id, name, email, role, password_hash, confirmation_hash,
	password_change_required, confirmation_change_required, failed_logins, created_at)
	VALUES ($1, $2, 'n', 'n@example.org', $3, 'h', 'h', FALSE, FALSE, $4, 0)`

const unitInsertCert = `INSERT INTO certificates (serial, user_id, organization_id, status, active_slot, tbs, der, not_before, not_after, created_at, revoked_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 1, 0, $8)`

func TestConstraintsHoldInTheDatabase(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		raw := db.SQL()

		t.Run("duplicate login ID", func(t *testing.T) {
			org, master := unitOrg(t, db)
			orgs := unitCount(t, db, `SELECT COUNT(*) FROM organizations`)
			org2 := identity.Organization{Code: unitName("9"), Name: "別団体", CreatedAt: unitT0}
			m2 := identity.User{LoginID: master.LoginID, Name: "n", Email: "n@example.org", Role: identity.RoleMaster,
				PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
			err := unitCreateOrg(ctx, db, &org2, &m2, audit.Event{At: unitT0, Type: audit.OrganizationCreated, Actor: "operator:test"})
			if !errors.Is(err, identity.ErrLoginIDTaken) {
				t.Fatalf("second organization with the same master login ID: %v, want ErrLoginIDTaken", err)
			}
			if n := unitCount(t, db, `SELECT COUNT(*) FROM organizations`); n != orgs {
				t.Errorf("organizations %d after the refused creation, want %d (rolled back)", n, orgs)
			}
			g := identity.User{OrganizationID: org.ID, LoginID: master.LoginID, Name: "n", Email: "n@example.org",
				Role: identity.RoleGeneral, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: unitT0}
			if err := unitCreateUser(ctx, db, &g, audit.Event{At: unitT0, Type: audit.UserCreated, Actor: "user:x"}); !errors.Is(err, identity.ErrLoginIDTaken) {
				t.Fatalf("general user with a taken login ID: %v, want ErrLoginIDTaken", err)
			}
			_, err = raw.Exec(unitInsertUser, org.ID, master.LoginID, "general", 0)
			// SQLite checks the index on lower(login_id) (migration 0009) first.
			unitWantConstraint(t, db, err, "users_login_id_key", "UNIQUE constraint failed: index 'users_login_id_lower'")
		})

		t.Run("second master in one organization", func(t *testing.T) {
			org, master := unitOrg(t, db)
			_, err := raw.Exec(unitInsertUser, org.ID, unitName("m"), "master", 0)
			unitWantConstraint(t, db, err, "users_one_master", "UNIQUE constraint failed: users.organization_id")
			if n := unitCount(t, db, `SELECT COUNT(*) FROM users WHERE organization_id = $1 AND role = 'master'`, org.ID); n != 1 {
				t.Fatalf("masters %d, want 1", n)
			}
			// A deleted master no longer holds the place.
			if _, err := raw.Exec(`UPDATE users SET deleted_at = 1 WHERE id = $1`, master.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(unitInsertUser, org.ID, unitName("m"), "master", 0); err != nil {
				t.Fatalf("new master after the old one was deleted: %v", err)
			}
		})

		t.Run("second active certificate for one user", func(t *testing.T) {
			org, master := unitOrg(t, db)
			unitPending(t, db, master, unitT0)
			_, err := raw.Exec(unitInsertCert, unitRandomHex(16), master.ID, org.ID, "pending", true, []byte("t"), nil, nil)
			unitWantConstraint(t, db, err, "certificates_one_active", "UNIQUE constraint failed: certificates.user_id")
			// Certificates out of the active place are history: any number.
			for range 2 {
				if _, err := raw.Exec(unitInsertCert, unitRandomHex(16), master.ID, org.ID, "revoked", nil, []byte("t"), nil, 1); err != nil {
					t.Fatalf("revoked certificate beside the active one: %v", err)
				}
			}
		})

		t.Run("duplicate serial", func(t *testing.T) {
			org, master := unitOrg(t, db)
			c := unitPending(t, db, master, unitT0)
			g := unitUser(t, db, org)
			_, err := raw.Exec(unitInsertCert, c.Serial, g.ID, org.ID, "pending", nil, []byte("t"), nil, nil)
			unitWantConstraint(t, db, err, "certificates_serial_key", "UNIQUE constraint failed: certificates.serial")

			// Through InsertPending: an error, but not the user's place.
			dup := unitPendingRecord(g, unitT0)
			dup.Serial = c.Serial
			err = unitInsertPending(ctx, db, &dup)
			if err == nil || errors.Is(err, certs.ErrPlaceTaken) {
				t.Fatalf("record with a duplicate serial: %v, want a storage error", err)
			}
			if n := unitCount(t, db, `SELECT COUNT(*) FROM certificates WHERE user_id = $1`, g.ID); n != 0 {
				t.Errorf("certificates of the user after the refused record: %d, want 0", n)
			}
			if evs := unitAudit(t, db, store.AuditFilter{UserID: g.ID, Type: audit.CertificateRequested}); len(evs) != 0 {
				t.Errorf("audit events of the refused record: %+v", evs)
			}
		})

		t.Run("foreign keys", func(t *testing.T) {
			org, master := unitOrg(t, db)
			_, err := raw.Exec(unitInsertUser, 987654321, unitName("x"), "general", 0)
			unitWantConstraint(t, db, err, "users_organization_id_fkey", "FOREIGN KEY constraint failed")
			_, err = raw.Exec(unitInsertCert, unitRandomHex(16), 987654321, org.ID, "pending", nil, []byte("t"), nil, nil)
			unitWantConstraint(t, db, err, "certificates_user_id_fkey", "FOREIGN KEY constraint failed")
			_, err = raw.Exec(`INSERT INTO sessions (id_hash, user_id, certificate_id, fingerprint, created_at, last_seen_at, expires_at)
				VALUES ($1, $2, $3, $4, 0, 0, 1)`, unitRandomHex(32), master.ID, 987654321, "fp")
			unitWantConstraint(t, db, err, "sessions_certificate_id_fkey", "FOREIGN KEY constraint failed")
		})

		t.Run("checks", func(t *testing.T) {
			org, master := unitOrg(t, db)
			cases := []struct {
				name string
				q    string
				args []any
			}{
				{"revoked in the active place", unitInsertCert, []any{unitRandomHex(16), master.ID, org.ID, "revoked", true, []byte("t"), nil, 1}},
				{"revoked without time", unitInsertCert, []any{unitRandomHex(16), master.ID, org.ID, "revoked", nil, []byte("t"), nil, nil}},
				{"issued without DER", unitInsertCert, []any{unitRandomHex(16), master.ID, org.ID, "issued", nil, []byte("t"), nil, nil}},
				{"unknown status", unitInsertCert, []any{unitRandomHex(16), master.ID, org.ID, "lost", nil, []byte("t"), []byte("d"), nil}},
				{"unknown role", unitInsertUser, []any{org.ID, unitName("x"), "admin", 0}},
				{"negative failure count", unitInsertUser, []any{org.ID, unitName("x"), "general", -1}},
				{"bound session without fingerprint", `INSERT INTO sessions (id_hash, user_id, certificate_id, fingerprint, created_at, last_seen_at, expires_at)
					VALUES ($1, $2, NULL, $3, 0, 0, 1)`, []any{unitRandomHex(32), master.ID, "fp"}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, err := raw.Exec(tc.q, tc.args...)
					if err == nil {
						t.Fatal("statement succeeded, want a CHECK violation")
					}
					if !strings.Contains(err.Error(), "check constraint") && !strings.Contains(err.Error(), "CHECK constraint failed") {
						t.Fatalf("error %q is not a CHECK violation", err)
					}
				})
			}
		})
	})
}

// TestSQLiteFilesPrivate: the SQLite database and its WAL, which hold
// password hashes, sessions and the audit log, are readable by the
// server's user only, in a new directory of its own, and a database file
// that others could read is made private when opened.
func TestSQLiteFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "kinko.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	unitOrg(t, db) // a write, so that the WAL exists
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, want)
		}
	}
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("a database file readable by others, opened again: %v %v, want mode 0600", st.Mode().Perm(), err)
	}
}
