// Package certs is the registration authority: it applies the certificate
// rules R2..R13 (who may get a certificate, one per login ID, at most 20 per
// organization, who may revoke whose) and then asks pki to sign. It records
// every certificate before it is signed, so that a crash never leaves a
// signed certificate that nobody knows of. It never touches key material
// other than through pki.Issuer, and never decides anything from a name
// inside a certificate.
package certs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/pki"
)

// Status is the state of a certificate record.
type Status string

// Statuses.
const (
	StatusPending Status = "pending" // recorded, not (yet) signed
	StatusIssued  Status = "issued"
	StatusRevoked Status = "revoked"
)

// MaxPerOrganization is R6's limit: 1 master + 19 general users.
const MaxPerOrganization = 20

// Certificate is a client certificate record.
type Certificate struct {
	ID               int64
	Serial           string // lowercase hex
	UserID           int64
	OrganizationID   int64
	Status           Status
	TBS              []byte
	DER              []byte
	Fingerprint      string // SHA-256 of DER, lowercase hex
	NotBefore        time.Time
	NotAfter         time.Time
	CreatedAt        time.Time
	IssuedAt         time.Time
	RevokedAt        time.Time
	RevocationReason string
	RevokedBy        string
	RequestRef       string
	// Renews is the record ID of the certificate this one renews (R9), 0
	// for a certificate issued from the login screen.
	Renews int64
	// FirstUsedAt and LastUsedAt are when the certificate was first and
	// last used to log in; zero: never.
	FirstUsedAt time.Time
	LastUsedAt  time.Time
}

// Expired reports whether the certificate is past its notAfter at now
// (notAfter itself is still inside the validity, RFC 5280).
func (c Certificate) Expired(now time.Time) bool { return now.After(c.NotAfter) }

// Active reports whether the certificate is issued, not revoked and within
// its validity at now.
func (c Certificate) Active(now time.Time) bool {
	return c.Status == StatusIssued && !now.Before(c.NotBefore) && !c.Expired(now)
}

// DaysLeft is the number of days from now until notAfter, counting a part
// of a day as a day (0 when expired).
func (c Certificate) DaysLeft(now time.Time) int {
	if c.Expired(now) {
		return 0
	}
	day := 24 * time.Hour
	return int((c.NotAfter.Sub(now) + day - 1) / day)
}

// Revocation reasons (RFC 5280 names and codes).
var reasonCodes = map[string]int{
	"unspecified":          0,
	"keyCompromise":        1,
	"affiliationChanged":   3,
	"superseded":           4,
	"cessationOfOperation": 5,
}

// ReasonCode returns the RFC 5280 CRLReason code of a reason name.
func ReasonCode(reason string) (int, bool) {
	c, ok := reasonCodes[reason]
	return c, ok
}

// Errors.
var (
	ErrInvalidCSR                 = pki.ErrInvalidCSR
	ErrUnsupportedKey             = pki.ErrUnsupportedKey
	ErrCertificateLoginNotEnabled = errors.New("certs: certificate login is not enabled for the organization")
	ErrActiveCertificateExists    = errors.New("certs: the user has an active certificate")
	ErrOrganizationLimit          = errors.New("certs: the organization has the maximum number of active certificates")
	ErrNotFound                   = errors.New("certs: certificate not found")
	ErrNoActiveCertificate        = errors.New("certs: the user has no active certificate")
	ErrAlreadyRevoked             = errors.New("certs: certificate already revoked")
	ErrInvalidReason              = errors.New("certs: invalid revocation reason")
	ErrRequestRefRequired         = errors.New("certs: the written request's reference is required")
	ErrRenewalNotDue              = errors.New("certs: the certificate is not yet inside its renewal window")
	ErrRenewalInProgress          = errors.New("certs: a renewal of this certificate is being signed")
	ErrForbidden                  = identity.ErrForbidden
)

// Revocation describes a revocation.
type Revocation struct {
	Reason     string
	At         time.Time
	By         string // actor
	RequestRef string
}

// Validity computes a certificate's notAfter from its notBefore.
type Validity func(notBefore time.Time) time.Time

// OneYear is R9's validity: the same instant one calendar year later.
func OneYear(nb time.Time) time.Time { return nb.AddDate(1, 0, 0) }

