package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kinko/internal/certs"
)

var _ certs.CRLStore = (*DB)(nil)

// crlState reads the one row of crl_state, locked on PostgreSQL when lock
// is set (SQLite's IMMEDIATE transaction already holds the write lock),
// without the DER when its number is cached.
func (d *DB) crlState(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, lock bool, cached int64) (certs.CRLState, error) {
	query := `SELECT number, CASE WHEN number = $1 THEN NULL ELSE der END, this_update, next_update, revocations FROM crl_state WHERE id = 1`
	if lock && d.dialect == Postgres {
		query += ` FOR UPDATE`
	}
	var st certs.CRLState
	var this, next int64
	err := q.QueryRowContext(ctx, query, cached).Scan(&st.Number, &st.DER, &this, &next, &st.Revocations)
	if errors.Is(err, sql.ErrNoRows) {
		return certs.CRLState{}, errors.New("store: crl state missing")
	}
	if err != nil {
		return certs.CRLState{}, fmt.Errorf("store: crl state: %w", err)
	}
	if st.Number > 0 {
		st.ThisUpdate, st.NextUpdate = fromMicros(this), fromMicros(next)
	}
	return st, nil
}

// CRLState returns the last CRL made, without its DER when its number is
// cached, and the number of certificates revoked now.
func (d *DB) CRLState(ctx context.Context, cached int64) (certs.CRLState, int64, error) {
	st, err := d.crlState(ctx, d.db, false, cached)
	if err != nil {
		return certs.CRLState{}, 0, err
	}
	var n int64
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE status = 'revoked'`).Scan(&n); err != nil {
		return certs.CRLState{}, 0, fmt.Errorf("store: count revoked: %w", err)
	}
	return st, n, nil
}

// RevocationEpoch returns the revocation epoch, which every revocation
// increments.
func (d *DB) RevocationEpoch(ctx context.Context) (int64, error) {
	var n int64
	if err := d.db.QueryRowContext(ctx, `SELECT epoch FROM revocation_epoch WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: revocation epoch: %w", err)
	}
	return n, nil
}

// ListRevoked returns the revoked certificates whose notAfter is after
// since, oldest revocation first, without their bytes: what a CRL lists.
func (d *DB) ListRevoked(ctx context.Context, since time.Time) ([]certs.Certificate, error) {
	return listRevoked(ctx, d.db, since)
}

func listRevoked(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}, since time.Time) ([]certs.Certificate, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+certHeadColumns+` FROM certificates c
		WHERE c.status = 'revoked' AND c.not_after > $1 ORDER BY c.revoked_at, c.id`, micros(since))
	if err != nil {
		return nil, fmt.Errorf("store: list revoked: %w", err)
	}
	defer rows.Close()
	var out []certs.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list revoked: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCRL runs fn with the CRL state locked, the number of certificates
// revoked ever and those whose notAfter is after since, and stores the
// state fn returns when it says so. See certs.CRLStore.
func (d *DB) UpdateCRL(ctx context.Context, since time.Time, fn func(cur certs.CRLState, revoked int64, listed []certs.Certificate) (certs.CRLState, bool, error)) (certs.CRLState, error) {
	var out certs.CRLState
	err := d.tx(ctx, func(tx *sql.Tx) error {
		cur, err := d.crlState(ctx, tx, true, 0)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE status = 'revoked'`).Scan(&n); err != nil {
			return fmt.Errorf("store: count revoked: %w", err)
		}
		listed, err := listRevoked(ctx, tx, since)
		if err != nil {
			return err
		}
		next, store, err := fn(cur, n, listed)
		if err != nil {
			return err
		}
		if !store {
			out = cur
			return nil
		}
		if next.Number <= cur.Number {
			return fmt.Errorf("store: crl number %d not after %d", next.Number, cur.Number)
		}
		res, err := tx.ExecContext(ctx, `UPDATE crl_state SET number = $1, der = $2, this_update = $3, next_update = $4, revocations = $5
			WHERE id = 1 AND number = $6`, next.Number, next.DER, micros(next.ThisUpdate), micros(next.NextUpdate), next.Revocations, cur.Number)
		if err != nil {
			return fmt.Errorf("store: save crl: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("store: save crl: the CRL number moved meanwhile")
		}
		out = next
		return nil
	})
	return out, err
}
