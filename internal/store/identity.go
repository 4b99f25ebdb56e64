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
)

var _ identity.Store = (*DB)(nil)

const userColumns = `u.id, u.organization_id, u.login_id, u.name, u.email, u.role, u.password_hash, u.confirmation_hash,
	u.password_change_required, u.confirmation_change_required, u.failed_logins, u.locked_at, u.deleted_at, u.created_at`

const orgColumns = `o.id, o.code, o.name, o.certificate_login, o.created_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner, extra ...any) (identity.User, error) {
	var u identity.User
	var role string
	var locked, deleted sql.NullInt64
	var created int64
	dest := []any{&u.ID, &u.OrganizationID, &u.LoginID, &u.Name, &u.Email, &role, &u.PasswordHash, &u.ConfirmationHash,
		&u.PasswordChangeRequired, &u.ConfirmationChangeRequired, &u.FailedLogins, &locked, &deleted, &created}
	if err := s.Scan(append(dest, extra...)...); err != nil {
		return identity.User{}, err
	}
	u.Role = identity.Role(role)
	u.LockedAt, u.DeletedAt, u.CreatedAt = fromNullMicros(locked), fromNullMicros(deleted), fromMicros(created)
	return u, nil
}

type orgScan struct {
	o       identity.Organization
	created int64
}

func (s *orgScan) dest() []any {
	return []any{&s.o.ID, &s.o.Code, &s.o.Name, &s.o.CertificateLogin, &s.created}
}

func (s *orgScan) org() identity.Organization {
	s.o.CreatedAt = fromMicros(s.created)
	return s.o
}

// CreateOrganization inserts an organization and its master user.
func (d *DB) CreateOrganization(ctx context.Context, org *identity.Organization, master *identity.User, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO organizations (code, name, certificate_login, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			org.Code, org.Name, org.CertificateLogin, micros(org.CreatedAt)).Scan(&org.ID)
		if err != nil {
			return err
		}
		master.OrganizationID = org.ID
		if err := insertUser(ctx, tx, master); err != nil {
			return err
		}
		ev.OrganizationID, ev.UserID = org.ID, master.ID
		return d.insertAudit(ctx, tx, ev)
	})
	return mapUnique(err, "store: create organization")
}

func insertUser(ctx context.Context, tx *sql.Tx, u *identity.User) error {
	return tx.QueryRowContext(ctx, `INSERT INTO users (organization_id, login_id, name, email, role, password_hash, confirmation_hash,
			password_change_required, confirmation_change_required, failed_logins, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10) RETURNING id`,
		u.OrganizationID, u.LoginID, u.Name, u.Email, string(u.Role), u.PasswordHash, u.ConfirmationHash,
		u.PasswordChangeRequired, u.ConfirmationChangeRequired, micros(u.CreatedAt)).Scan(&u.ID)
}

// mapUnique turns unique violations into the domain's errors.
func mapUnique(err error, context string) error {
	if err == nil {
		return nil
	}
	if name, ok := uniqueViolation(err); ok {
		switch {
		case strings.Contains(name, "login_id"):
			return identity.ErrLoginIDTaken
		case strings.Contains(name, "code"):
			return identity.ErrOrganizationCodeTaken
		}
	}
	if isDomainError(err) {
		return err
	}
	return fmt.Errorf("%s: %w", context, err)
}

// SetCertificateLogin sets an organization's certificate-login flag. When it
// is turned on, the organization's ID+password sessions end (R8).
func (d *DB) SetCertificateLogin(ctx context.Context, code string, enabled bool, ev audit.Event) (identity.Organization, error) {
	var org identity.Organization
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var s orgScan
		q := `SELECT ` + orgColumns + ` FROM organizations o WHERE o.code = $1`
		if d.dialect == Postgres {
			q += ` FOR UPDATE`
		}
		if err := tx.QueryRowContext(ctx, q, code).Scan(s.dest()...); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return identity.ErrNotFound
			}
			return err
		}
		org = s.org()
		if org.CertificateLogin == enabled {
			return identity.ErrCertificateLoginUnchanged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE organizations SET certificate_login = $1 WHERE id = $2`, enabled, org.ID); err != nil {
			return err
		}
		org.CertificateLogin = enabled
		if enabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE certificate_id IS NULL
				AND user_id IN (SELECT id FROM users WHERE organization_id = $1)`, org.ID); err != nil {
				return err
			}
		}
		ev.OrganizationID = org.ID
		return d.insertAudit(ctx, tx, ev)
	})
	if err != nil {
		return identity.Organization{}, mapUnique(err, "store: set certificate login")
	}
	return org, nil
}

// OrganizationByCode returns an organization by its code.
func (d *DB) OrganizationByCode(ctx context.Context, code string) (identity.Organization, error) {
	var s orgScan
	err := d.db.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.code = $1`, code).Scan(s.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Organization{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.Organization{}, fmt.Errorf("store: organization %q: %w", code, err)
	}
	return s.org(), nil
}