// Config holds a Service's dependencies.
type Config struct {
	Store    Store
	Identity *identity.Service
	Issuer   *pki.Issuer
	Validity Validity // default OneYear
	// RenewalWindow is how long before expiry a certificate can be
	// renewed and the notices begin (R9); default 40 days.
	RenewalWindow time.Duration
	Now           func() time.Time // default time.Now
	Rand          io.Reader        // serials; default crypto/rand
	// Logger receives what cannot be recorded otherwise, such as an
	// audit event whose write failed; default slog.Default().
	Logger  *slog.Logger
	CRLURL  string // optional, put in issued certificates
	OCSPURL string // optional, put in issued certificates
	// URLs, when set, gives the CRL and OCSP URLs at each issuance instead
	// of CRLURL and OCSPURL (the listener's address may be known only once
	// it listens).
	URLs func() (crlURL, ocspURL string)
	// OnIssue, when set, is told the outcome of every issuance asked for:
	// its kind ("issue" or "renew") and its error, nil when a certificate
	// was issued. OnRevoke likewise of every revocation asked for, by
	// "master" or "bank". The server counts them in its metrics.
	OnIssue  func(kind string, err error)
	OnRevoke func(by string, err error)
}

// Service issues and revokes client certificates.
type Service struct {
	c Config
}

// appendAudit records an event that goes with no change of its own (a
// refused request): the answer does not wait on it, but a failed write is
// logged, never lost in silence.
func (s *Service) appendAudit(ctx context.Context, ev audit.Event) {
	if err := s.c.Store.AppendAudit(ctx, ev); err != nil {
		s.c.Logger.ErrorContext(ctx, "audit event not recorded", "type", ev.Type, "user_id", ev.UserID, "err", err)
	}
}

