package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
)

var (
	_ certs.Store = Certs{}
	_ certs.Tx    = (*certsTx)(nil)
)

// Certs is the database as the certs package's Store: the DB's methods,
// with the InTx of certificate transactions (the DB's own InTx is the
// banking package's).
type Certs struct{ *DB }

// Certs returns the database as the certs package's Store.
func (d *DB) Certs() Certs { return Certs{d} }

// InTx runs fn in one transaction (see DB.certTx): on SQLite one shared
// with the certificate writes queued at the same time, each in a savepoint.
// fn's error is returned as it is.
func (c Certs) InTx(ctx context.Context, fn func(tx certs.Tx) error) error {
	return c.certTx(ctx, func(ctx context.Context, tx certWriteTx) error {
		return fn(&certsTx{d: c.DB, tx: tx, ctx: ctx})
	})
}

// certsTx is a transaction of the certs package: the SQL of each step, in
// the lock order documented on certs.Tx. Its methods run under ctx, the
// context the write runs under, not the one they are given: on SQLite a
// write shares its transaction with others, and a statement interrupted by
// its caller's going away would roll back them all.
type certsTx struct {
	d   *DB
	tx  certWriteTx
	ctx context.Context
}

// LockOrganization locks an organization's row (FOR UPDATE on PostgreSQL).
func (t *certsTx) LockOrganization(_ context.Context, organizationID int64) error {
	return t.d.lockOrganization(t.ctx, t.tx.tx, organizationID)
}

// certificate reads one record in the transaction.
func (t *certsTx) certificate(what, query string, arg any) (certs.Certificate, error) {
	c, err := scanCertificate(t.tx.QueryRowContext(t.ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return certs.Certificate{}, certs.ErrNotFound
	}
	return c, wrapErr(err, what)
}

// LockCertificate reads and locks a record (FOR NO KEY UPDATE on
// PostgreSQL: sessions being created may still name it).
func (t *certsTx) LockCertificate(_ context.Context, id int64) (certs.Certificate, error) {
	return t.certificate("lock certificate", `SELECT `+certColumns+` FROM certificates c WHERE c.id = $1`+t.d.forUpdate(), id)
}

// ActiveCertificate reads the record in the user's active place, with the
// few columns its callers read: on SQLite each column returned costs the
// query allocations of its own, and issuance reads the place every time.
func (t *certsTx) ActiveCertificate(_ context.Context, userID int64) (certs.Certificate, error) {
	c := certs.Certificate{UserID: userID}
	var status string
	var notAfter, created int64
	var renews sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, serial, organization_id, status, not_after, created_at, renews FROM certificates
		WHERE user_id = $1 AND `+t.d.activeSlot(""), userID).Scan(&c.ID, &c.Serial, &c.OrganizationID, &status, &notAfter, &created, &renews)
	if errors.Is(err, sql.ErrNoRows) {
		return certs.Certificate{}, certs.ErrNotFound
	}
	if err != nil {
		return certs.Certificate{}, fmt.Errorf("store: active certificate: %w", err)
	}
	c.Status, c.NotAfter, c.CreatedAt, c.Renews = certs.Status(status), fromMicros(notAfter), fromMicros(created), renews.Int64
	return c, nil
}

// CountActive counts an organization's records in active places that are
// pending or end at or after at.
func (t *certsTx) CountActive(_ context.Context, organizationID int64, at time.Time) (int, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM certificates WHERE organization_id = $1 AND active_slot = TRUE
		AND (status = 'pending' OR not_after >= $2)`, organizationID, micros(at)).Scan(&n)
	return n, wrapErr(err, "count active certificates")
}

// InsertPending inserts a pending record in its user's active place.
func (t *certsTx) InsertPending(_ context.Context, c *certs.Certificate) error {
	var row *sql.Row
	if c.Renews == 0 {
		row = t.tx.QueryRowContext(t.ctx, `INSERT INTO certificates (serial, user_id, organization_id, status, active_slot, tbs, not_before, not_after, created_at)
			VALUES ($1, $2, $3, 'pending', TRUE, $4, $5, $6, $7) RETURNING id`,
			c.Serial, c.UserID, c.OrganizationID, c.TBS, micros(c.NotBefore), micros(c.NotAfter), micros(c.CreatedAt))
	} else {
		row = t.tx.QueryRowContext(t.ctx, `INSERT INTO certificates (serial, user_id, organization_id, status, active_slot, tbs, not_before, not_after, created_at, renews)
			VALUES ($1, $2, $3, 'pending', TRUE, $4, $5, $6, $7, $8) RETURNING id`,
			c.Serial, c.UserID, c.OrganizationID, c.TBS, micros(c.NotBefore), micros(c.NotAfter), micros(c.CreatedAt), c.Renews)
	}
	err := row.Scan(&c.ID)
	if err == nil {
		return nil
	}
	if name, ok := uniqueViolation(err); ok && !strings.Contains(name, "serial") {
		return certs.ErrPlaceTaken
	}
	return fmt.Errorf("store: insert certificate: %w", err)
}

// SetIssued stores the signed certificate of a pending record.
func (t *certsTx) SetIssued(_ context.Context, id int64, der []byte, fingerprint string, issuedAt time.Time) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, `UPDATE certificates SET status = 'issued', der = $1, fingerprint = $2, issued_at = $3
		WHERE id = $4 AND status = 'pending'`, der, fingerprint, micros(issuedAt), id)
	if err != nil {
		return false, fmt.Errorf("store: mark issued: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrapErr(err, "mark issued")
}

// LeavePlace takes a record out of its user's active place.
func (t *certsTx) LeavePlace(_ context.Context, id int64) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE certificates SET active_slot = NULL WHERE id = $1`, id)
	return wrapErr(err, "leave place")
}

// TakePlace puts a record into its user's active place.
func (t *certsTx) TakePlace(_ context.Context, id int64) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE certificates SET active_slot = TRUE WHERE id = $1`, id)
	return wrapErr(err, "take place")
}

// SetRevoked marks a record revoked and out of its user's place, and
// increments the revocation epoch.
func (t *certsTx) SetRevoked(_ context.Context, id int64, r certs.Revocation) error {
	_, err := t.tx.ExecContext(t.ctx, `UPDATE certificates SET status = 'revoked', active_slot = NULL, revoked_at = $1,
		revocation_reason = $2, revoked_by = $3, request_ref = $4 WHERE id = $5`,
		micros(r.At), r.Reason, r.By, nullString(r.RequestRef), id)
	if err != nil {
		return wrapErr(err, "revoke")
	}
	// Every server's OCSP cache drops when it sees the epoch change.
	_, err = t.tx.ExecContext(t.ctx, `UPDATE revocation_epoch SET epoch = epoch + 1 WHERE id = 1`)
	return wrapErr(err, "revocation epoch")
}

// EndSessions deletes the sessions bound to a certificate.
func (t *certsTx) EndSessions(_ context.Context, certificateID int64) error {
	_, err := t.tx.ExecContext(t.ctx, `DELETE FROM sessions WHERE certificate_id = $1`, certificateID)
	return wrapErr(err, "end sessions")
}

// AppendAudit appends an event and the intents of the mails it causes.
func (t *certsTx) AppendAudit(_ context.Context, ev audit.Event) error {
	return t.d.insertAudit(t.ctx, t.tx, ev)
}
