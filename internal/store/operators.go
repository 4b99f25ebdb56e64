package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/operators"
)

var _ operators.Store = (*DB)(nil)

const staffColumns = `id, name, display_name, role, created_at, disabled_at`

func scanStaff(s scanner) (operators.Staff, error) {
	var st operators.Staff
	var role string
	var created int64
	var disabled sql.NullInt64
	if err := s.Scan(&st.ID, &st.Name, &st.DisplayName, &role, &created, &disabled); err != nil {
		return operators.Staff{}, err
	}
	st.Role, st.CreatedAt, st.DisabledAt = operators.Role(role), fromMicros(created), fromNullMicros(disabled)
	return st, nil
}

func oneStaff(row *sql.Row) (operators.Staff, error) {
	st, err := scanStaff(row)
	if errors.Is(err, sql.ErrNoRows) {
		return operators.Staff{}, operators.ErrNotFound
	}
	if err != nil {
		return operators.Staff{}, fmt.Errorf("store: operator: %w", err)
	}
	return st, nil
}

// InsertStaff inserts an operator and fills its ID.
func (d *DB) InsertStaff(ctx context.Context, st *operators.Staff, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO operator_staff (name, display_name, role, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			st.Name, st.DisplayName, string(st.Role), micros(st.CreatedAt), ev.Actor).Scan(&st.ID)
		if _, ok := uniqueViolation(err); ok {
			return operators.ErrNameTaken
		}
		if err != nil {
			return fmt.Errorf("store: insert operator: %w", err)
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// StaffByName returns an operator by name, without regard to case.
func (d *DB) StaffByName(ctx context.Context, name string) (operators.Staff, error) {
	return oneStaff(d.db.QueryRowContext(ctx, `SELECT `+staffColumns+` FROM operator_staff WHERE lower(name) = lower($1)`, name))
}

// StaffByID returns an operator.
func (d *DB) StaffByID(ctx context.Context, id int64) (operators.Staff, error) {
	return oneStaff(d.db.QueryRowContext(ctx, `SELECT `+staffColumns+` FROM operator_staff WHERE id = $1`, id))
}

// ListStaff returns every operator, by name.
func (d *DB) ListStaff(ctx context.Context) ([]operators.Staff, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+staffColumns+` FROM operator_staff ORDER BY lower(name)`)
	if err != nil {
		return nil, fmt.Errorf("store: list operators: %w", err)
	}
	defer rows.Close()
	var out []operators.Staff
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list operators: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list operators: %w", err)
	}
	return out, nil
}

// DisableStaff disables an active operator and revokes their certificates.
func (d *DB) DisableStaff(ctx context.Context, id int64, at time.Time, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE operator_staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, micros(at), id)
		if err != nil {
			return fmt.Errorf("store: disable operator: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return operators.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operator_certificates SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL`, micros(at), id); err != nil {
			return fmt.Errorf("store: revoke operator certificates: %w", err)
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// InsertStaffCertificate records an operator's certificate.
func (d *DB) InsertStaffCertificate(ctx context.Context, c operators.StaffCertificate, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO operator_certificates (staff_id, serial, fingerprint, not_after, created_at)
			VALUES ($1, $2, $3, $4, $5)`, c.StaffID, c.Serial, c.Fingerprint, micros(c.NotAfter), micros(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("store: insert operator certificate: %w", err)
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// RevokeStaffCertificates revokes an operator's unrevoked certificates.
func (d *DB) RevokeStaffCertificates(ctx context.Context, staffID int64, at time.Time, ev audit.Event) (int, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE operator_certificates SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL`, micros(at), staffID)
		if err != nil {
			return fmt.Errorf("store: revoke operator certificates: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("store: revoke operator certificates: %w", err)
		}
		return d.insertAudit(ctx, tx, ev)
	})
	return int(n), err
}

// StaffByCertificate returns the active operator with that unrevoked
// certificate, unexpired at now.
func (d *DB) StaffByCertificate(ctx context.Context, fingerprint string, now time.Time) (operators.Staff, error) {
	return oneStaff(d.queryRow(ctx, `SELECT s.id, s.name, s.display_name, s.role, s.created_at, s.disabled_at
		FROM operator_certificates c JOIN operator_staff s ON s.id = c.staff_id
		WHERE c.fingerprint = $1 AND c.revoked_at IS NULL AND c.not_after > $2 AND s.disabled_at IS NULL`, fingerprint, micros(now)))
}

const requestColumns = `id, kind, ref, organization_code, params, status, maker, checker, reason, result, filed_at, decided_at`

func scanRequest(s scanner) (operators.Request, error) {
	var r operators.Request
	var kind, status, params, result string
	var filed int64
	var decided sql.NullInt64
	if err := s.Scan(&r.ID, &kind, &r.Ref, &r.OrganizationCode, &params, &status, &r.Maker, &r.Checker, &r.Reason, &result, &filed, &decided); err != nil {
		return operators.Request{}, err
	}
	r.Kind, r.Status = operators.Kind(kind), operators.Status(status)
	r.Params = json.RawMessage(params)
	if result != "" {
		r.Result = json.RawMessage(result)
	}
	r.FiledAt, r.DecidedAt = fromMicros(filed), fromNullMicros(decided)
	return r, nil
}

