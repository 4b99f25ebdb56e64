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

// A renewal (R9) is a certificate whose renews column names the certificate
// it renews. It takes the user's active place when it is recorded; the
// renewed certificate leaves the place but stays issued, so that it keeps
// working until the renewal is first used (certs.Service.OnLogin revokes it
// then, as superseded) or until it expires.

// RecordRenewal records c as pending in the user's active place, as the
// renewal of certificate baseID. See certs.Store.
func (d *DB) RecordRenewal(ctx context.Context, c *certs.Certificate, baseID int64, staleBefore, now time.Time, ev audit.Event) error {
	err := d.certTx(ctx, func(ctx context.Context, tx certWriteTx) error {
		if err := d.lockOrganization(ctx, tx.tx, c.OrganizationID); err != nil {
			return err
		}
		var status string
		var userID, notAfter int64
		err := tx.QueryRowContext(ctx, `SELECT status, user_id, not_after FROM certificates WHERE id = $1`, baseID).Scan(&status, &userID, &notAfter)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && userID != c.UserID) {
			return certs.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != string(certs.StatusIssued) || now.After(fromMicros(notAfter)) {
			return certs.ErrNoActiveCertificate
		}
		var curID, curCreated int64
		var curSerial, curStatus string
		var curRenews sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT id, serial, status, renews, created_at FROM certificates
			WHERE user_id = $1 AND `+d.activeSlot(""), c.UserID).Scan(&curID, &curSerial, &curStatus, &curRenews, &curCreated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// No certificate holds the place; the renewal takes it.
		case err != nil:
			return err
		case curID == baseID:
			if _, err := tx.ExecContext(ctx, `UPDATE certificates SET active_slot = NULL WHERE id = $1`, baseID); err != nil {
				return err
			}
		case curRenews.Valid && curRenews.Int64 == baseID:
			// An earlier renewal, never used (its first use would have
			// revoked the base): the new one replaces it.
			if curStatus == string(certs.StatusPending) && !fromMicros(curCreated).Before(staleBefore) {
				return certs.ErrRenewalInProgress
			}
			if _, err := d.revokeInTx(ctx, tx, curID, certs.Revocation{Reason: "superseded", At: now, By: audit.System},
				audit.Event{At: now, Type: audit.CertificateRevoked, Actor: audit.System, OrganizationID: c.OrganizationID,
					UserID: c.UserID, Serial: curSerial, Reason: "superseded"}); err != nil {
				return err
			}
		default:
			return certs.ErrNoActiveCertificate
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO certificates (serial, user_id, organization_id, status, active_slot, tbs, not_before, not_after, created_at, renews)
			VALUES ($1, $2, $3, 'pending', TRUE, $4, $5, $6, $7, $8) RETURNING id`,
			c.Serial, c.UserID, c.OrganizationID, c.TBS, micros(c.NotBefore), micros(c.NotAfter), micros(c.CreatedAt), baseID).Scan(&c.ID)
		if err != nil {
			if name, ok := uniqueViolation(err); ok && !strings.Contains(name, "serial") {
				return certs.ErrRenewalInProgress
			}
			return err
		}
		return d.insertAudit(ctx, tx, ev)
	})
	if err != nil && !isDomainError(err) {
		return fmt.Errorf("store: record renewal: %w", err)
	}
	return err
}

// revokeRenewed follows, in tx, the revocation of certificate id to the
// certificate it renews, if that one is still issued:
//   - id was never signed (its signing failed, or a crash left it pending):
//     the renewed certificate, unexpired, gets the user's place back, and
//     restored is true;
//   - id was issued and is revoked for any reason but superseded: the
//     renewed certificate, which would have worked until id's first use, is
//     revoked with it, for the same reason.
func (d *DB) revokeRenewed(ctx context.Context, tx execer, id int64, r certs.Revocation, ev audit.Event) (restored bool, err error) {
	var renews sql.NullInt64
	var signed bool
	if err := tx.QueryRowContext(ctx, `SELECT renews, der IS NOT NULL FROM certificates WHERE id = $1`, id).Scan(&renews, &signed); err != nil {
		return false, fmt.Errorf("store: renewed certificate: %w", err)
	}
	if !renews.Valid {
		return false, nil
	}
	var status, serial string
	var userID, notAfter int64
	err = tx.QueryRowContext(ctx, `SELECT status, serial, user_id, not_after FROM certificates WHERE id = $1`, renews.Int64).
		Scan(&status, &serial, &userID, &notAfter)
	if err != nil {
		return false, fmt.Errorf("store: renewed certificate: %w", err)
	}
	if status != string(certs.StatusIssued) {
		return false, nil
	}
	switch {
	case !signed:
		if r.At.After(fromMicros(notAfter)) {
			return false, nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE certificates SET active_slot = TRUE WHERE id = $1`, renews.Int64); err != nil {
			return false, fmt.Errorf("store: give the renewed certificate its place back: %w", err)
		}
		return true, nil
	case r.Reason == "superseded":
		return false, nil
	}
	ev.Serial, ev.UserID = serial, userID
	if _, err := d.revokeInTx(ctx, tx, renews.Int64, r, ev); err != nil {
		return false, fmt.Errorf("store: revoke the renewed certificate: %w", err)
	}
	return false, nil
}

// RecordExpiryNotice records an expiry notice and appends its event, unless
// one was recorded for the certificate and occasion, or day. See
// certs.Store.
func (d *DB) RecordExpiryNotice(ctx context.Context, certificateID int64, occasion, day string, now time.Time, ev audit.Event) (bool, error) {
	recorded := false
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO expiry_notices (certificate_id, occasion, day, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, certificateID, occasion, day, micros(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		recorded = true
		return d.insertAudit(ctx, tx, ev)
	})
	if err != nil {
		return false, fmt.Errorf("store: expiry notice: %w", err)
	}
	return recorded, nil
}

// ExpiringCertificates returns the issued certificates in their users'
// active places whose notAfter is in [from, to], oldest first.
func (d *DB) ExpiringCertificates(ctx context.Context, from, to time.Time) ([]certs.Certificate, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+certColumns+` FROM certificates c
		WHERE `+d.activeSlot("c.")+` AND c.status = 'issued' AND c.not_after >= $1 AND c.not_after <= $2 ORDER BY c.id`,
		micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("store: expiring certificates: %w", err)
	}
	defer rows.Close()
	var out []certs.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, fmt.Errorf("store: expiring certificates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
