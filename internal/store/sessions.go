package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kinko/internal/audit"
	"kinko/internal/auth"
)

var _ auth.Store = (*DB)(nil)

// CreateSession stores a new session.
func (d *DB) CreateSession(ctx context.Context, s auth.Session, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, certificate_id, fingerprint, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.IDHash, s.UserID, nullInt(s.CertificateID), nullString(s.Fingerprint),
			micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt))
		if err != nil {
			return fmt.Errorf("store: create session: %w", err)
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// TouchSession records activity on a session.
func (d *DB) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, micros(now), idHash); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (d *DB) DeleteSession(ctx context.Context, idHash string, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
			return fmt.Errorf("store: delete session: %w", err)
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// DeleteExpiredSessions removes sessions past their absolute end or idle
// for longer than idle, and returns how many.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`,
		micros(now), micros(now.Add(-idle)))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
