package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kinko/internal/certs"
)

var _ certs.CRLStore = (*DB)(nil)

// crlState reads the one row of crl_state, locked on PostgreSQL when lock
// is set (SQLite's IMMEDIATE transaction already holds the write lock).
func (d *DB) crlState(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, lock bool) (certs.CRLState, error) {
	query := `SELECT number, der, this_update, next_update, revocations FROM crl_state WHERE id = 1`
	if lock && d.dialect == Postgres {
		query += ` FOR UPDATE`
	}
	var st certs.CRLState
	var this, next int64
	err := q.QueryRowContext(ctx, query).Scan(&st.Number, &st.DER, &this, &next, &st.Revocations)
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

// CRLState returns the last CRL made and the number of certificates revoked
// now.
func (d *DB) CRLState(ctx context.Context) (certs.CRLState, int64, error) {
	st, err := d.crlState(ctx, d.db, false)
	if err != nil {
		return certs.CRLState{}, 0, err
	}
	var n int64
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE status = 'revoked'`).Scan(&n); err != nil {
		return certs.CRLState{}, 0, fmt.Errorf("store: count revoked: %w", err)
	}
	return st, n, nil
}

// ListRevoked returns the revoked certificates, oldest revocation first.
func (d *DB) ListRevoked(ctx context.Context) ([]certs.Certificate, error) {
	return listRevoked(ctx, d.db)
}

func listRevoked(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]certs.Certificate, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+certColumns+` FROM certificates c WHERE c.status = 'revoked' ORDER BY c.revoked_at, c.id`)
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

// UpdateCRL runs fn with the CRL state locked and the revoked certificates,
// and stores the state fn returns when it says so. See certs.CRLStore.
func (d *DB) UpdateCRL(ctx context.Context, fn func(cur certs.CRLState, revoked []certs.Certificate) (certs.CRLState, bool, error)) (certs.CRLState, error) {
	var out certs.CRLState
	err := d.tx(ctx, func(tx *sql.Tx) error {
		cur, err := d.crlState(ctx, tx, true)
		if err != nil {
			return err
		}
		revoked, err := listRevoked(ctx, tx)
		if err != nil {
			return err
		}
		next, store, err := fn(cur, revoked)
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