// ListOrganizations returns all organizations by code.
func (d *DB) ListOrganizations(ctx context.Context) ([]identity.Organization, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+orgColumns+` FROM organizations o ORDER BY o.code`)
	if err != nil {
		return nil, fmt.Errorf("store: list organizations: %w", err)
	}
	defer rows.Close()
	var out []identity.Organization
	for rows.Next() {
		var s orgScan
		if err := rows.Scan(s.dest()...); err != nil {
			return nil, fmt.Errorf("store: list organizations: %w", err)
		}
		out = append(out, s.org())
	}
	return out, rows.Err()
}

func (d *DB) userWhere(ctx context.Context, where string, arg any) (identity.User, identity.Organization, error) {
	var s orgScan
	row := d.queryRow(ctx, `SELECT `+userColumns+`, `+orgColumns+` FROM users u JOIN organizations o ON o.id = u.organization_id WHERE `+where, arg)
	u, err := scanUser(row, s.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.User{}, identity.Organization{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.User{}, identity.Organization{}, fmt.Errorf("store: user: %w", err)
	}
	return u, s.org(), nil
}

// UserByLoginID returns a user who is not deleted, with the organization.
func (d *DB) UserByLoginID(ctx context.Context, loginID string) (identity.User, identity.Organization, error) {
	return d.userWhere(ctx, `u.login_id = $1 AND u.deleted_at IS NULL`, loginID)
}

// UserByID returns a user, deleted or not, with the organization.
func (d *DB) UserByID(ctx context.Context, id int64) (identity.User, identity.Organization, error) {
	return d.userWhere(ctx, `u.id = $1`, id)
}

// ListUsers returns the organization's users who are not deleted, master first.
func (d *DB) ListUsers(ctx context.Context, organizationID int64) ([]identity.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.organization_id = $1 AND u.deleted_at IS NULL
		ORDER BY CASE WHEN u.role = 'master' THEN 0 ELSE 1 END, u.login_id`, organizationID)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateGeneralUser inserts a general user unless the organization already
// has maxGeneral general users who are not deleted. The count and the insert
// are one transaction under the organization's lock.
func (d *DB) CreateGeneralUser(ctx context.Context, u *identity.User, maxGeneral int, ev audit.Event) error {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if err := d.lockOrganization(ctx, tx, u.OrganizationID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE organization_id = $1 AND role = 'general' AND deleted_at IS NULL`,
			u.OrganizationID).Scan(&n); err != nil {
			return err
		}
		if n >= maxGeneral {
			return identity.ErrOrganizationUserLimit
		}
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		ev.UserID = u.ID
		return d.insertAudit(ctx, tx, ev)
	})
	return mapUnique(err, "store: create user")
}

// RecordLoginFailure counts a wrong password and locks the user when the
// count reaches lockAfter. The increment is atomic, so racing failures are
// all counted.
func (d *DB) RecordLoginFailure(ctx context.Context, userID int64, lockAfter int, now time.Time, ev audit.Event) (bool, error) {
	var locked bool
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var failed int
		var lockedAt sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1,
				locked_at = CASE WHEN locked_at IS NULL AND failed_logins + 1 >= $1 THEN $2 ELSE locked_at END
			WHERE id = $3 RETURNING failed_logins, locked_at`, lockAfter, micros(now), userID).Scan(&failed, &lockedAt)
		if err != nil {
			return err
		}
		if err := d.insertAudit(ctx, tx, ev); err != nil {
			return err
		}
		locked = lockedAt.Valid
		if locked && failed == lockAfter {
			lockEv := ev
			lockEv.Type, lockEv.Actor, lockEv.Detail = audit.UserLocked, audit.System, fmt.Sprintf("%d wrong passwords in a row", failed)
			return d.insertAudit(ctx, tx, lockEv)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: record login failure: %w", err)
	}
	return locked, nil
}

// ResetLoginFailures sets the failure count of an unlocked user back to zero.
func (d *DB) ResetLoginFailures(ctx context.Context, userID int64) error {
	_, err := d.db.ExecContext(ctx, `UPDATE users SET failed_logins = 0 WHERE id = $1 AND locked_at IS NULL`, userID)
	if err != nil {
		return fmt.Errorf("store: reset login failures: %w", err)
	}
	return nil
}

// SetPassword replaces one of a user's password hashes.
func (d *DB) SetPassword(ctx context.Context, userID int64, kind identity.PasswordKind, hash string, changeRequired bool, ev audit.Event) error {
	q := `UPDATE users SET password_hash = $1, password_change_required = $2 WHERE id = $3`
	if kind == identity.ConfirmationPassword {
		q = `UPDATE users SET confirmation_hash = $1, confirmation_change_required = $2 WHERE id = $3`
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, hash, changeRequired, userID)
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return identity.ErrNotFound
		}
		return d.insertAudit(ctx, tx, ev)
	})
}

// Unlock clears a user's lock and failure count.
func (d *DB) Unlock(ctx context.Context, userID int64, ev audit.Event) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET locked_at = NULL, failed_logins = 0 WHERE id = $1 AND locked_at IS NOT NULL`, userID)
		if err != nil {
			return fmt.Errorf("store: unlock: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return identity.ErrNotLocked
		}
		return d.insertAudit(ctx, tx, ev)
	})
}
