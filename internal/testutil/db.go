// Package testutil is test support: databases on both engines, a fake
// clock, a whole bank on real TLS listeners, and zlint. It is imported only
// by tests.
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kinko/internal/notify"
	"kinko/internal/store"
)

// PostgresEnv names the variable that holds the PostgreSQL DSN for tests.
const PostgresEnv = "KINKO_TEST_POSTGRES"

// ForEachDB runs f on SQLite, and on PostgreSQL when KINKO_TEST_POSTGRES
// holds a DSN (the subtest is skipped with a message otherwise). Each run
// gets a new, empty database.
func ForEachDB(t *testing.T, f func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, OpenPostgres(t)) })
}

// OpenSQLite opens a new SQLite database in a temporary directory, whose
// events write their mails to the outbox as a server's do.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kinko.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	db.SetMailRules(notify.Rules{})
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenPostgres opens a new, empty schema in the PostgreSQL database named by
// KINKO_TEST_POSTGRES, dropped when the test ends; it skips the test when
// the variable is unset.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	db.SetMailRules(notify.Rules{})
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns the DSN of a new, empty schema in the PostgreSQL
// database named by KINKO_TEST_POSTGRES, dropped when the test ends; it
// skips the test when the variable is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to a DSN such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable", PostgresEnv)
	}
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("postgres: %s must be a postgres:// URL", PostgresEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "kinko_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
