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

var (
	_ identity.Store = (*DB)(nil)
	_ identity.Tx    = (*identityTx)(nil)
)

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

func insertUser(ctx context.Context, tx *sql.Tx, u *identity.User) error {
	return tx.QueryRowContext(ctx, `INSERT INTO users (organization_id, login_id, name, email, role, password_hash, confirmation_hash,
			password_change_required, confirmation_change_required, failed_logins, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10) RETURNING id`,
		u.OrganizationID, u.LoginID, u.Name, u.Email, string(u.Role), u.PasswordHash, u.ConfirmationHash,
		u.PasswordChangeRequired, u.ConfirmationChangeRequired, micros(u.CreatedAt)).Scan(&u.ID)
}

// mapUnique turns the unique violations of organizations and users into
// the domain's errors, and wraps any other error with context.
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
	return fmt.Errorf("%s: %w", context, err)
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

// OrganizationByID returns an organization by its internal ID, for the
// readers that show it by its code.
func (d *DB) OrganizationByID(ctx context.Context, id int64) (identity.Organization, error) {
	var s orgScan
	err := d.db.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.id = $1`, id).Scan(s.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Organization{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.Organization{}, fmt.Errorf("store: organization %d: %w", id, err)
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
// Login IDs are compared without regard to case (ASCII only: a login ID
// has no other letters), by the unique index on lower(login_id).
func (d *DB) UserByLoginID(ctx context.Context, loginID string) (identity.User, identity.Organization, error) {
	return d.userWhere(ctx, `lower(u.login_id) = $1 AND u.deleted_at IS NULL`, lowerASCII(loginID))
}

// lowerASCII maps A-Z to a-z and leaves every other byte as it is, as
// SQLite's lower() does. (strings.ToLower would also turn the Kelvin sign
// into k, and find ko00001 for a login ID nobody has.)
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
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

// identityTx is a transaction of the identity package: the SQL of each
// step, in the lock order documented on identity.Tx.
type identityTx struct {
	d  *DB
	tx *sql.Tx
}

// InIdentityTx runs fn in one transaction (see DB.tx); fn's error is
// returned as it is.
func (d *DB) InIdentityTx(ctx context.Context, fn func(tx identity.Tx) error) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return fn(&identityTx{d: d, tx: tx}) })
}

// lockOrganizationWhere reads an organization and locks its row (FOR NO
// KEY UPDATE, see forUpdate: users and certificates inserted meanwhile
// name the organization).
func (t *identityTx) lockOrganizationWhere(ctx context.Context, where string, arg any) (identity.Organization, error) {
	var s orgScan
	err := t.tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE `+where+t.d.forUpdate(), arg).Scan(s.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Organization{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.Organization{}, fmt.Errorf("store: lock organization: %w", err)
	}
	return s.org(), nil
}

// LockOrganization reads and locks an organization.
func (t *identityTx) LockOrganization(ctx context.Context, id int64) (identity.Organization, error) {
	return t.lockOrganizationWhere(ctx, `o.id = $1`, id)
}

// LockOrganizationByCode reads and locks the organization with a code.
func (t *identityTx) LockOrganizationByCode(ctx context.Context, code string) (identity.Organization, error) {
	return t.lockOrganizationWhere(ctx, `o.code = $1`, code)
}

// LockUser reads and locks a user.
func (t *identityTx) LockUser(ctx context.Context, id int64) (identity.User, error) {
	u, err := scanUser(t.tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`+t.d.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return identity.User{}, identity.ErrNotFound
	}
	return u, wrapErr(err, "lock user")
}

// CountGeneralUsers counts an organization's general users who are not
// deleted.
func (t *identityTx) CountGeneralUsers(ctx context.Context, organizationID int64) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE organization_id = $1 AND role = 'general' AND deleted_at IS NULL`,
		organizationID).Scan(&n)
	return n, wrapErr(err, "count users")
}

// InsertOrganization inserts an organization.
func (t *identityTx) InsertOrganization(ctx context.Context, org *identity.Organization) error {
	err := t.tx.QueryRowContext(ctx, `INSERT INTO organizations (code, name, certificate_login, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		org.Code, org.Name, org.CertificateLogin, micros(org.CreatedAt)).Scan(&org.ID)
	return mapUnique(err, "store: insert organization")
}

// InsertUser inserts a user.
func (t *identityTx) InsertUser(ctx context.Context, u *identity.User) error {
	return mapUnique(insertUser(ctx, t.tx, u), "store: insert user")
}

// SetCertificateLogin sets an organization's certificate-login flag.
func (t *identityTx) SetCertificateLogin(ctx context.Context, organizationID int64, enabled bool) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE organizations SET certificate_login = $1 WHERE id = $2`, enabled, organizationID)
	return wrapErr(err, "set certificate login")
}

// DeletePasswordSessions deletes the organization's sessions that no
// certificate is bound to.
func (t *identityTx) DeletePasswordSessions(ctx context.Context, organizationID int64) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM sessions WHERE certificate_id IS NULL
		AND user_id IN (SELECT id FROM users WHERE organization_id = $1)`, organizationID)
	return wrapErr(err, "delete password sessions")
}

// DeleteUserSessions deletes a user's sessions but the one of exceptIDHash.
func (t *identityTx) DeleteUserSessions(ctx context.Context, userID int64, exceptIDHash string) error {
	_, err := t.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, exceptIDHash)
	return wrapErr(err, "delete user sessions")
}

// SetLoginFailures sets a user's failure count and lock time.
func (t *identityTx) SetLoginFailures(ctx context.Context, userID int64, failed int, lockedAt time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE users SET failed_logins = $1, locked_at = $2 WHERE id = $3`,
		failed, nullMicros(lockedAt), userID)
	return wrapErr(err, "set login failures")
}

// SetPassword replaces one of a user's password hashes.
func (t *identityTx) SetPassword(ctx context.Context, userID int64, kind identity.PasswordKind, hash string, changeRequired bool) error {
	q := `UPDATE users SET password_hash = $1, password_change_required = $2 WHERE id = $3`
	if kind == identity.ConfirmationPassword {
		q = `UPDATE users SET confirmation_hash = $1, confirmation_change_required = $2 WHERE id = $3`
	}
	res, err := t.tx.ExecContext(ctx, q, hash, changeRequired, userID)
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	} else if n != 1 {
		return identity.ErrNotFound
	}
	return nil
}

// AppendAudit appends an event to the audit chain, with the mails it
// causes.
func (t *identityTx) AppendAudit(ctx context.Context, ev audit.Event) error {
	return t.d.insertAudit(ctx, t.tx, ev)
}
