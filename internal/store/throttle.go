package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kinko/internal/identity"
)

// LoginThrottles returns the stored throttle states of keys.
func (d *DB) LoginThrottles(ctx context.Context, keys []string) ([]identity.ThrottleState, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	marks := make([]string, len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		marks[i] = fmt.Sprintf("$%d", i+1)
		args[i] = k
	}
	rows, err := d.db.QueryContext(ctx, `SELECT throttle_key, failures, blocked_until, expires_at FROM login_throttles
		WHERE throttle_key IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: login throttles: %w", err)
	}
	defer rows.Close()
	var out []identity.ThrottleState
	for rows.Next() {
		var st identity.ThrottleState
		var blocked, expires int64
		if err := rows.Scan(&st.Key, &st.Failures, &blocked, &expires); err != nil {
			return nil, fmt.Errorf("store: login throttles: %w", err)
		}
		st.BlockedUntil, st.ExpiresAt = fromMicros(blocked), fromMicros(expires)
		out = append(out, st)
	}
	return out, rows.Err()
}

// DeleteExpiredLoginThrottles removes the throttle rows whose time is past
// and returns how many. Several servers may run it at once.
func (d *DB) DeleteExpiredLoginThrottles(ctx context.Context, now time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM login_throttles WHERE expires_at <= $1`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired login throttles: %w", err)
	}
	return res.RowsAffected()
}

// LockThrottle reads and locks a key's throttle row, inserting an empty
// one first when there is none.
func (t *identityTx) LockThrottle(ctx context.Context, key string) (identity.ThrottleState, error) {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO login_throttles (throttle_key, failures, blocked_until, expires_at)
		VALUES ($1, 0, 0, 0) ON CONFLICT (throttle_key) DO NOTHING`, key); err != nil {
		return identity.ThrottleState{}, fmt.Errorf("store: lock throttle: %w", err)
	}
	st := identity.ThrottleState{Key: key}
	var blocked, expires int64
	err := t.tx.QueryRowContext(ctx, `SELECT failures, blocked_until, expires_at FROM login_throttles WHERE throttle_key = $1`+t.d.forUpdate(),
		key).Scan(&st.Failures, &blocked, &expires)
	if err != nil {
		return identity.ThrottleState{}, fmt.Errorf("store: lock throttle: %w", err)
	}
	if blocked != 0 {
		st.BlockedUntil = fromMicros(blocked)
	}
	if expires != 0 {
		st.ExpiresAt = fromMicros(expires)
	}
	return st, nil
}

// SetThrottle writes a key's throttle row.
func (t *identityTx) SetThrottle(ctx context.Context, st identity.ThrottleState) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE login_throttles SET failures = $1, blocked_until = $2, expires_at = $3 WHERE throttle_key = $4`,
		st.Failures, micros(st.BlockedUntil), micros(st.ExpiresAt), st.Key)
	return wrapErr(err, "set throttle")
}

// DeleteThrottle removes a key's throttle row.
func (t *identityTx) DeleteThrottle(ctx context.Context, key string) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM login_throttles WHERE throttle_key = $1`, key)
	return wrapErr(err, "delete throttle")
}

// AddFailureSource counts a failure since the last login and keeps the
// keep most recent distinct addresses it came from.
func (t *identityTx) AddFailureSource(ctx context.Context, userID int64, src identity.FailureSource, keep int) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET failures_pending = failures_pending + 1 WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("store: add failure source: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO login_failure_sources (user_id, reported, address, channel, failed_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, reported, address) DO UPDATE SET channel = excluded.channel, failed_at = excluded.failed_at`,
		userID, false, src.Address, src.Channel, micros(src.At)); err != nil {
		return fmt.Errorf("store: add failure source: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `DELETE FROM login_failure_sources WHERE user_id = $1 AND reported = $2 AND address NOT IN (
			SELECT address FROM login_failure_sources WHERE user_id = $3 AND reported = $4 ORDER BY failed_at DESC, address LIMIT $5)`,
		userID, false, userID, false, keep)
	return wrapErr(err, "trim failure sources")
}

// RollFailureReport makes the failures since the last login the user's
// report.
func (t *identityTx) RollFailureReport(ctx context.Context, userID int64) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM login_failure_sources WHERE user_id = $1 AND reported = $2`, userID, true); err != nil {
		return fmt.Errorf("store: roll failure report: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE login_failure_sources SET reported = $1 WHERE user_id = $2`, true, userID); err != nil {
		return fmt.Errorf("store: roll failure report: %w", err)
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE users SET failures_reported = failures_pending, failures_pending = 0 WHERE id = $1`, userID)
	return wrapErr(err, "roll failure report")
}

// FailureReport returns the report of the user's last login.
func (d *DB) FailureReport(ctx context.Context, userID int64) (identity.FailureReport, error) {
	var r identity.FailureReport
	err := d.db.QueryRowContext(ctx, `SELECT failures_reported FROM users WHERE id = $1`, userID).Scan(&r.Count)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.FailureReport{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.FailureReport{}, fmt.Errorf("store: failure report: %w", err)
	}
	if r.Count == 0 {
		return r, nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT address, channel, failed_at FROM login_failure_sources WHERE user_id = $1 AND reported = $2
		ORDER BY failed_at DESC, address`, userID, true)
	if err != nil {
		return identity.FailureReport{}, fmt.Errorf("store: failure report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s identity.FailureSource
		var at int64
		if err := rows.Scan(&s.Address, &s.Channel, &at); err != nil {
			return identity.FailureReport{}, fmt.Errorf("store: failure report: %w", err)
		}
		s.At = fromMicros(at)
		r.Sources = append(r.Sources, s)
	}
	return r, rows.Err()
}
