// Package auth logs users in and keeps their sessions: ID + password on the
// portal (refused once the organization uses certificate login, R8), and
// certificate + password on the certificate portal, where the server finds
// the user by the SHA-256 fingerprint of the exact certificate it issued,
// never by a name inside it (R3, R7). A session made by certificate login
// is bound to that certificate. Sessions live in the database so that any
// server can serve them. This package never issues or revokes certificates.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/pki"
)

// Errors.
var (
	ErrCertificateLoginRequired = errors.New("auth: the organization uses certificate login")
	ErrNoSession                = errors.New("auth: no valid session")
	ErrCertificateMismatch      = errors.New("auth: the session belongs to another certificate")
	ErrCertificateRequired      = errors.New("auth: a client certificate is required")
	ErrUnknownCertificate       = errors.New("auth: certificate not issued by this bank")
	ErrCertificateRevoked       = errors.New("auth: certificate revoked")
	ErrCertificateExpired       = errors.New("auth: certificate expired")
	ErrCertificateNotYetValid   = errors.New("auth: certificate not yet valid")
	ErrUserUnavailable          = errors.New("auth: the certificate's user is locked or deleted")
)

// Session is a logged-in session.
type Session struct {
	IDHash        string // hex SHA-256 of the cookie's token
	UserID        int64
	CertificateID int64  // 0 for an ID+password session
	Fingerprint   string // of the bound certificate
	CreatedAt     time.Time
	LastSeenAt    time.Time
	ExpiresAt     time.Time // absolute end
}

// Store is what auth needs from storage.
type Store interface {
	CreateSession(ctx context.Context, s Session, ev audit.Event) error
	// SessionPrincipal returns, in one read, the session of idHash with
	// its user, organization and bound certificate (nil for an ID +
	// password session), or ErrNoSession.
	SessionPrincipal(ctx context.Context, idHash string) (Principal, error)
	// CertificateHolder returns, in one read, the certificate with a
	// fingerprint, its user and organization, or certs.ErrNotFound.
	CertificateHolder(ctx context.Context, fingerprint string) (certs.Certificate, identity.User, identity.Organization, error)
	TouchSession(ctx context.Context, idHash string, now time.Time) error
	DeleteSession(ctx context.Context, idHash string, ev audit.Event) error
	AppendAudit(ctx context.Context, ev audit.Event) error
}

// Principal is who makes a request.
type Principal struct {
	Session      Session
	User         identity.User
	Organization identity.Organization
	Certificate  *certs.Certificate // the bound certificate, nil for ID+password
}

// PasswordChangeRequired reports whether a password set by someone else must
// be changed before anything else.
func (p Principal) PasswordChangeRequired() bool {
	return p.User.PasswordChangeRequired || p.User.ConfirmationChangeRequired
}

// Config holds a Manager's dependencies.
type Config struct {
	Store           Store
	Identity        *identity.Service
	Certs           *certs.Service
	Now             func() time.Time // default time.Now
	Rand            io.Reader        // default crypto/rand
	IdleTimeout     time.Duration    // default 15 minutes
	AbsoluteTimeout time.Duration    // default 12 hours
	// Logger receives what cannot be recorded otherwise, such as an
	// audit event whose write failed; default slog.Default().
	Logger *slog.Logger
	// OnLogin, when set, is told the outcome of every login attempt: its
	// channel ("password" or "certificate") and its error, nil when the
	// user is logged in (the server counts them in its metrics).
	OnLogin func(channel string, err error)
}

// Manager logs users in and checks their sessions.
type Manager struct {
	c Config
}

// New returns a Manager.
func New(c Config) *Manager {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 15 * time.Minute
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = 12 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Manager{c: c}
}

// appendAudit records an event that goes with no change of its own (a
// refused login): the answer does not wait on it, but a failed write is
// logged, never lost in silence.
func (m *Manager) appendAudit(ctx context.Context, ev audit.Event) {
	if err := m.c.Store.AppendAudit(ctx, ev); err != nil {
		m.c.Logger.ErrorContext(ctx, "audit event not recorded", "type", ev.Type, "user_id", ev.UserID, "err", err)
	}
}

