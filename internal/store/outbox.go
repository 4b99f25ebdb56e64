package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/notify"
)

var _ notify.Store = (*DB)(nil)

// The outbox of mails (table mail_outbox). A mail is written by
// enqueueMail in the transaction of the audit event that causes it, so that
// the event and its mails are recorded together or not at all; the sender
// (package notify) claims due mails with a lease, delivers them and marks
// them sent or failed.

// mailRecipient is one mail to write for an event.
type mailRecipient struct {
	email string
	data  notify.Data
}

// enqueueMail writes to the outbox, in tx, the mails that ev causes:
//
//   - certificate issued or renewed: to the user;
//   - certificate revoked: to the user and, when the user is not the
//     master user, to the master user too; none for a certificate that was
//     never signed, nor for one superseded by its renewal;
//   - user locked: to the user and, for a general user, to the master user;
//   - password changed: to the user;
//   - expiry notice: to the user.
//
// Users without an e-mail address, and deleted users, get none; other
// events cause none.
func enqueueMail(ctx context.Context, tx execer, ev audit.Event, bankName string) error {
	var kind notify.Kind
	switch ev.Type {
	case audit.CertificateIssued:
		kind = notify.CertificateIssued
	case audit.CertificateRenewed:
		kind = notify.CertificateRenewed
	case audit.CertificateRevoked:
		if ev.Detail == "never signed" || ev.Detail == "signing failed" {
			return nil
		}
		kind = notify.CertificateRevoked
	case audit.UserLocked:
		kind = notify.UserLocked
	case audit.PasswordChanged:
		kind = notify.PasswordChanged
	case audit.CertificateExpiryNotice:
		kind = notify.ExpiryNotice
	default:
		return nil
	}
	if ev.UserID == 0 {
		return nil
	}
	var (
		u           notify.Data
		email, role string
		orgID       int64
		deleted     sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT u.organization_id, u.name, u.email, u.login_id, u.role, u.deleted_at, o.name
		FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1`, ev.UserID).
		Scan(&orgID, &u.UserName, &email, &u.LoginID, &role, &deleted, &u.OrganizationName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mail: user: %w", err)
	}
	u.At, u.Serial, u.UserIsMaster, u.BankName = ev.At, ev.Serial, role == "master", bankName
	switch kind {
	case notify.CertificateIssued, notify.CertificateRenewed, notify.CertificateRevoked, notify.ExpiryNotice:
		if ev.Serial == "" {
			return nil
		}
		var notAfter int64
		var issued sql.NullInt64
		var reason sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT not_after, issued_at, revocation_reason FROM certificates WHERE serial = $1`, ev.Serial).
			Scan(&notAfter, &issued, &reason)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mail: certificate: %w", err)
		}
		u.NotAfter = fromMicros(notAfter)
		if kind == notify.CertificateRevoked {
			// A certificate never signed was never the user's; one
			// superseded by its renewal was replaced as the user wished.
			u.Reason = reason.String
			if u.Reason == "" {
				u.Reason = strings.TrimPrefix(ev.Detail, "reason ")
			}
			if !issued.Valid || u.Reason == "superseded" {
				return nil
			}
		}
		if kind == notify.ExpiryNotice {
			u.DaysLeft = daysLeft(u.NotAfter, ev.At)
		}
	case notify.PasswordChanged:
		u.ConfirmationPassword = strings.Contains(ev.Detail, "confirmation")
	}
	var to []mailRecipient
	if email != "" && !deleted.Valid {
		to = append(to, mailRecipient{email: email, data: u})
	}
	if (kind == notify.CertificateRevoked || kind == notify.UserLocked) && !u.UserIsMaster {
		var name, masterEmail string
		err := tx.QueryRowContext(ctx, `SELECT name, email FROM users WHERE organization_id = $1 AND role = 'master' AND deleted_at IS NULL`, orgID).
			Scan(&name, &masterEmail)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("mail: master user: %w", err)
		case masterEmail != "":
			m := u
			m.RecipientName, m.AboutOther = name, true
			to = append(to, mailRecipient{email: masterEmail, data: m})
		}
	}
	for _, r := range to {
		subject, body, err := notify.Compose(kind, r.data)
		if err != nil {
			return fmt.Errorf("mail: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO mail_outbox (created_at, kind, organization_id, user_id, serial, recipient, subject, body, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			micros(ev.At), string(kind), orgID, ev.UserID, nullString(ev.Serial), r.email, subject, body, micros(ev.At))
		if err != nil {
			return fmt.Errorf("mail: outbox: %w", err)
		}
	}
	return nil
}

// daysLeft counts the days from at to notAfter, part of a day as a day; 0
// when notAfter has passed.
func daysLeft(notAfter, at time.Time) int {
	if !at.Before(notAfter) {
		return 0
	}
	day := 24 * time.Hour
	return int((notAfter.Sub(at) + day - 1) / day)
}

const mailColumns = `id, created_at, kind, organization_id, user_id, serial, recipient, subject, body, attempts`

func scanMail(s scanner) (notify.Message, error) {
	var m notify.Message
	var created int64
	var kind string
	var org, user sql.NullInt64
	var serial sql.NullString
	if err := s.Scan(&m.ID, &created, &kind, &org, &user, &serial, &m.To, &m.Subject, &m.Body, &m.Attempts); err != nil {
		return notify.Message{}, err
	}
	m.CreatedAt, m.Kind, m.OrganizationID, m.UserID, m.Serial = fromMicros(created), notify.Kind(kind), org.Int64, user.Int64, serial.String
	return m, nil
}

// ClaimMail leases up to limit due mails until now+lease, oldest first. On
// PostgreSQL the due rows are locked with SKIP LOCKED, so that servers
// claiming at the same time take different mails; on SQLite the
// transaction holds the database's write lock. See notify.Store.
func (d *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]notify.Message, error) {
	lock := ""
	if d.dialect == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	var out []notify.Message
	err := d.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE mail_outbox SET claimed_until = $1 WHERE id IN (
				SELECT id FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $3)
				ORDER BY id LIMIT $4`+lock+`)
			RETURNING `+mailColumns,
			micros(now.Add(lease)), micros(now), micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMail(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim mail: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
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

// mailExists returns nil when the mail exists (and so was sent already),
// notify.ErrMailNotFound otherwise.
func mailExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox WHERE id = $1`, id).Scan(&n); err != nil {
		return fmt.Errorf("store: mail %d: %w", id, err)
	}
	if n == 0 {
		return notify.ErrMailNotFound
	}
	return nil
}