// New returns a Service.
func New(c Config) *Service {
	if c.Validity == nil {
		c.Validity = OneYear
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RenewalWindow == 0 {
		c.RenewalWindow = DefaultRenewalWindow
	}
	return &Service{c: c}
}

// staleAfter is how long a pending record may wait for its signature before
// it is taken for the trace of a crash.
const staleAfter = 2 * time.Minute

// Issue is 電子証明書発行 (R4, R6, R7, R11): with the login ID and login
// password, the user gets a certificate for the public key of csr, if the
// organization uses certificate login and the user holds no active one.
// from is the client's address, by which failed attempts are throttled
// (identity.Service.Authenticate).
func (s *Service) Issue(ctx context.Context, loginID, password string, from netip.Addr, csr []byte) (Certificate, error) {
	c, err := s.issue(ctx, loginID, password, from, csr)
	s.onIssue("issue", err)
	return c, err
}

// onIssue tells Config.OnIssue, if set, an issuance's outcome.
func (s *Service) onIssue(kind string, err error) {
	if s.c.OnIssue != nil {
		s.c.OnIssue(kind, err)
	}
}

// onRevoke tells Config.OnRevoke, if set, a revocation's outcome.
func (s *Service) onRevoke(by string, err error) {
	if s.c.OnRevoke != nil {
		s.c.OnRevoke(by, err)
	}
}

func (s *Service) issue(ctx context.Context, loginID, password string, from netip.Addr, csr []byte) (Certificate, error) {
	req, err := pki.ParseCSR(csr)
	if err != nil {
		return Certificate{}, err
	}
	u, org, err := s.c.Identity.Authenticate(ctx, loginID, password, "certificate issuance", from)
	if err != nil {
		return Certificate{}, err
	}
	return s.issueFor(ctx, u, org, req)
}

// IssueFor issues a certificate to an authenticated user for req's public
// key: record, sign, store.
func (s *Service) IssueFor(ctx context.Context, u identity.User, org identity.Organization, req *x509.CertificateRequest) (Certificate, error) {
	c, err := s.issueFor(ctx, u, org, req)
	s.onIssue("issue", err)
	return c, err
}

func (s *Service) issueFor(ctx context.Context, u identity.User, org identity.Organization, req *x509.CertificateRequest) (Certificate, error) {
	now := s.c.Now().UTC().Truncate(time.Second)
	refuse := func(err error, why string) (Certificate, error) {
		s.appendAudit(ctx, audit.Event{At: now, Type: audit.CertificateRefused, Actor: audit.UserActor(u.LoginID),
			OrganizationID: org.ID, UserID: u.ID, Detail: why})
		return Certificate{}, err
	}
	if !org.CertificateLogin {
		return refuse(ErrCertificateLoginNotEnabled, "certificate login not enabled")
	}
	if u.Locked() {
		return Certificate{}, identity.ErrAccountLocked
	}
	// A cheap look first, so that a refused request costs no signature; the
	// decision that counts is taken again under the lock in recordPending.
	if cur, err := s.c.Store.CurrentCertificate(ctx, u.ID); err == nil && cur.Status == StatusIssued && !cur.Expired(now) {
		return refuse(ErrActiveCertificateExists, "active certificate "+cur.Serial)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Certificate{}, err
	}
	record := func(c *Certificate, ev audit.Event) error {
		return recordPending(ctx, s.c.Store, c, MaxPerOrganization, now.Add(-staleAfter), now, ev)
	}
	c, err := s.sign(ctx, u, org, req, now, record, audit.CertificateIssued)
	if errors.Is(err, ErrActiveCertificateExists) || errors.Is(err, ErrOrganizationLimit) {
		return refuse(err, err.Error())
	}
	return c, err
}

// sign is the path of every certificate after its rules are checked:
// prepare the to-be-signed certificate, record it (record writes the
// pending row and the request's audit event), sign it once, store it with
// an audit event of type issuedType.
func (s *Service) sign(ctx context.Context, u identity.User, org identity.Organization, req *x509.CertificateRequest,
	now time.Time, record func(c *Certificate, ev audit.Event) error, issuedType audit.Type) (Certificate, error) {
	serial, err := pki.NewSerial(s.c.Rand)
	if err != nil {
		return Certificate{}, err
	}
	crlURL, ocspURL := s.c.CRLURL, s.c.OCSPURL
	if s.c.URLs != nil {
		crlURL, ocspURL = s.c.URLs()
	}
	p, err := s.c.Issuer.Prepare(pki.Request{
		Serial: serial, PublicKey: req.PublicKey,
		Organization: org.Name, CommonName: u.LoginID,
		NotBefore: now, NotAfter: s.c.Validity(now),
		CRLURL: crlURL, OCSPURL: ocspURL,
	})
	if err != nil {
		return Certificate{}, fmt.Errorf("certs: prepare for %q: %w", u.LoginID, err)
	}
	c := Certificate{
		Serial: pki.SerialHex(serial), UserID: u.ID, OrganizationID: org.ID, Status: StatusPending,
		TBS: p.TBS, NotBefore: now, NotAfter: s.c.Validity(now).UTC().Truncate(time.Second), CreatedAt: now,
	}
	ev := audit.Event{At: now, Type: audit.CertificateRequested, Actor: audit.UserActor(u.LoginID),
		OrganizationID: org.ID, UserID: u.ID, Serial: c.Serial}
	if err := record(&c, ev); err != nil {
		return Certificate{}, err
	}
	der, cert, err := s.c.Issuer.Sign(p)
	if err != nil {
		// Nothing usable was signed; free the user's place (a renewed
		// certificate gets it back).
		_, rerr := revoke(ctx, s.c.Store, c, Revocation{Reason: "unspecified", At: now, By: audit.System}, func(Certificate) audit.Event {
			return audit.Event{At: now, Type: audit.CertificateRevoked, Actor: audit.System, OrganizationID: org.ID, UserID: u.ID,
				Serial: c.Serial, Cause: audit.SigningFailed}
		})
		if rerr != nil {
			s.c.Logger.ErrorContext(ctx, "unsigned certificate not freed", "serial", c.Serial, "user_id", u.ID, "err", rerr)
		}
		return Certificate{}, fmt.Errorf("certs: sign for %q: %w", u.LoginID, err)
	}
	c.DER, c.Fingerprint, c.Status, c.IssuedAt = der, pki.Fingerprint(der), StatusIssued, now
	c.NotBefore, c.NotAfter = cert.NotBefore.UTC(), cert.NotAfter.UTC()
	ev = audit.Event{At: now, Type: issuedType, Actor: audit.UserActor(u.LoginID),
		OrganizationID: org.ID, UserID: u.ID, Serial: c.Serial, Detail: "not after " + c.NotAfter.Format(time.RFC3339)}
	if err := markIssued(ctx, s.c.Store, c.ID, der, c.Fingerprint, now, ev); err != nil {
		return Certificate{}, err
	}
	return c, nil
}

// RevokeByMaster is the master user's online revocation (R12, R13): a
// general user's certificate in the same organization, or the master's own.
// It needs the master's confirmation password. A general user can revoke
// nothing; a user of another organization is not found.
func (s *Service) RevokeByMaster(ctx context.Context, actor identity.User, targetLoginID, reason, confirmation string) (Certificate, error) {
	c, err := s.revokeByMaster(ctx, actor, targetLoginID, reason, confirmation)
	s.onRevoke("master", err)
	return c, err
}

func (s *Service) revokeByMaster(ctx context.Context, actor identity.User, targetLoginID, reason, confirmation string) (Certificate, error) {
	if actor.Role != identity.RoleMaster {
		return Certificate{}, ErrForbidden
	}
	if _, ok := ReasonCode(reason); !ok {
		return Certificate{}, ErrInvalidReason
	}
	target, _, err := s.c.Identity.UserByLoginID(ctx, targetLoginID)
	if errors.Is(err, identity.ErrNotFound) || (err == nil && target.OrganizationID != actor.OrganizationID) {
		return Certificate{}, identity.ErrNotFound
	}
	if err != nil {
		return Certificate{}, err
	}
	if target.Role == identity.RoleMaster && target.ID != actor.ID {
		return Certificate{}, ErrForbidden
	}
	if err := s.c.Identity.CheckPassword(ctx, actor, identity.ConfirmationPassword, confirmation, "certificate revocation"); err != nil {
		return Certificate{}, err
	}
	now := s.c.Now().UTC()
	cur, err := s.c.Store.CurrentCertificate(ctx, target.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && (cur.Status == StatusRevoked || cur.Expired(now))) {
		return Certificate{}, ErrNoActiveCertificate
	}
	if err != nil {
		return Certificate{}, err
	}
	return s.revoke(ctx, cur, Revocation{Reason: reason, At: now, By: audit.UserActor(actor.LoginID)})
}

// RevokeByBank is the bank's revocation of any certificate, the master's
// included, on a written request whose reference is recorded (R12).
func (s *Service) RevokeByBank(ctx context.Context, serial, reason, operator, requestRef string) (Certificate, error) {
	c, err := s.revokeByBank(ctx, serial, reason, operator, requestRef)
	s.onRevoke("bank", err)
	return c, err
}

func (s *Service) revokeByBank(ctx context.Context, serial, reason, operator, requestRef string) (Certificate, error) {
	if _, ok := ReasonCode(reason); !ok {
		return Certificate{}, ErrInvalidReason
	}
	if requestRef == "" {
		return Certificate{}, ErrRequestRefRequired
	}
	c, err := s.c.Store.CertificateBySerial(ctx, serial)
	if err != nil {
		return Certificate{}, err
	}
	return s.revoke(ctx, c, Revocation{Reason: reason, At: s.c.Now().UTC(), By: audit.OperatorActor(operator), RequestRef: requestRef})
}

// revoke revokes c as r says, with its audit event; ErrAlreadyRevoked if
// it is revoked already.
func (s *Service) revoke(ctx context.Context, c Certificate, r Revocation) (Certificate, error) {
	if c.Status == StatusRevoked {
		return Certificate{}, ErrAlreadyRevoked
	}
	return revoke(ctx, s.c.Store, c, r, func(cur Certificate) audit.Event {
		ev := audit.Event{At: r.At, Type: audit.CertificateRevoked, Actor: r.By, OrganizationID: cur.OrganizationID,
			UserID: cur.UserID, Serial: cur.Serial, RequestRef: r.RequestRef, Reason: r.Reason}
		if cur.Status == StatusPending {
			ev.Cause = audit.NeverSigned
		}
		return ev
	})
}

// CurrentCertificate returns the certificate that holds the user's place
// (pending, issued or expired), or ErrNotFound.
func (s *Service) CurrentCertificate(ctx context.Context, userID int64) (Certificate, error) {
	return s.c.Store.CurrentCertificate(ctx, userID)
}

// ByFingerprint returns the certificate with the given SHA-256 fingerprint.
func (s *Service) ByFingerprint(ctx context.Context, fingerprint string) (Certificate, error) {
	return s.c.Store.CertificateByFingerprint(ctx, fingerprint)
}

// BySerial returns the certificate with a serial (lowercase hex, without
// leading zeros), or ErrNotFound.
func (s *Service) BySerial(ctx context.Context, serial string) (Certificate, error) {
	return s.c.Store.CertificateBySerial(ctx, serial)
}

// ByID returns a certificate by its record ID.
func (s *Service) ByID(ctx context.Context, id int64) (Certificate, error) {
	return s.c.Store.CertificateByID(ctx, id)
}

// List returns the certificates of an organization (all when 0), newest first.
func (s *Service) List(ctx context.Context, organizationID int64) ([]Certificate, error) {
	return s.c.Store.ListCertificates(ctx, organizationID)
}

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.c.Now() }
