package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestOpen_RefusesSchemaNewerThanBinary(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		versions := unitMigrationVersions(t, db.Dialect())
		known := slices.Max(versions)
		if got := db.SchemaVersion(); got != known {
			t.Fatalf("SchemaVersion() = %d, want the newest migration %d", got, known)
		}
		newer := known + 1
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, newer); err != nil {
			t.Fatal(err)
		}
		dsn := unitReopenDSN(t, db)
		for _, open := range []func() (*store.DB, error){
			func() (*store.DB, error) { return store.Open(ctx, dsn) },
			func() (*store.DB, error) { return store.OpenWith(ctx, dsn, store.Options{MaxOpenConns: 2}) },
		} {
			again, err := open()
			if err == nil {
				again.Close()
				t.Fatalf("open of a database at schema %d by a binary that knows %d: no error", newer, known)
			}
			if !errors.Is(err, store.ErrSchemaNewer) {
				t.Errorf("error %v, want ErrSchemaNewer", err)
			}
			for _, want := range []string{fmt.Sprintf("schema version %d", newer), fmt.Sprintf("up to %d", known), "docs/operations.md"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		}
	})
}

func TestOpen_PoolSizeFromOptions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		if got, want := db.SQL().Stats().MaxOpenConnections, store.DefaultMaxOpenConns[db.Dialect()]; got != want || want == 0 {
			t.Errorf("default pool: %d connections, want %d", got, want)
		}
		again, err := store.OpenWith(context.Background(), unitReopenDSN(t, db), store.Options{MaxOpenConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if got := again.SQL().Stats().MaxOpenConnections; got != 3 {
			t.Errorf("pool of MaxOpenConns 3: %d connections", got)
		}
	})
}

// TestOpen_KeyValueDSNIsPostgres: a libpq-style DSN opens PostgreSQL (it
// once became the name of a SQLite file in the working directory).
func TestOpen_KeyValueDSNIsPostgres(t *testing.T) {
	u, err := url.Parse(testutil.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	kv := fmt.Sprintf("host=%s port=%s dbname=%s user=%s sslmode=%s search_path=%s",
		u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), u.User.Username(), u.Query().Get("sslmode"), u.Query().Get("search_path"))
	if pw != "" {
		kv += " password=" + pw
	}
	cwd := t.TempDir()
	t.Chdir(cwd)
	db, err := store.Open(context.Background(), kv)
	if err != nil {
		t.Fatalf("open %q: %v", kv, err)
	}
	defer db.Close()
	if db.Dialect() != store.Postgres {
		t.Errorf("dialect %s, want postgres", db.Dialect())
	}
	var schema string
	if err := db.SQL().QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil || schema != u.Query().Get("search_path") {
		t.Errorf("current schema %q, %v; want %q from the DSN", schema, err, u.Query().Get("search_path"))
	}
	if db.SchemaVersion() == 0 {
		t.Errorf("no migrations applied through the key=value DSN")
	}
	if w := db.Where(); !strings.Contains(w, u.Hostname()) || (pw != "" && strings.Contains(w, pw)) {
		t.Errorf("Where() = %q, want the host and no password", w)
	}
	unitNoFiles(t, cwd)
}

func TestOpen_BadDSNRefusedWithClearError(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"key=value that does not parse", "host=127.0.0.1 port=notaport dbname=kinko password=hunter2", "PostgreSQL key=value DSN does not parse"},
		{"key=value of no PostgreSQL parameter", "kinko=1.db", "no PostgreSQL connection parameter"},
		{"URL that does not parse", "postgres://kinko:hunter2@db.internal:notaport/kinko", "PostgreSQL DSN does not parse"},
		{"other scheme", "mysql://kinko:hunter2@db.internal/kinko", `unknown database scheme "mysql"`},
		{"empty", "  ", "no database given"},
	}
	cwd := t.TempDir()
	t.Chdir(cwd)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tt.dsn)
			if err == nil {
				db.Close()
				t.Fatalf("open %q: no error, want %q", tt.dsn, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("open %q: %v, want %q", tt.dsn, err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	unitNoFiles(t, cwd)
}

func TestOpen_SQLiteSchemeAndPathStillWork(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{dir + "/plain.db", "sqlite://" + dir + "/scheme.db"} {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("open %q: %v", dsn, err)
		}
		if db.Dialect() != store.SQLite || db.SchemaVersion() == 0 || !strings.HasPrefix(db.Where(), dir) {
			t.Errorf("open %q: %s, schema %d, at %q; want a migrated SQLite file in %s", dsn, db.Dialect(), db.SchemaVersion(), db.Where(), dir)
		}
		db.Close()
	}
}

// unitNoFiles fails the test if dir holds anything: a DSN became a file.
func unitNoFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a DSN left %q in the working directory", e.Name())
	}
}
