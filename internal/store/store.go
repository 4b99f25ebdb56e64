// Package store keeps kinko's state in SQLite (embedded, the default) or
// PostgreSQL (for several servers sharing one database). It implements the
// Store interfaces that the domain packages declare, applies the embedded
// migrations of its dialect at start-up, and writes each audit event in the
// transaction of the change it records. It holds no business rules beyond
// the invariants that the database itself must guarantee.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Dialect is a database engine.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is kinko's database.
type DB struct {
	db      *sql.DB
	dialect Dialect
	// certWrites batches the certificate writes of SQLite (see certs.go).
	certWrites groupCommit
	// reads keeps prepared the lookups made on every request.
	reads stmtCache
	// mailRules says which mails an event causes (SetMailRules).
	mailRules MailRules
	// schema is the schema version after the migrations of Open.
	schema int
	// where names the database without secrets, for logs.
	where string
}

// Dialect returns the engine in use.
func (d *DB) Dialect() Dialect { return d.dialect }

// SchemaVersion returns the database's schema version (the newest migration
// recorded) as Open left it.
func (d *DB) SchemaVersion() int { return d.schema }

// Where names the database for logs: the SQLite file, or PostgreSQL's
// host, port and database, never a password.
func (d *DB) Where() string { return d.where }

// SQL returns the underlying handle, for tests and tools.
func (d *DB) SQL() *sql.DB { return d.db }

// Close closes the database.
func (d *DB) Close() error {
	d.reads.m.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return d.db.Close()
}

// SQLitePath returns the DSN of the SQLite database file in a data directory.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "kinko.db") }

// Options tune the connection pool of a database. Zero values are the
// defaults of the engine.
type Options struct {
	// MaxOpenConns bounds the connections open at once (and those kept
	// idle). Zero: DefaultMaxOpenConns of the engine.
	MaxOpenConns int
}

// DefaultMaxOpenConns is the pool size of each engine when Options leave
// it zero: PostgreSQL's server processes are a shared budget (several
// kinko servers share max_connections), SQLite's connections are cheap
// but writers queue for one lock anyway.
var DefaultMaxOpenConns = map[Dialect]int{Postgres: 20, SQLite: 8}

// Open opens the database named by dsn with the default pool and applies
// pending migrations; see OpenWith.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith opens the database named by dsn and applies pending
// migrations. A dsn starting with postgres:// or postgresql://, or written
// in libpq's key=value form ("host=db.internal dbname=kinko user=kinko"),
// is PostgreSQL; one starting with sqlite:// or without a scheme is the
// path of a SQLite file (created if missing). Any other scheme, and a
// key=value DSN that does not parse, is an error. A database whose schema
// has a migration this binary does not know is refused (ErrSchemaNewer).
func OpenWith(ctx context.Context, dsn string, opts Options) (*DB, error) {
	dialect, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	conns := opts.MaxOpenConns
	if conns <= 0 {
		conns = DefaultMaxOpenConns[dialect]
	}
	var d *DB
	if dialect == Postgres {
		db, err := sql.Open("pgx", target)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		d = &DB{db: db, dialect: Postgres}
	} else {
		if err := privateFile(target); err != nil {
			return nil, err
		}
		db, err := sql.Open("sqlite", sqliteDSN(target, ""))
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite %s: %w", target, err)
		}
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		d = &DB{db: db, dialect: SQLite}
	}
	d.where = describeTarget(dialect, target)
	if err := d.db.PingContext(ctx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := d.migrate(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

// sqliteDSN is the driver's DSN of the SQLite file at path, with kinko's
// pragmas; mode is the URI's mode parameter ("rw": the file must exist),
// empty for the default (created if missing).
func sqliteDSN(path, mode string) string {
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(20000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	if mode != "" {
		q.Set("mode", mode)
	}
	return "file:" + path + "?" + q.Encode()
}

// privateFile makes the SQLite database file at path, and the directory
// it is in when that is missing, private to the server's user (0600 and
// 0700): it holds password hashes, sessions and the audit log. SQLite
// creates its -wal and -shm files with the database file's mode. A file
// that others may read is made private.
func privateFile(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: sqlite directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: sqlite file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: sqlite file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("store: sqlite file: making it private: %w", err)
		}
	}
	return nil
}

// migrate applies, each in its own transaction, the embedded migrations not
// yet recorded in schema_migrations.
func (d *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + string(d.dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if d.dialect == Postgres {
		// Several servers may start at once: one migrates, the others wait.
		conn, err := d.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(4711001)`); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(4711001)`)
	}
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	known := make(map[int]bool, len(names))
	latest := 0
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s: bad name", name)
		}
		known[version] = true
		latest = max(latest, version)
	}
	if err := d.refuseNewerSchema(ctx, known, latest); err != nil {
		return err
	}
	for _, name := range names {
		version, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		body, err := migrations.ReadFile(dir + "/" + name)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
		err = d.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			if after := migrationSteps[version]; after != nil {
				if err := after(ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, micros(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
	}
	if err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&d.schema); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	return nil
}

// ErrSchemaNewer is the error of Open on a database that a newer kinko has
// migrated: its schema_migrations records a migration this binary does not
// embed, so this binary would misread it.
var ErrSchemaNewer = errors.New("store: the database's schema is newer than this binary knows")

// refuseNewerSchema returns ErrSchemaNewer, naming both versions, when
// schema_migrations records a version not in known; latest is the newest
// version this binary embeds.
func (d *DB) refuseNewerSchema(ctx context.Context, known map[int]bool, latest int) error {
	rows, err := d.db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	defer rows.Close()
	var unknown []int
	newest := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return fmt.Errorf("store: schema version: %w", err)
		}
		newest = max(newest, v)
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: the database is at schema version %d, this binary knows versions up to %d (migrations %v are unknown to it); run the kinko release that migrated it, or a newer one (see docs/operations.md, Upgrades)",
			ErrSchemaNewer, newest, latest, unknown)
	}
	return nil
}