// IdleTimeout returns the idle timeout of sessions.
func (m *Manager) IdleTimeout() time.Duration { return m.c.IdleTimeout }

// touchEvery is how stale last_seen_at may get before a request writes it:
// the idle timeout is exact to within this much, and a busy session costs
// one write a minute rather than one a request.
const touchEvery = time.Minute

// PasswordLogin logs in with login ID and password on the portal. Users of an
// organization with certificate login get ErrCertificateLoginRequired, after
// the password check so that the answer gives nothing away to someone who
// does not know the password (R8). from is the client's address, by which
// failures are throttled (identity.Service.Authenticate).
func (m *Manager) PasswordLogin(ctx context.Context, loginID, password string, from netip.Addr) (string, Principal, error) {
	token, p, err := m.passwordLogin(ctx, loginID, password, from)
	m.onLogin("password", err)
	return token, p, err
}

func (m *Manager) passwordLogin(ctx context.Context, loginID, password string, from netip.Addr) (string, Principal, error) {
	u, org, err := m.c.Identity.Authenticate(ctx, loginID, password, "password login", from)
	if err != nil {
		return "", Principal{}, err
	}
	if org.CertificateLogin {
		m.appendAudit(ctx, audit.Event{At: m.c.Now(), Type: audit.LoginFailed, Actor: audit.UserActor(u.LoginID),
			OrganizationID: org.ID, UserID: u.ID, Detail: "password login: certificate login required"})
		return "", Principal{}, ErrCertificateLoginRequired
	}
	return m.newSession(ctx, u, org, nil, "password login")
}

// CertificateLogin logs in on the certificate portal with the connection's
// verified client certificate and the user's login password, from the
// client address from. A wrong password counts towards the lock.
func (m *Manager) CertificateLogin(ctx context.Context, peer *x509.Certificate, password string, from netip.Addr) (string, Principal, error) {
	token, p, err := m.certificateLogin(ctx, peer, password, from)
	m.onLogin("certificate", err)
	return token, p, err
}

// onLogin tells Config.OnLogin, if set, a login's outcome.
func (m *Manager) onLogin(channel string, err error) {
	if m.c.OnLogin != nil {
		m.c.OnLogin(channel, err)
	}
}

func (m *Manager) certificateLogin(ctx context.Context, peer *x509.Certificate, password string, from netip.Addr) (string, Principal, error) {
	c, u, org, err := m.CheckCertificate(ctx, peer)
	if err != nil {
		return "", Principal{}, err
	}
	if err := m.c.Identity.CheckPasswordFrom(ctx, u, identity.LoginPassword, password, "certificate login", from); err != nil {
		return "", Principal{}, err
	}
	// The first login with a renewed certificate retires the old one (R9)
	// before the session exists; the expiry notice follows from the login.
	if err := m.c.Certs.OnLogin(ctx, c); err != nil {
		return "", Principal{}, err
	}
	return m.newSession(ctx, u, org, &c, "certificate login")
}

