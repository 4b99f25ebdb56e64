package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The customer portal's kept forms (package web): a refused form's page,
// kept for its one display after the redirect that follows it.

// SaveForm keeps page, shown with status, for the next display of path
// to the browser whose cookie hashes to keyHash, until expires; it
// replaces what that browser had kept for path, and deletes every kept
// form that expired before now.
func (d *DB) SaveForm(ctx context.Context, keyHash, path string, status int, page []byte, now, expires time.Time) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM kept_forms WHERE expires_at < $1`, micros(now)); err != nil {
		return fmt.Errorf("store: delete expired forms: %w", err)
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO kept_forms (key_hash, path, status, page, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key_hash, path) DO UPDATE SET status = excluded.status, page = excluded.page, expires_at = excluded.expires_at`,
		keyHash, path, status, page, micros(expires))
	if err != nil {
		return fmt.Errorf("store: save form: %w", err)
	}
	return nil
}

// TakeForm returns the page kept for path and keyHash, and its status,
// and deletes it, so that it is shown once; a nil page when there is none
// or it expired before now.
func (d *DB) TakeForm(ctx context.Context, keyHash, path string, now time.Time) (int, []byte, error) {
	var (
		status  int
		page    []byte
		expires int64
	)
	err := d.db.QueryRowContext(ctx, `DELETE FROM kept_forms WHERE key_hash = $1 AND path = $2 RETURNING status, page, expires_at`, keyHash, path).
		Scan(&status, &page, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("store: take form: %w", err)
	}
	if fromMicros(expires).Before(now) {
		return 0, nil, nil
	}
	return status, page, nil
}