// tx runs fn in a transaction. On SQLite the transaction takes the write
// lock at BEGIN (IMMEDIATE), so writers are serialized; on PostgreSQL the
// caller locks the rows it decides on.
func (d *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// stmtCache holds prepared statements by query. On SQLite a query prepared
// once per connection costs a fraction of one parsed on every call, and the
// lookups of every request on the certificate portal (session, certificate,
// user) are a good part of its cost; PostgreSQL's driver keeps its own.
type stmtCache struct {
	m sync.Map // query -> *sql.Stmt
}

// queryRow runs a query that returns at most one row, outside any
// transaction, with the statement kept prepared on SQLite.
func (d *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if d.dialect != SQLite {
		return d.db.QueryRowContext(ctx, query, args...)
	}
	s, ok := d.reads.m.Load(query)
	if !ok {
		prepared, err := d.db.PrepareContext(ctx, query)
		if err != nil {
			return d.db.QueryRowContext(ctx, query, args...)
		}
		if s, ok = d.reads.m.LoadOrStore(query, prepared); ok {
			prepared.Close()
		}
	}
	return s.(*sql.Stmt).QueryRowContext(ctx, args...)
}

// lockOrganization takes the row lock that serializes the certificate
// decisions about one organization (its limit of active certificates).
// FOR NO KEY UPDATE, as identity's and banking's locks: it serializes those
// who take it, and lets others insert rows that name the organization (a
// foreign-key check takes only KEY SHARE), where FOR UPDATE would queue
// them. SQLite's IMMEDIATE transaction already holds the database's write
// lock.
func (d *DB) lockOrganization(ctx context.Context, tx *sql.Tx, id int64) error {
	if d.dialect != Postgres {
		return nil
	}
	var got int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&got)
	if err != nil {
		return fmt.Errorf("store: lock organization: %w", err)
	}
	return nil
}

// uniqueViolation reports whether err is a unique-constraint violation, and
// the text that names the constraint or column.
func uniqueViolation(err error) (string, bool) {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "23505" {
		return pg.ConstraintName, true
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return se.Error(), true
	}
	return "", false
}

// micros converts a time to Unix microseconds; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// nullMicros converts a time to Unix microseconds, NULL for the zero time.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros converts Unix microseconds to a UTC time.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromNullMicros converts nullable Unix microseconds; NULL is the zero time.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

// execer runs statements in a transaction: a *sql.Tx, or the transaction
// of a batched certificate write (certs.go).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertAudit appends ev to the audit chain in tx (see audit.go), with the
// intents of the mails it causes (see outbox.go).
func (d *DB) insertAudit(ctx context.Context, tx execer, ev auditEvent) error {
	id, err := d.appendAudit(ctx, tx, ev)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", ev.Type, err)
	}
	if err := d.enqueueMail(ctx, tx, ev, id); err != nil {
		return fmt.Errorf("store: audit %s: %w", ev.Type, err)
	}
	return nil
}