func (m *Manager) newSession(ctx context.Context, u identity.User, org identity.Organization, c *certs.Certificate, channel string) (string, Principal, error) {
	var raw [32]byte
	if _, err := io.ReadFull(m.c.Rand, raw[:]); err != nil {
		return "", Principal{}, fmt.Errorf("auth: session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := m.c.Now().UTC()
	s := Session{IDHash: hashToken(token), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(m.c.AbsoluteTimeout)}
	ev := audit.Event{At: now, Type: audit.LoginSucceeded, Actor: audit.UserActor(u.LoginID),
		OrganizationID: org.ID, UserID: u.ID, Detail: channel}
	if c != nil {
		s.CertificateID, s.Fingerprint = c.ID, c.Fingerprint
		ev.Serial = c.Serial
	}
	// The failures since the last login become this login's report.
	if err := m.c.Identity.StartReport(ctx, u.ID); err != nil {
		return "", Principal{}, err
	}
	if err := m.c.Store.CreateSession(ctx, s, ev); err != nil {
		return "", Principal{}, err
	}
	return token, Principal{Session: s, User: u, Organization: org, Certificate: c}, nil
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CheckCertificate finds the certificate record of a client certificate by
// its fingerprint and checks that it is issued, unrevoked, within its
// validity, and that its user is neither locked nor deleted.
func (m *Manager) CheckCertificate(ctx context.Context, peer *x509.Certificate) (certs.Certificate, identity.User, identity.Organization, error) {
	if peer == nil {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, ErrCertificateRequired
	}
	c, u, org, err := m.c.Store.CertificateHolder(ctx, pki.Fingerprint(peer.Raw))
	if errors.Is(err, certs.ErrNotFound) {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, ErrUnknownCertificate
	}
	if err != nil {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, err
	}
	if err := m.checkHolder(c, u); err != nil {
		return certs.Certificate{}, identity.User{}, identity.Organization{}, err
	}
	return c, u, org, nil
}

// checkHolder checks that a certificate record is issued, unrevoked and
// within its validity, and that its user u is neither locked nor deleted.
func (m *Manager) checkHolder(c certs.Certificate, u identity.User) error {
	now := m.c.Now()
	switch {
	case c.Status == certs.StatusRevoked:
		return ErrCertificateRevoked
	case c.Status != certs.StatusIssued:
		return ErrUnknownCertificate
	case c.Expired(now):
		return ErrCertificateExpired
	case now.Before(c.NotBefore):
		return ErrCertificateNotYetValid
	case u.Locked() || u.Deleted():
		return ErrUserUnavailable
	}
	return nil
}

// Authenticate checks a session token on a request. peer is the
// connection's client certificate (nil on the portal). A session made by
// certificate login is valid only on a connection that presents the very
// same certificate, and only while that certificate is active; an ID+password
// session only on a connection without a certificate, and only while the
// organization does not use certificate login.
func (m *Manager) Authenticate(ctx context.Context, token string, peer *x509.Certificate) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoSession
	}
	p, err := m.c.Store.SessionPrincipal(ctx, hashToken(token))
	if errors.Is(err, ErrNoSession) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, err
	}
	s := p.Session
	now := m.c.Now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= m.c.IdleTimeout {
		if err := m.c.Store.DeleteSession(ctx, s.IDHash, audit.Event{At: now, Type: audit.SessionEnded, Actor: audit.System,
			UserID: s.UserID, Detail: "expired"}); err != nil {
			m.c.Logger.ErrorContext(ctx, "expired session not ended", "user_id", s.UserID, "err", err)
		}
		return Principal{}, ErrNoSession
	}
	if s.CertificateID != 0 {
		if peer == nil {
			return Principal{}, ErrCertificateRequired
		}
		if pki.Fingerprint(peer.Raw) != s.Fingerprint {
			return Principal{}, ErrCertificateMismatch
		}
		c := p.Certificate
		if c == nil {
			return Principal{}, certs.ErrNotFound
		}
		if c.Fingerprint != s.Fingerprint || c.UserID != s.UserID {
			return Principal{}, ErrCertificateMismatch
		}
		if err := m.checkHolder(*c, p.User); err != nil {
			return Principal{}, err
		}
	} else {
		p.Certificate = nil
		if peer != nil {
			return Principal{}, ErrCertificateMismatch
		}
		if p.User.Locked() || p.User.Deleted() {
			return Principal{}, ErrNoSession
		}
		if p.Organization.CertificateLogin {
			return Principal{}, ErrCertificateLoginRequired
		}
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := m.c.Store.TouchSession(ctx, s.IDHash, now); err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}

// Logout ends the session of token.
func (m *Manager) Logout(ctx context.Context, p Principal) error {
	return m.c.Store.DeleteSession(ctx, p.Session.IDHash, audit.Event{At: m.c.Now(), Type: audit.SessionEnded,
		Actor: audit.UserActor(p.User.LoginID), OrganizationID: p.Organization.ID, UserID: p.User.ID, Detail: "logout"})
}
