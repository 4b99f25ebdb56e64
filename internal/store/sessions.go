package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
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

// SessionPrincipal returns, in one read, a session with its user, the
// user's organization and the certificate the session is bound to (nil for
// an ID + password session; without its TBS and DER); auth.ErrNoSession
// when there is no such session.
func (d *DB) SessionPrincipal(ctx context.Context, idHash string) (auth.Principal, error) {
	var p auth.Principal
	var certID sql.NullInt64
	var fp sql.NullString
	var created, seen, expires int64
	var o orgScan
	var c certScan
	dest := append([]any{&p.Session.IDHash, &p.Session.UserID, &certID, &fp, &created, &seen, &expires}, o.dest()...)
	row := d.queryRow(ctx, `SELECT `+userColumns+`, s.id_hash, s.user_id, s.certificate_id, s.fingerprint, s.created_at,
		s.last_seen_at, s.expires_at, `+orgColumns+`, `+certHeadColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.organization_id
		LEFT JOIN certificates c ON c.id = s.certificate_id
		WHERE s.id_hash = $1`, idHash)
	u, err := scanUser(row, append(dest, c.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Principal{}, auth.ErrNoSession
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("store: session: %w", err)
	}
	p.User, p.Organization = u, o.org()
	p.Session.CertificateID, p.Session.Fingerprint = certID.Int64, fp.String
	p.Session.CreatedAt, p.Session.LastSeenAt, p.Session.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	if c.valid() {
		cert := c.cert()
		p.Certificate = &cert
	}
	return p, nil
}

// CertificateHolder returns, in one read, the certificate with a SHA-256
// fingerprint (without its TBS and DER), its user and the user's
// organization; certs.ErrNotFound when
// the bank issued no such certificate.
func (d *DB) CertificateHolder(ctx context.Context, fingerprint string) (certs.Certificate, identity.User, identity.Organization, error) {
	var o orgScan
	var c certScan
	row := d.queryRow(ctx, `SELECT `+userColumns+`, `+certHeadColumns+`, `+orgColumns+`
		FROM certificates c JOIN users u ON u.id = c.user_id JOIN organizations o ON o.id = u.organization_id
		WHERE c.fingerprint = $1`, fingerprint)
	u, err := scanUser(row, append(c.dest(), o.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, certs.ErrNotFound
	}
	if err != nil {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, fmt.Errorf("store: certificate holder: %w", err)
	}
	return c.cert(), u, o.org(), nil
}