// organizationIDOf returns the ID of the organization with a code, 0 when
// there is none, for the audit events of a request.
func organizationIDOf(ctx context.Context, tx *sql.Tx, code string) (int64, error) {
	if code == "" {
		return 0, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE code = $1`, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: organization of request: %w", err)
	}
	return id, nil
}

// requestAudit appends ev, naming the request's organization, in tx.
func (d *DB) requestAudit(ctx context.Context, tx *sql.Tx, code string, ev audit.Event) error {
	if ev.OrganizationID == 0 {
		id, err := organizationIDOf(ctx, tx, code)
		if err != nil {
			return err
		}
		ev.OrganizationID = id
	}
	return d.insertAudit(ctx, tx, ev)
}

// InsertRequest inserts a pending request.
func (d *DB) InsertRequest(ctx context.Context, r *operators.Request, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO operator_requests (kind, ref, organization_code, params, status, maker, filed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			string(r.Kind), r.Ref, r.OrganizationCode, string(r.Params), string(r.Status), r.Maker, micros(r.FiledAt)).Scan(&r.ID)
		if _, ok := uniqueViolation(err); ok {
			return operators.ErrRefUsed
		}
		if err != nil {
			return fmt.Errorf("store: insert request: %w", err)
		}
		ev.Detail = fmt.Sprintf("request %d %s", r.ID, ev.Detail)
		return d.requestAudit(ctx, tx, r.OrganizationCode, ev)
	})
}

// Request returns a request.
func (d *DB) Request(ctx context.Context, id int64) (operators.Request, error) {
	r, err := scanRequest(d.db.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM operator_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return operators.Request{}, operators.ErrNotFound
	}
	if err != nil {
		return operators.Request{}, fmt.Errorf("store: request: %w", err)
	}
	return r, nil
}

// ListRequests returns requests by the filter, newest first.
func (d *DB) ListRequests(ctx context.Context, f operators.Filter) ([]operators.Request, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Status != "" {
		add("status = $%d", string(f.Status))
	}
	if f.Kind != "" {
		add("kind = $%d", string(f.Kind))
	}
	if f.OrganizationCode != "" {
		add("organization_code = $%d", f.OrganizationCode)
	}
	q := `SELECT ` + requestColumns + ` FROM operator_requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list requests: %w", err)
	}
	defer rows.Close()
	var out []operators.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list requests: %w", err)
	}
	return out, nil
}

// decide makes a pending request decided in one conditional update:
// ErrDecided when it is no longer pending (or is the checker's own),
// ErrNotFound when there is none.
func (d *DB) decide(ctx context.Context, tx *sql.Tx, id int64, status operators.Status, checker, reason string, at time.Time) (string, error) {
	var code string
	err := tx.QueryRowContext(ctx, `UPDATE operator_requests SET status = $1, checker = $2, reason = $3, decided_at = $4
		WHERE id = $5 AND status = 'pending' AND lower(maker) <> lower($6) RETURNING organization_code`,
		string(status), checker, reason, micros(at), id, checker).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM operator_requests WHERE id = $1`, id).Scan(&n); err != nil {
			return "", fmt.Errorf("store: decide request: %w", err)
		}
		if n == 0 {
			return "", operators.ErrNotFound
		}
		return "", operators.ErrDecided
	}
	if err != nil {
		return "", fmt.Errorf("store: decide request: %w", err)
	}
	return code, nil
}

// ClaimRequest makes a pending request approved by checker.
func (d *DB) ClaimRequest(ctx context.Context, id int64, checker string, at time.Time, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		code, err := d.decide(ctx, tx, id, operators.StatusApproved, checker, "", at)
		if err != nil {
			return err
		}
		return d.requestAudit(ctx, tx, code, ev)
	})
}

// CompleteRequest records a claimed request's result.
func (d *DB) CompleteRequest(ctx context.Context, id int64, organizationCode string, result json.RawMessage) error {
	_, err := d.db.ExecContext(ctx, `UPDATE operator_requests SET organization_code = $1, result = $2 WHERE id = $3 AND status = 'approved'`,
		organizationCode, string(result), id)
	if err != nil {
		return fmt.Errorf("store: complete request: %w", err)
	}
	return nil
}

// FailRequest makes a claimed request failed with the reason.
func (d *DB) FailRequest(ctx context.Context, id int64, reason string, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		var code string
		err := tx.QueryRowContext(ctx, `UPDATE operator_requests SET status = 'failed', reason = $1 WHERE id = $2 AND status = 'approved'
			RETURNING organization_code`, reason, id).Scan(&code)
		if errors.Is(err, sql.ErrNoRows) {
			return operators.ErrDecided
		}
		if err != nil {
			return fmt.Errorf("store: fail request: %w", err)
		}
		return d.requestAudit(ctx, tx, code, ev)
	})
}

// RejectRequest makes a pending request rejected.
func (d *DB) RejectRequest(ctx context.Context, id int64, checker, reason string, at time.Time, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		code, err := d.decide(ctx, tx, id, operators.StatusRejected, checker, reason, at)
		if err != nil {
			return err
		}
		return d.requestAudit(ctx, tx, code, ev)
	})
}
