package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"kinko/internal/audit"
	"kinko/internal/outbox"
)

// MailRules says which mails an audit event causes (package notify's
// Rules). The store asks it for every event it appends and writes what it
// returns, nothing more.
type MailRules interface {
	// Mails returns the intents of the mails ev causes. It must read
	// nothing but ev.
	Mails(ev audit.Event) []outbox.Intent
}

// SetMailRules sets the rules by which the audit events the store appends
// write mails to the outbox; without them, events write no mail. Call it
// once, before use.
func (d *DB) SetMailRules(r MailRules) { d.mailRules = r }

// The outbox of mails (table mail_outbox). The intent of each mail that an
// event causes (its kind, its recipient by role, the event) is written by
// enqueueMail in the transaction of the event, so that the event and its
// mails are recorded together or not at all; the sender (package notify)
// claims due mails with a lease, reads what their text needs as it stands
// then (MailFacts), composes and delivers them, and marks them sent, failed
// or dropped.

// enqueueMail writes to the outbox, in tx, the intents of the mails that
// ev, appended as audit row auditID, causes.
func (d *DB) enqueueMail(ctx context.Context, tx execer, ev audit.Event, auditID int64) error {
	if d.mailRules == nil {
		return nil
	}
	for _, m := range d.mailRules.Mails(ev) {
		_, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (created_at, kind, recipient_role, audit_id, organization_id, user_id, serial,
				recipient, subject, body, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, '', '', '', $8)`,
			micros(ev.At), m.Kind, m.To, auditID, nullInt(ev.OrganizationID), nullInt(ev.UserID), nullString(ev.Serial), micros(ev.At))
		if err != nil {
			return fmt.Errorf("mail: outbox: %w", err)
		}
	}
	return nil
}

const mailColumns = `id, created_at, kind, recipient_role, audit_id, organization_id, user_id, serial, recipient, subject, body, attempts`

// claimedMail is a claimed row and the id of its event.
type claimedMail struct {
	outbox.Mail
	auditID sql.NullInt64
}

func scanMail(s scanner) (claimedMail, error) {
	var m claimedMail
	var created int64
	var org, user sql.NullInt64
	var role, serial sql.NullString
	if err := s.Scan(&m.ID, &created, &m.Kind, &role, &m.auditID, &org, &user, &serial, &m.Address, &m.Subject, &m.Body, &m.Attempts); err != nil {
		return claimedMail{}, err
	}
	m.CreatedAt, m.To, m.OrganizationID, m.UserID, m.Serial = fromMicros(created), role.String, org.Int64, user.Int64, serial.String
	return m, nil
}

// ClaimMail leases up to limit due mails until now+lease, oldest first. On
// PostgreSQL the due rows are locked with SKIP LOCKED, so that servers
// claiming at the same time take different mails; on SQLite the
// transaction holds the database's write lock. Each mail comes with the
// event that caused it. See notify.Store.
func (d *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]outbox.Mail, error) {
	lock := ""
	if d.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	var out []outbox.Mail
	err := d.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE mail_outbox SET claimed_until = $1 WHERE id IN (
				SELECT id FROM mail_outbox WHERE sent_at IS NULL AND dropped_at IS NULL AND next_attempt_at <= $2
				AND (claimed_until IS NULL OR claimed_until < $3)
				ORDER BY id LIMIT $4`+lock+`)
			RETURNING `+mailColumns,
			micros(now.Add(lease)), micros(now), micros(now), limit)
		if err != nil {
			return err
		}
		var claimed []claimedMail
		for rows.Next() {
			m, err := scanMail(rows)
			if err != nil {
				rows.Close()
				return err
			}
			claimed = append(claimed, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range claimed {
			if m.auditID.Valid {
				ev, err := scanAuditEvent(tx.QueryRowContext(ctx, `SELECT `+auditEventColumns+` FROM audit_events WHERE id = $1`, m.auditID.Int64))
				if err != nil {
					return fmt.Errorf("event %d of mail %d: %w", m.auditID.Int64, m.ID, err)
				}
				m.Event = ev.Event
			}
			out = append(out, m.Mail)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim mail: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// MailFacts reads what the text of m needs, as it stands now: the user it
// is about and the organization, the organization's master user who is not
// deleted, the certificate, and the transfer or batch its event names
// (mail_payment.go). See notify.Store.
func (d *DB) MailFacts(ctx context.Context, m outbox.Mail) (outbox.Facts, error) {
	var f outbox.Facts
	var role string
	var deleted, masterID sql.NullInt64
	var masterName, masterLogin, masterEmail sql.NullString
	err := d.queryRow(ctx, `SELECT u.id, u.name, u.login_id, u.email, u.role, u.deleted_at, o.name, m.id, m.name, m.login_id, m.email
		FROM users u JOIN organizations o ON o.id = u.organization_id
		LEFT JOIN users m ON m.organization_id = u.organization_id AND m.role = 'master' AND m.deleted_at IS NULL
		WHERE u.id = $1`, m.UserID).
		Scan(&f.User.ID, &f.User.Name, &f.User.LoginID, &f.User.Email, &role, &deleted, &f.OrganizationName,
			&masterID, &masterName, &masterLogin, &masterEmail)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return outbox.Facts{}, nil
	case err != nil:
		return outbox.Facts{}, fmt.Errorf("store: mail %d: user: %w", m.ID, err)
	}
	f.User.Master, f.User.Deleted = role == "master", deleted.Valid
	if masterID.Valid {
		f.Master = outbox.Person{ID: masterID.Int64, Name: masterName.String, LoginID: masterLogin.String, Email: masterEmail.String, Master: true}
	}
	if m.Event.TransferID != 0 || m.Event.BatchID != 0 {
		if f.Payment, err = d.mailPayment(ctx, m.Event); err != nil {
			return outbox.Facts{}, fmt.Errorf("store: mail %d: %w", m.ID, err)
		}
	}
	if m.Serial != "" {
		var notAfter int64
		var issued sql.NullInt64
		err := d.queryRow(ctx, `SELECT not_after, issued_at FROM certificates WHERE serial = $1`, m.Serial).Scan(&notAfter, &issued)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return outbox.Facts{}, fmt.Errorf("store: mail %d: certificate: %w", m.ID, err)
		default:
			f.NotAfter, f.Issued = fromMicros(notAfter), issued.Valid
		}
	}
	return f, nil
}

// MarkMailDropped records that a mail will not be sent, and why.
func (d *DB) MarkMailDropped(ctx context.Context, id int64, at time.Time, why string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET dropped_at = $1, last_error = $2, claimed_until = NULL
			WHERE id = $3 AND sent_at IS NULL AND dropped_at IS NULL`, micros(at), why, id)
		if err != nil {
			return fmt.Errorf("store: mark mail dropped: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return mailExists(ctx, tx, id)
		}
		return nil
	})
}

// MarkMailSent marks a mail sent and appends ev, in one transaction. A mail
// already marked sent (delivered twice after a lease ran out) is left as
// it is, without a second event.
func (d *DB) MarkMailSent(ctx context.Context, id int64, at time.Time, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET sent_at = $1, attempts = attempts + 1, claimed_until = NULL
			WHERE id = $2 AND sent_at IS NULL`, micros(at), id)
		if err != nil {
			return fmt.Errorf("store: mark mail sent: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return mailExists(ctx, tx, id)
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// MarkMailFailed counts a failed delivery and makes the mail due at next.
func (d *DB) MarkMailFailed(ctx context.Context, id int64, next time.Time, errText string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, claimed_until = NULL
			WHERE id = $3 AND sent_at IS NULL`, micros(next), errText, id)
		if err != nil {
			return fmt.Errorf("store: mark mail failed: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return mailExists(ctx, tx, id)
		}
		return nil
	})
}

// mailExists returns nil when the mail exists (and so was sent or dropped
// already), outbox.ErrNotFound otherwise.
func mailExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE id = $1`, id).Scan(&n); err != nil {
		return fmt.Errorf("store: mail %d: %w", id, err)
	}
	if n == 0 {
		return outbox.ErrNotFound
	}
	return nil
}
