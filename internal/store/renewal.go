package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
)

// The expiry notices of R9. What a renewal may replace, and when, is
// decided in certs (record.go); the store keeps the renews column only.

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
// active places whose notAfter is in (from, to] and that have no expiry
// notice for occasion, oldest first, without their bytes. The range is
// read through the index certificates_issued_not_after.
func (d *DB) ExpiringCertificates(ctx context.Context, from, to time.Time, occasion string) ([]certs.Certificate, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+certHeadColumns+` FROM certificates c
		WHERE c.status = 'issued' AND c.not_after > $1 AND c.not_after <= $2 AND `+d.activeSlot("c.")+`
		AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.certificate_id = c.id AND n.occasion = $3) ORDER BY c.id`,
		micros(from), micros(to), occasion)
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
