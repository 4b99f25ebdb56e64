package store

import (
	"context"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// What the operations listener reads of the database: the schema's
// version against the binary's, and the outbox's backlog.

// KnownSchemaVersion returns the version of the newest migration this
// binary embeds for the database's engine, and how many it embeds.
func (d *DB) KnownSchemaVersion() (version, count int, err error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+string(d.dialect))
	if err != nil {
		return 0, 0, fmt.Errorf("store: migrations: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return 0, 0, fmt.Errorf("store: migration %s: bad name", e.Name())
		}
		version = max(version, v)
		count++
	}
	return version, count, nil
}

// AppliedMigrations reads from the database the newest migration applied
// and how many are applied (SchemaVersion is what Open found).
func (d *DB) AppliedMigrations(ctx context.Context) (version, applied int, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0), COUNT(*) FROM schema_migrations`).Scan(&version, &applied)
	if err != nil {
		return 0, 0, fmt.Errorf("store: schema version: %w", err)
	}
	return version, applied, nil
}

// OutboxBacklog returns how many mails wait in the outbox (neither sent
// nor dropped) and when the oldest of them was written (zero when none).
func (d *DB) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest int64
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM mail_outbox
		WHERE sent_at IS NULL AND dropped_at IS NULL`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox backlog: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return n, fromMicros(oldest), nil
}
