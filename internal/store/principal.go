package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
)

// certHeadColumns are certColumns without the certificate's bytes (TBS and
// DER, NULL here): what a request's checks read, hundreds of bytes less.
const certHeadColumns = `c.id, c.serial, c.user_id, c.organization_id, c.status, NULL, NULL, c.fingerprint, c.not_before, c.not_after,
	c.created_at, c.issued_at, c.revoked_at, c.revocation_reason, c.revoked_by, c.request_ref, c.renews`

// sessionColumns are a session's own columns.
const sessionColumns = `s.id_hash, s.user_id, s.certificate_id, s.fingerprint, s.created_at, s.last_seen_at, s.expires_at`

// sessionScan receives sessionColumns.
type sessionScan struct {
	s                      auth.Session
	certID                 sql.NullInt64
	fp                     sql.NullString
	created, seen, expires int64
}

func (s *sessionScan) dest() []any {
	return []any{&s.s.IDHash, &s.s.UserID, &s.certID, &s.fp, &s.created, &s.seen, &s.expires}
}

func (s *sessionScan) session() auth.Session {
	s.s.CertificateID, s.s.Fingerprint = s.certID.Int64, s.fp.String
	s.s.CreatedAt, s.s.LastSeenAt, s.s.ExpiresAt = fromMicros(s.created), fromMicros(s.seen), fromMicros(s.expires)
	return s.s
}

// SessionPrincipal returns the session of idHash with its user and
// organization and, for a session of certificate login, the certificate
// it is bound to (without its TBS and DER), in one read; auth.ErrNoSession when there is none. See
// auth.Store.
func (d *DB) SessionPrincipal(ctx context.Context, idHash string) (auth.Session, *certs.Certificate, identity.User, identity.Organization, error) {
	var ss sessionScan
	var cs certScan
	var os orgScan
	row := d.queryRow(ctx, `SELECT `+userColumns+`, `+sessionColumns+`, `+certHeadColumns+`, `+orgColumns+`
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		JOIN organizations o ON o.id = u.organization_id
		LEFT JOIN certificates c ON c.id = s.certificate_id
		WHERE s.id_hash = $1`, idHash)
	u, err := scanUser(row, append(append(ss.dest(), cs.dest()...), os.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Session{}, nil, identity.User{}, identity.Organization{}, auth.ErrNoSession
	}
	if err != nil {
		return auth.Session{}, nil, identity.User{}, identity.Organization{}, fmt.Errorf("store: session principal: %w", err)
	}
	var c *certs.Certificate
	if cs.valid() {
		cert := cs.cert()
		c = &cert
	}
	return ss.session(), c, u, os.org(), nil
}

// CertificateHolder returns the certificate of fingerprint (without its
// TBS and DER) with its user and organization, in one read; certs.ErrNotFound when no certificate has
// it. See auth.Store.
func (d *DB) CertificateHolder(ctx context.Context, fingerprint string) (certs.Certificate, identity.User, identity.Organization, error) {
	var cs certScan
	var os orgScan
	row := d.queryRow(ctx, `SELECT `+userColumns+`, `+certHeadColumns+`, `+orgColumns+`
		FROM certificates c
		JOIN users u ON u.id = c.user_id
		JOIN organizations o ON o.id = u.organization_id
		WHERE c.fingerprint = $1`, fingerprint)
	u, err := scanUser(row, append(cs.dest(), os.dest()...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, certs.ErrNotFound
	}
	if err != nil {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, fmt.Errorf("store: certificate holder: %w", err)
	}
	return cs.cert(), u, os.org(), nil
}
