package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/outbox"
)

// The operator console's reads and its sessions (package console).

// CreateConsoleSession records a console session.
func (d *DB) CreateConsoleSession(ctx context.Context, s operators.Session) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO console_sessions (id_hash, staff_id, fingerprint, form_token, created_at, last_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.IDHash, s.StaffID, s.Fingerprint, s.FormToken, micros(s.CreatedAt), micros(s.LastSeenAt))
	if err != nil {
		return fmt.Errorf("store: create console session: %w", err)
	}
	return nil
}

// ConsoleSession returns a console session by the hash of its ID
// (operators.ErrNoSession when there is none).
func (d *DB) ConsoleSession(ctx context.Context, idHash string) (operators.Session, error) {
	s := operators.Session{IDHash: idHash}
	var created, seen int64
	err := d.queryRow(ctx, `SELECT staff_id, fingerprint, form_token, created_at, last_seen_at FROM console_sessions WHERE id_hash = $1`, idHash).
		Scan(&s.StaffID, &s.Fingerprint, &s.FormToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return operators.Session{}, operators.ErrNoSession
	}
	if err != nil {
		return operators.Session{}, fmt.Errorf("store: console session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt = fromMicros(created), fromMicros(seen)
	return s, nil
}

// TouchConsoleSession records that a console session was used at at.
func (d *DB) TouchConsoleSession(ctx context.Context, idHash string, at time.Time) error {
	if _, err := d.db.ExecContext(ctx, `UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2`, micros(at), idHash); err != nil {
		return fmt.Errorf("store: touch console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession ends a console session.
func (d *DB) DeleteConsoleSession(ctx context.Context, idHash string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("store: delete console session: %w", err)
	}
	return nil
}

// DeleteIdleConsoleSessions deletes the console sessions last used before
// before.
func (d *DB) DeleteIdleConsoleSessions(ctx context.Context, before time.Time) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE last_seen_at < $1`, micros(before)); err != nil {
		return fmt.Errorf("store: delete idle console sessions: %w", err)
	}
	return nil
}

// likePattern escapes s for LIKE ... ESCAPE '\' and surrounds it with %.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// SearchOrganizations finds the organizations that q names: by its code,
// a part of its name, a user's login ID (without regard to case), a
// certificate's serial (hex, without regard to case or colons) or an
// account's number. The keys that are exact use their unique indexes; the
// part of a name reads the organizations' names, a table of one short row
// per organization. At most limit, by code.
func (d *DB) SearchOrganizations(ctx context.Context, q string, limit int) ([]identity.Organization, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 50
	}
	serial := strings.TrimLeft(strings.ToLower(strings.ReplaceAll(q, ":", "")), "0")
	query := `SELECT o.id, o.code, o.name, o.certificate_login, o.created_at FROM organizations o WHERE o.id IN (
		SELECT id FROM organizations WHERE code = $1
		UNION SELECT organization_id FROM users WHERE lower(login_id) = $2
		UNION SELECT organization_id FROM certificates WHERE serial = $3
		UNION SELECT organization_id FROM accounts WHERE number = $1
		UNION SELECT id FROM organizations WHERE name LIKE $4 ESCAPE '\'
	) ORDER BY o.code LIMIT $5`
	rows, err := d.db.QueryContext(ctx, query, q, lowerASCII(q), serial, likePattern(q), limit)
	if err != nil {
		return nil, fmt.Errorf("store: search organizations: %w", err)
	}
	defer rows.Close()
	var out []identity.Organization
	for rows.Next() {
		var s orgScan
		if err := rows.Scan(s.dest()...); err != nil {
			return nil, fmt.Errorf("store: search organizations: %w", err)
		}
		out = append(out, s.org())
	}
	return out, rows.Err()
}

// LastCertificateLogins returns the time of the last login with each
// certificate of an organization's users, by serial.
func (d *DB) LastCertificateLogins(ctx context.Context, organizationID int64) (map[string]time.Time, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT e.serial, MAX(e.at) FROM users u
		JOIN audit_events e ON e.user_id = u.id AND e.type = $1 AND e.serial IS NOT NULL
		WHERE u.organization_id = $2 GROUP BY e.serial`, string(audit.LoginSucceeded), organizationID)
	if err != nil {
		return nil, fmt.Errorf("store: last certificate logins: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var serial string
		var at int64
		if err := rows.Scan(&serial, &at); err != nil {
			return nil, fmt.Errorf("store: last certificate logins: %w", err)
		}
		out[serial] = fromMicros(at)
	}
	return out, rows.Err()
}

// AuditEntries returns the events q selects, newest first, each with its
// organization's code and its user's login ID. An organization code that
// names no organization selects nothing.
func (d *DB) AuditEntries(ctx context.Context, q audit.Query) ([]audit.Entry, error) {
	query := `SELECT e.id, e.at, e.type, e.actor, e.organization_id, e.user_id, e.serial, e.request_ref, e.request_id,
		e.reason, e.cause, e.password, e.detail, o.code, u.login_id
		FROM audit_events e LEFT JOIN organizations o ON o.id = e.organization_id LEFT JOIN users u ON u.id = e.user_id WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		query += fmt.Sprintf(" AND %s $%d", cond, len(args))
	}
	if q.OrganizationCode != "" {
		add("e.organization_id = (SELECT id FROM organizations WHERE code =", q.OrganizationCode)
		query += ")"
	}
	if q.Type != "" {
		add("e.type =", string(q.Type))
	}
	if q.Actor != "" {
		add("e.actor =", q.Actor)
	}
	if !q.Since.IsZero() {
		add("e.at >=", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add("e.at <", micros(q.Until))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	query += fmt.Sprintf(" ORDER BY e.id DESC LIMIT %d", limit)
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at int64
		var org, user sql.NullInt64
		var serial, ref, reqID, reason, cause, password, code, loginID sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.Actor, &org, &user, &serial, &ref, &reqID, &reason, &cause, &password, &e.Detail,
			&code, &loginID); err != nil {
			return nil, fmt.Errorf("store: audit entries: %w", err)
		}
		e.At, e.OrganizationID, e.UserID, e.Serial, e.RequestRef, e.RequestID = fromMicros(at), org.Int64, user.Int64, serial.String, ref.String, reqID.String
		e.Reason, e.Cause, e.Password = reason.String, audit.Cause(cause.String), audit.Password(password.String)
		e.OrganizationCode, e.LoginID = code.String, loginID.String
		out = append(out, e)
	}
	return out, rows.Err()
}

// OutboxEntries returns the mails of the outbox in state st ("" for all),
// newest first, at most limit.
func (d *DB) OutboxEntries(ctx context.Context, st outbox.State, limit int) ([]outbox.Entry, error) {
	where := ""
	switch st {
	case outbox.StateSent:
		where = ` AND m.sent_at IS NOT NULL`
	case outbox.StateFailed:
		where = ` AND m.sent_at IS NULL AND m.dropped_at IS NOT NULL`
	case outbox.StateRetrying:
		where = ` AND m.sent_at IS NULL AND m.dropped_at IS NULL AND m.attempts > 0`
	case outbox.StateWaiting:
		where = ` AND m.sent_at IS NULL AND m.dropped_at IS NULL AND m.attempts = 0`
	}
	if limit <= 0 {
		limit = 200
	}
	rows, err := d.db.QueryContext(ctx, `SELECT m.id, m.created_at, m.kind, m.recipient_role, o.code, u.login_id, m.attempts,
		m.next_attempt_at, m.sent_at, m.dropped_at, m.last_error
		FROM mail_outbox m LEFT JOIN organizations o ON o.id = m.organization_id LEFT JOIN users u ON u.id = m.user_id
		WHERE 1 = 1`+where+fmt.Sprintf(` ORDER BY m.id DESC LIMIT %d`, limit))
	if err != nil {
		return nil, fmt.Errorf("store: outbox entries: %w", err)
	}
	defer rows.Close()
	var out []outbox.Entry
	for rows.Next() {
		var e outbox.Entry
		var created, next int64
		var role, code, loginID, lastErr sql.NullString
		var sent, dropped sql.NullInt64
		if err := rows.Scan(&e.ID, &created, &e.Kind, &role, &code, &loginID, &e.Attempts, &next, &sent, &dropped, &lastErr); err != nil {
			return nil, fmt.Errorf("store: outbox entries: %w", err)
		}
		e.CreatedAt, e.NextAttemptAt, e.To, e.OrganizationCode, e.LoginID, e.LastError = fromMicros(created), fromMicros(next),
			role.String, code.String, loginID.String, lastErr.String
		switch {
		case sent.Valid:
			e.State, e.SentAt = outbox.StateSent, fromMicros(sent.Int64)
		case dropped.Valid:
			e.State, e.FailedAt = outbox.StateFailed, fromMicros(dropped.Int64)
		case e.Attempts > 0:
			e.State = outbox.StateRetrying
		default:
			e.State = outbox.StateWaiting
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ResendMail makes a failed (dropped) mail due again at at, and appends ev
// (an operator's action) in the same transaction: outbox.ErrNotFound
// when there is no such mail, outbox.ErrNotFailed when it has not failed.
func (d *DB) ResendMail(ctx context.Context, id int64, at time.Time, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET dropped_at = NULL, next_attempt_at = $1, claimed_until = NULL
			WHERE id = $2 AND sent_at IS NULL AND dropped_at IS NOT NULL`, micros(at), id)
		if err != nil {
			return fmt.Errorf("store: resend mail: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			if err := mailExists(ctx, tx, id); err != nil {
				return err
			}
			return outbox.ErrNotFailed
		}
		return d.insertAudit(ctx, tx, ev)
	})
}
