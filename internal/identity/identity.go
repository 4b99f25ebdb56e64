// Package identity holds organizations and their users: the master user and
// up to 19 general users (R6), their login and confirmation passwords
// (argon2id), initial passwords and lockout after repeated failures. It
// decides these rules itself, inside a transaction its Store provides. It
// knows nothing of certificates or HTTP, and of sessions only that they
// end: the organization's password sessions when it turns certificate
// login on (R8), a user's other sessions when the user changes a password,
// all of them when the user is locked; it
// never stores a password in clear.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"kinko/internal/audit"
)

// Role is a user's role in the organization.
type Role string

// Roles.
const (
	RoleMaster  Role = "master"
	RoleGeneral Role = "general"
)

// Limits of R6 and the lockout rule.
const (
	MaxGeneralUsers = 19
	LockAfter       = 6
)

// Organization is a customer of the bank.
type Organization struct {
	ID               int64
	Code             string
	Name             string
	CertificateLogin bool // the bank enabled certificate login on written application (R2, R4)
	CreatedAt        time.Time
}

// User is a master or general user of an organization.
type User struct {
	ID                         int64
	OrganizationID             int64
	LoginID                    string
	Name                       string
	Email                      string
	Role                       Role
	PasswordHash               string
	ConfirmationHash           string
	PasswordChangeRequired     bool
	ConfirmationChangeRequired bool
	FailedLogins               int
	LockedAt                   time.Time // zero when not locked
	DeletedAt                  time.Time // zero when not deleted
	CreatedAt                  time.Time
}

// Locked reports whether the user is locked out.
func (u User) Locked() bool { return !u.LockedAt.IsZero() }

// Deleted reports whether the user has been deleted.
func (u User) Deleted() bool { return !u.DeletedAt.IsZero() }

// InitialPasswords are passwords set for a user by someone else, shown once.
type InitialPasswords struct {
	Password             string
	ConfirmationPassword string
}

// PasswordKind says which of a user's two passwords is meant.
type PasswordKind int

// Password kinds.
const (
	LoginPassword PasswordKind = iota
	ConfirmationPassword
)

// Errors.
var (
	ErrInvalidCredentials        = errors.New("identity: invalid credentials")
	ErrInvalidConfirmation       = errors.New("identity: invalid confirmation password")
	ErrAccountLocked             = errors.New("identity: account locked")
	ErrNotFound                  = errors.New("identity: not found")
	ErrForbidden                 = errors.New("identity: forbidden")
	ErrLoginIDTaken              = errors.New("identity: login ID already in use")
	ErrOrganizationCodeTaken     = errors.New("identity: organization code already in use")
	ErrOrganizationUserLimit     = errors.New("identity: organization has the maximum number of general users")
	ErrNotLocked                 = errors.New("identity: user is not locked")
	ErrMasterUnlockByBank        = errors.New("identity: a master user is unlocked by the bank")
	ErrInvalidName               = errors.New("identity: invalid name")
	ErrInvalidEmail              = errors.New("identity: invalid e-mail address")
	ErrCertificateLoginUnchanged = errors.New("identity: certificate login already in that state")
	ErrPasswordResetByMaster     = errors.New("identity: a general user's passwords are reset by the organization's master user, not by the bank")
	ErrMasterResetByBank         = errors.New("identity: a master user's passwords are reset by the bank")
)

// Store is what identity needs from storage: reads outside any
// transaction, AppendAudit for an event that goes with no change of its
// own, and InIdentityTx, in which every change is made. The store decides
// nothing: the reads return rows, and a missing row is ErrNotFound.
type Store interface {
	// InIdentityTx runs fn in one transaction: committed when fn returns
	// nil, rolled back otherwise. fn's error is returned as it is. fn must
	// use only tx for the database and must not wait for anything else that
	// writes to it. (The name says whose transaction it is: one store
	// implements the Store of every domain package.)
	InIdentityTx(ctx context.Context, fn func(tx Tx) error) error

	OrganizationByCode(ctx context.Context, code string) (Organization, error)
	ListOrganizations(ctx context.Context) ([]Organization, error)
	// UserByLoginID returns a user who is not deleted, with the
	// organization.
	UserByLoginID(ctx context.Context, loginID string) (User, Organization, error)
	// UserByID returns a user, deleted or not, with the organization.
	UserByID(ctx context.Context, id int64) (User, Organization, error)
	// ListUsers returns the organization's users who are not deleted, the
	// master first.
	ListUsers(ctx context.Context, organizationID int64) ([]User, error)
	// AppendAudit appends an event in a transaction of its own.
	AppendAudit(ctx context.Context, ev audit.Event) error
	// LoginThrottles returns the stored states of those keys that have
	// one, expired or not.
	LoginThrottles(ctx context.Context, keys []string) ([]ThrottleState, error)
	// FailureReport returns the report of failed attempts made at the
	// user's last login (RollFailureReport), sources newest first.
	FailureReport(ctx context.Context, userID int64) (FailureReport, error)
}

// Tx is one transaction of the store. Its methods are data operations:
// lock and read rows, count, insert and update rows, append audit events.
// They decide nothing; every rule (R6's limit, the lockout, what an unlock
// or a change of the certificate-login flag needs) is checked by identity
// between them.
//
// Lock order. On PostgreSQL the Lock methods lock rows FOR NO KEY UPDATE,
// not FOR UPDATE: other transactions insert rows that name the
// organization or the user (a user, a certificate, a transfer) and check
// each such reference with a FOR KEY SHARE lock, which FOR UPDATE would
// block. A transaction takes only the locks it needs, always in this
// order, the order of banking.Tx, so that no two transactions wait on each
// other in a cycle:
//
//  1. LockThrottle, the address's key before the login ID's: the
//     throttles of logins that need no certificate;
//  2. LockOrganization or LockOrganizationByCode: the decisions about one
//     organization (its number of users, its certificate-login flag);
//  3. LockUser, AddFailureSource, RollFailureReport: the decisions about
//     one user (the failure count, the lock, the report of failures);
//  4. AppendAudit, last: appending locks the head of the audit chain.
//
// On SQLite the transaction holds the database's write lock from its
// start, and the Lock methods only read.
type Tx interface {
	// LockOrganization reads and locks an organization; ErrNotFound if
	// there is none.
	LockOrganization(ctx context.Context, id int64) (Organization, error)
	// LockOrganizationByCode reads and locks the organization with a code;
	// ErrNotFound if there is none.
	LockOrganizationByCode(ctx context.Context, code string) (Organization, error)
	// LockUser reads and locks a user, deleted or not; ErrNotFound if there
	// is none.
	LockUser(ctx context.Context, id int64) (User, error)
	// CountGeneralUsers returns the number of an organization's general
	// users who are not deleted.
	CountGeneralUsers(ctx context.Context, organizationID int64) (int, error)

	// InsertOrganization inserts an organization and fills its ID;
	// ErrOrganizationCodeTaken when its code is in use.
	InsertOrganization(ctx context.Context, org *Organization) error
	// InsertUser inserts a user with no failed logins and fills its ID;
	// ErrLoginIDTaken when its login ID is in use.
	InsertUser(ctx context.Context, u *User) error
	// SetCertificateLogin sets an organization's certificate-login flag.
	SetCertificateLogin(ctx context.Context, organizationID int64, enabled bool) error
	// DeletePasswordSessions deletes the sessions of an organization's
	// users that no certificate is bound to (ID + password sessions).
	DeletePasswordSessions(ctx context.Context, organizationID int64) error
	// DeleteUserSessions deletes a user's sessions on every listener, but
	// the one whose ID hash is exceptIDHash (none when it is empty).
	DeleteUserSessions(ctx context.Context, userID int64, exceptIDHash string) error
	// SetLoginFailures sets a user's count of failed logins and the time
	// the user was locked (zero: not locked).
	SetLoginFailures(ctx context.Context, userID int64, failed int, lockedAt time.Time) error
	// SetPassword replaces one of a user's password hashes and whether it
	// must be changed; ErrNotFound if there is no such user.
	SetPassword(ctx context.Context, userID int64, kind PasswordKind, hash string, changeRequired bool) error
	// AppendAudit appends an event to the audit chain, with the mails it
	// causes. It comes last in a transaction (see the lock order).
	AppendAudit(ctx context.Context, ev audit.Event) error

	// LockThrottle reads and locks the throttle state of a key, creating
	// an empty one (no failures, zero times) when there is none.
	LockThrottle(ctx context.Context, key string) (ThrottleState, error)
	// SetThrottle writes the throttle state of a key.
	SetThrottle(ctx context.Context, st ThrottleState) error
	// DeleteThrottle removes the throttle state of a key, if any.
	DeleteThrottle(ctx context.Context, key string) error
	// AddFailureSource counts a failed attempt on a user since the last
	// login and records its source: the source's address row is written
	// anew, and of the distinct addresses only the keep most recent stay.
	AddFailureSource(ctx context.Context, userID int64, src FailureSource, keep int) error
	// RollFailureReport makes the failures counted since the last login
	// the user's report, replacing the previous one, and the count zero.
	RollFailureReport(ctx context.Context, userID int64) error
}

// Config holds the dependencies of a Service.
type Config struct {
	Store  Store
	Hasher Hasher
	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand.Reader
	// Logger receives what cannot be recorded otherwise, such as an
	// audit event whose write failed; default slog.Default().
	Logger *slog.Logger
	// Throttle are the rules of failed logins that need no certificate;
	// zero fields take DefaultThrottle's.
	Throttle Throttle
}

// Service manages organizations, users and passwords.
type Service struct {
	store     Store
	hasher    Hasher
	now       func() time.Time
	rand      io.Reader
	logger    *slog.Logger
	throttle  atomic.Pointer[Throttle] // SetThrottle
	dummyHash string
}

// New returns a Service.
func New(c Config) (*Service, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Hasher.Rand == nil {
		c.Hasher.Rand = c.Rand
	}
	// A hash of a random password, verified for unknown login IDs so that an
	// unknown ID costs the same time as a wrong password.
	pw, err := GeneratePassword(c.Rand)
	if err != nil {
		return nil, err
	}
	dummy, err := c.Hasher.Hash(pw)
	if err != nil {
		return nil, err
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	s := &Service{store: c.Store, hasher: c.Hasher, now: c.Now, rand: c.Rand, logger: c.Logger, dummyHash: dummy}
	s.SetThrottle(c.Throttle)
	return s, nil
}

// SetThrottle makes t the rules of failed logins that need no certificate
// (zero fields take DefaultThrottle's) for every attempt from now on, on
// a running server; the failures already counted stay counted.
func (s *Service) SetThrottle(t Throttle) {
	t = Throttle{
		PerLoginID: t.PerLoginID.withDefaults(DefaultThrottle.PerLoginID),
		PerAddress: t.PerAddress.withDefaults(DefaultThrottle.PerAddress),
	}
	s.throttle.Store(&t)
}

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.now() }

// NewOrganization describes an organization to create.
type NewOrganization struct {
	Name          string
	MasterLoginID string
	MasterName    string
	MasterEmail   string
	// RequestRef is the reference of the bank's application form, if any.
	RequestRef string
	// Passwords, when set, are the master's passwords and need no change at
	// first login (demo data). When empty, initial passwords are generated
	// and must be changed at first login.
	Passwords InitialPasswords
}

// CreateOrganization creates an organization, without certificate login, and
// its master user. It returns the passwords to hand to the master user.
func (s *Service) CreateOrganization(ctx context.Context, n NewOrganization, actor string) (Organization, User, InitialPasswords, error) {
	if err := ValidateName(n.Name); err != nil {
		return Organization{}, User{}, InitialPasswords{}, err
	}
	master, pw, err := s.newUser(n.MasterLoginID, n.MasterName, n.MasterEmail, RoleMaster, n.Passwords)
	if err != nil {
		return Organization{}, User{}, InitialPasswords{}, err
	}
	for attempt := 0; ; attempt++ {
		code, err := s.newOrganizationCode()
		if err != nil {
			return Organization{}, User{}, InitialPasswords{}, err
		}
		org := Organization{Code: code, Name: n.Name, CreatedAt: s.now()}
		ev := audit.Event{At: org.CreatedAt, Type: audit.OrganizationCreated, Actor: actor, RequestRef: n.RequestRef,
			Detail: fmt.Sprintf("organization %s %q, master %s", code, n.Name, master.LoginID)}
		m := master
		err = s.store.InIdentityTx(ctx, func(tx Tx) error {
			if err := tx.InsertOrganization(ctx, &org); err != nil {
				return err
			}
			m.OrganizationID = org.ID
			if err := tx.InsertUser(ctx, &m); err != nil {
				return err
			}
			ev.OrganizationID, ev.UserID = org.ID, m.ID
			return tx.AppendAudit(ctx, ev)
		})
		if errors.Is(err, ErrOrganizationCodeTaken) && attempt < 5 {
			continue
		}
		if err != nil {
			return Organization{}, User{}, InitialPasswords{}, err
		}
		return org, m, pw, nil
	}
}

// newOrganizationCode returns a random 8-digit organization code.
func (s *Service) newOrganizationCode() (string, error) {
	n, err := rand.Int(s.rand, big.NewInt(90000000))
	if err != nil {
		return "", fmt.Errorf("identity: organization code: %w", err)
	}
	return fmt.Sprintf("%08d", n.Int64()+10000000), nil
}

// newUser validates and builds a user with hashed passwords. With no given
// passwords it generates initial ones that must be changed at first login.
func (s *Service) newUser(loginID, name, email string, role Role, given InitialPasswords) (User, InitialPasswords, error) {
	if err := ValidateLoginID(loginID); err != nil {
		return User{}, InitialPasswords{}, err
	}
	if err := ValidateName(name); err != nil {
		return User{}, InitialPasswords{}, err
	}
	if err := ValidateEmail(email); err != nil {
		return User{}, InitialPasswords{}, err
	}
	pw := given
	mustChange := false
	if pw.Password == "" && pw.ConfirmationPassword == "" {
		mustChange = true
		var err error
		if pw.Password, err = GeneratePassword(s.rand); err != nil {
			return User{}, InitialPasswords{}, err
		}
		if pw.ConfirmationPassword, err = GeneratePassword(s.rand); err != nil {
			return User{}, InitialPasswords{}, err
		}
	}
	if err := ValidatePassword(pw.Password, loginID); err != nil {
		return User{}, InitialPasswords{}, err
	}
	if err := ValidatePassword(pw.ConfirmationPassword, loginID); err != nil {
		return User{}, InitialPasswords{}, err
	}
	ph, err := s.hasher.Hash(pw.Password)
	if err != nil {
		return User{}, InitialPasswords{}, err
	}
	ch, err := s.hasher.Hash(pw.ConfirmationPassword)
	if err != nil {
		return User{}, InitialPasswords{}, err
	}
	return User{
		LoginID: loginID, Name: name, Email: email, Role: role,
		PasswordHash: ph, ConfirmationHash: ch,
		PasswordChangeRequired: mustChange, ConfirmationChangeRequired: mustChange,
		CreatedAt: s.now(),
	}, pw, nil
}

// SetCertificateLogin turns certificate login on or off for an organization,
// as the bank does on a written application (R2, R4). Turning it on ends the
// organization's ID+password sessions (R8).
func (s *Service) SetCertificateLogin(ctx context.Context, code string, enabled bool, actor, requestRef string) (Organization, error) {
	typ := audit.CertificateLoginEnabled
	if !enabled {
		typ = audit.CertificateLoginDisabled
	}
	ev := audit.Event{At: s.now(), Type: typ, Actor: actor, RequestRef: requestRef}
	var org Organization
	err := s.store.InIdentityTx(ctx, func(tx Tx) error {
		o, err := tx.LockOrganizationByCode(ctx, code)
		if err != nil {
			return err
		}
		if o.CertificateLogin == enabled {
			return ErrCertificateLoginUnchanged
		}
		if err := tx.SetCertificateLogin(ctx, o.ID, enabled); err != nil {
			return err
		}
		if enabled {
			if err := tx.DeletePasswordSessions(ctx, o.ID); err != nil {
				return err
			}
		}
		o.CertificateLogin = enabled
		ev.OrganizationID = o.ID
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		org = o
		return nil
	})
	if err != nil {
		return Organization{}, err
	}
	return org, nil
}

// appendAudit records an event that goes with no change of its own (a
// refused login): the answer does not wait on it, but a failed write is
// logged, never lost in silence.
func (s *Service) appendAudit(ctx context.Context, ev audit.Event) {
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		s.logger.ErrorContext(ctx, "audit event not recorded", "type", ev.Type, "user_id", ev.UserID, "err", err)
	}
}

// Authenticate checks a login ID and login password, the check of every
// path that needs no certificate (portal login, certificate issuance),
// from the client address from. Such failures are throttled per address
// and per login ID (ErrThrottled, refused before any password hash runs),
// never counted towards the lock that only the bank lifts for a master
// user: an outsider who knows a login ID cannot lock its user out.
//
// Whether the ID exists, is locked or not, the answer to a wrong password
// is the same, ErrInvalidCredentials, after one password hash and the same
// writes (the throttle rows, whether the ID exists or not). Only the right
// password learns that the user is locked (ErrAccountLocked). A failure
// on a known ID is counted for the report the user gets at the next login.
func (s *Service) Authenticate(ctx context.Context, loginID, password, channel string, from netip.Addr) (User, Organization, error) {
	now := s.now()
	keys := s.throttleKeys(loginID, from)
	if err := s.checkThrottle(ctx, keys, now); err != nil {
		return User{}, Organization{}, err
	}
	u, org, err := s.store.UserByLoginID(ctx, loginID)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, Organization{}, err
	}
	hash := s.dummyHash
	if known {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.Verify(password, hash)
	if err != nil {
		return User{}, Organization{}, err
	}
	if known && ok {
		if u.Locked() {
			s.appendAudit(ctx, audit.Event{At: now, Type: audit.LoginFailed, Actor: audit.UserActor(u.LoginID),
				OrganizationID: u.OrganizationID, UserID: u.ID, Detail: channel + ": account locked"})
			return User{}, Organization{}, ErrAccountLocked
		}
		if err := s.resetLoginFailures(ctx, u.ID, keys[len(keys)-1].key); err != nil {
			return User{}, Organization{}, err
		}
		return u, org, nil
	}
	ev := audit.Event{At: now, Type: audit.LoginFailed, Actor: audit.System,
		Detail: fmt.Sprintf("%s from %s: unknown login ID #%s", channel, addressOrUnknown(from), LoginIDDigest(loginID))}
	if known {
		ev = audit.Event{At: now, Type: audit.LoginFailed, Actor: audit.UserActor(u.LoginID),
			OrganizationID: u.OrganizationID, UserID: u.ID, Detail: fmt.Sprintf("%s from %s: wrong login password", channel, addressOrUnknown(from))}
	}
	err = s.store.InIdentityTx(ctx, func(tx Tx) error {
		if err := countThrottleFailure(ctx, tx, keys, now); err != nil {
			return err
		}
		if known {
			if err := recordFailureSource(ctx, tx, u.ID, from, channel, now); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return User{}, Organization{}, fmt.Errorf("identity: record failed login: %w", err)
	}
	return User{}, Organization{}, ErrInvalidCredentials
}

func addressOrUnknown(a netip.Addr) string {
	if t := addressText(a); t != "" {
		return t
	}
	return "an unknown address"
}

// CheckPassword verifies one of u's passwords. A wrong one counts towards the
// lockout. It returns ErrAccountLocked for a locked user without looking at
// the password, ErrInvalidCredentials for a wrong login password and
// ErrInvalidConfirmation for a wrong confirmation password.
func (s *Service) CheckPassword(ctx context.Context, u User, kind PasswordKind, password, channel string) error {
	return s.CheckPasswordFrom(ctx, u, kind, password, channel, netip.Addr{})
}

// CheckPasswordFrom is CheckPassword of an attempt from the client address
// from, which the report of failed attempts shows the user (certificate
// login).
func (s *Service) CheckPasswordFrom(ctx context.Context, u User, kind PasswordKind, password, channel string, from netip.Addr) error {
	if u.Locked() {
		s.appendAudit(ctx, audit.Event{At: s.now(), Type: audit.LoginFailed, Actor: audit.UserActor(u.LoginID),
			OrganizationID: u.OrganizationID, UserID: u.ID, Detail: channel + ": account locked"})
		return ErrAccountLocked
	}
	hash, wrong, what := u.PasswordHash, ErrInvalidCredentials, "wrong login password"
	if kind == ConfirmationPassword {
		hash, wrong, what = u.ConfirmationHash, ErrInvalidConfirmation, "wrong confirmation password"
	}
	ok, err := s.hasher.Verify(password, hash)
	if err != nil {
		return err
	}
	if !ok {
		now := s.now()
		ev := audit.Event{At: now, Type: audit.LoginFailed, Actor: audit.UserActor(u.LoginID),
			OrganizationID: u.OrganizationID, UserID: u.ID, Detail: channel + ": " + what}
		locked, err := s.recordLoginFailure(ctx, u.ID, now, ev, FailureSource{Address: addressText(from), Channel: channel, At: now})
		if err != nil {
			return err
		}
		if locked {
			return ErrAccountLocked
		}
		return wrong
	}
	if u.FailedLogins > 0 {
		if err := s.resetLoginFailures(ctx, u.ID, ""); err != nil {
			return err
		}
	}
	return nil
}

// recordLoginFailure counts a wrong password, recorded by ev and src, and
// locks the user at the LockAfter-th in a row. It reports whether the user
// is locked.
// The count is read and written under the user's lock, so racing failures
// are all counted and exactly one of them locks.
func (s *Service) recordLoginFailure(ctx context.Context, userID int64, now time.Time, ev audit.Event, src FailureSource) (bool, error) {
	var locked bool
	err := s.store.InIdentityTx(ctx, func(tx Tx) error {
		u, err := tx.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		failed, lockedAt := u.FailedLogins+1, u.LockedAt
		lockNow := !u.Locked() && failed >= LockAfter
		if lockNow {
			lockedAt = now
		}
		if err := tx.SetLoginFailures(ctx, userID, failed, lockedAt); err != nil {
			return err
		}
		if err := tx.AddFailureSource(ctx, userID, src, ReportAddresses); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, ev); err != nil {
			return err
		}
		if lockNow {
			// A locked user is logged out everywhere.
			if err := tx.DeleteUserSessions(ctx, userID, ""); err != nil {
				return err
			}
			lockEv := ev
			lockEv.Type, lockEv.Actor, lockEv.Detail = audit.UserLocked, audit.System, fmt.Sprintf("%d wrong passwords in a row", failed)
			if err := tx.AppendAudit(ctx, lockEv); err != nil {
				return err
			}
		}
		locked = !lockedAt.IsZero()
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("identity: record login failure: %w", err)
	}
	return locked, nil
}

// resetLoginFailures sets a user's failure count back to zero after a
// right password, unless the user was locked meanwhile: a lock keeps the
// count that caused it. A non-empty throttleKey (the login ID's) is
// forgiven too.
func (s *Service) resetLoginFailures(ctx context.Context, userID int64, throttleKey string) error {
	err := s.store.InIdentityTx(ctx, func(tx Tx) error {
		if throttleKey != "" {
			if err := tx.DeleteThrottle(ctx, throttleKey); err != nil {
				return err
			}
		}
		u, err := tx.LockUser(ctx, userID)
		if err != nil {
			return err
		}
		if u.Locked() || u.FailedLogins == 0 {
			return nil
		}
		return tx.SetLoginFailures(ctx, userID, 0, time.Time{})
	})
	if err != nil {
		return fmt.Errorf("identity: reset login failures: %w", err)
	}
	return nil
}

// CreateGeneralUser adds a general user to the master's organization (R6: at
// most 19). It returns the initial passwords, to be shown once.
func (s *Service) CreateGeneralUser(ctx context.Context, master User, loginID, name, email string) (User, InitialPasswords, error) {
	return s.CreateGeneralUserWithPasswords(ctx, master, loginID, name, email, InitialPasswords{})
}

// CreateGeneralUserWithPasswords is CreateGeneralUser with given passwords
// that need no change at first login (demo data); with empty ones it
// generates initial passwords.
func (s *Service) CreateGeneralUserWithPasswords(ctx context.Context, master User, loginID, name, email string, given InitialPasswords) (User, InitialPasswords, error) {
	if master.Role != RoleMaster {
		return User{}, InitialPasswords{}, ErrForbidden
	}
	u, pw, err := s.newUser(loginID, name, email, RoleGeneral, given)
	if err != nil {
		return User{}, InitialPasswords{}, err
	}
	u.OrganizationID = master.OrganizationID
	ev := audit.Event{At: u.CreatedAt, Type: audit.UserCreated, Actor: audit.UserActor(master.LoginID),
		OrganizationID: master.OrganizationID, Detail: "general user " + loginID}
	// The count and the insert are one transaction under the
	// organization's lock, so racing creations stay within the limit.
	err = s.store.InIdentityTx(ctx, func(tx Tx) error {
		if _, err := tx.LockOrganization(ctx, u.OrganizationID); err != nil {
			return err
		}
		n, err := tx.CountGeneralUsers(ctx, u.OrganizationID)
		if err != nil {
			return err
		}
		if n >= MaxGeneralUsers {
			return ErrOrganizationUserLimit
		}
		if err := tx.InsertUser(ctx, &u); err != nil {
			return err
		}
		ev.UserID = u.ID
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return User{}, InitialPasswords{}, err
	}
	return u, pw, nil
}

// ChangePassword changes one of the user's own passwords after checking the
// current one, and ends the user's other sessions: every one but
// keepSession, the ID hash of the session that made the change (none kept
// when it is empty). The new password is the user's choice, so it must
// also be hard to guess (CheckPasswordStrength); initial passwords are
// generated or set by the bank and are not held to that.
func (s *Service) ChangePassword(ctx context.Context, u User, kind PasswordKind, current, next, keepSession string) error {
	if err := s.CheckPassword(ctx, u, kind, current, "password change"); err != nil {
		return err
	}
	if err := ValidatePassword(next, u.LoginID); err != nil {
		return err
	}
	// The organization's name and code are the user's words too.
	_, org, err := s.store.UserByID(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := CheckPasswordStrength(next, u.LoginID, u.Name, u.Email, org.Name, org.Code); err != nil {
		return err
	}
	if next == current {
		return &PasswordError{Reason: "same_as_current"}
	}
	other := u.ConfirmationHash
	if kind == ConfirmationPassword {
		other = u.PasswordHash
	}
	same, err := s.hasher.Verify(next, other)
	if errors.Is(err, ErrBusy) {
		return err
	}
	if same {
		return &PasswordError{Reason: "same_as_other"}
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	which := audit.LoginPassword
	if kind == ConfirmationPassword {
		which = audit.ConfirmationPassword
	}
	ev := audit.Event{At: s.now(), Type: audit.PasswordChanged, Actor: audit.UserActor(u.LoginID),
		OrganizationID: u.OrganizationID, UserID: u.ID, Password: which}
	return s.store.InIdentityTx(ctx, func(tx Tx) error {
		if err := tx.SetPassword(ctx, u.ID, kind, hash, false); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, u.ID, keepSession); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// UnlockByMaster unlocks a general user of the master's own organization,
// with the master's confirmation password (user management is a sensitive
// action). A user of another organization is ErrNotFound; a master user is
// unlocked only by the bank; a user who is not locked is ErrNotLocked,
// before the password is looked at.
func (s *Service) UnlockByMaster(ctx context.Context, master User, loginID, confirmation string) error {
	if master.Role != RoleMaster {
		return ErrForbidden
	}
	u, _, err := s.store.UserByLoginID(ctx, loginID)
	if err != nil {
		return err
	}
	if u.OrganizationID != master.OrganizationID {
		return ErrNotFound
	}
	if u.Role == RoleMaster {
		return ErrMasterUnlockByBank
	}
	if !u.Locked() {
		return ErrNotLocked
	}
	if err := s.CheckPassword(ctx, master, ConfirmationPassword, confirmation, "unlock"); err != nil {
		return err
	}
	return s.unlock(ctx, u, audit.UserActor(master.LoginID), "")
}

// UnlockByBank unlocks any user, on a written request.
func (s *Service) UnlockByBank(ctx context.Context, loginID, operator, requestRef string) error {
	u, _, err := s.store.UserByLoginID(ctx, loginID)
	if err != nil {
		return err
	}
	return s.unlock(ctx, u, audit.OperatorActor(operator), requestRef)
}

// unlock clears the lock and the failure count of u, who must be locked
// still when the transaction looks: of two racing unlocks, one is
// ErrNotLocked.
func (s *Service) unlock(ctx context.Context, u User, actor, requestRef string) error {
	ev := audit.Event{At: s.now(), Type: audit.UserUnlocked, Actor: actor,
		OrganizationID: u.OrganizationID, UserID: u.ID, RequestRef: requestRef, Detail: u.LoginID}
	return s.store.InIdentityTx(ctx, func(tx Tx) error {
		cur, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if !cur.Locked() {
			return ErrNotLocked
		}
		if err := tx.SetLoginFailures(ctx, u.ID, 0, time.Time{}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// ResetPasswords gives a master user new initial login and confirmation
// passwords, on the master's written request to the bank: both must be
// changed at the next login, the lock and the count of failed logins (and
// the login ID's throttle) are cleared, and every session of the user
// ends. It returns the passwords, to be shown once (the 暗証番号通知書). A
// general user's passwords are the master's to reset
// (ErrPasswordResetByMaster).
func (s *Service) ResetPasswords(ctx context.Context, loginID, actor, requestRef string) (InitialPasswords, error) {
	u, _, err := s.store.UserByLoginID(ctx, loginID)
	if err != nil {
		return InitialPasswords{}, err
	}
	if u.Role != RoleMaster {
		return InitialPasswords{}, ErrPasswordResetByMaster
	}
	return s.resetPasswords(ctx, u, actor, requestRef)
}

// ResetPasswordsByMaster gives a general user of the master's own
// organization new initial login and confirmation passwords, with the
// master's confirmation password (user management is a sensitive action,
// and its check counts towards the master's lock as every confirmation
// password does): both must be changed at the user's next login, the
// user's lock and count of failed logins (and the login ID's throttle) are
// cleared, and every session of the user ends. It returns the passwords,
// to be shown to the master once. A caller who is not a master is
// ErrForbidden; a user of another organization is ErrNotFound; a master
// user's passwords are reset by the bank (ErrMasterResetByBank), before
// the confirmation password is looked at.
func (s *Service) ResetPasswordsByMaster(ctx context.Context, master User, loginID, confirmation string) (InitialPasswords, error) {
	if master.Role != RoleMaster {
		return InitialPasswords{}, ErrForbidden
	}
	u, _, err := s.store.UserByLoginID(ctx, loginID)
	if err != nil {
		return InitialPasswords{}, err
	}
	if u.OrganizationID != master.OrganizationID {
		return InitialPasswords{}, ErrNotFound
	}
	if u.Role == RoleMaster {
		return InitialPasswords{}, ErrMasterResetByBank
	}
	if err := s.CheckPassword(ctx, master, ConfirmationPassword, confirmation, "password reset"); err != nil {
		return InitialPasswords{}, err
	}
	return s.resetPasswords(ctx, u, audit.UserActor(master.LoginID), "")
}

// resetPasswords gives u new initial passwords (see ResetPasswords).
func (s *Service) resetPasswords(ctx context.Context, u User, actor, requestRef string) (InitialPasswords, error) {
	var (
		pw  InitialPasswords
		err error
	)
	if pw.Password, err = GeneratePassword(s.rand); err != nil {
		return InitialPasswords{}, err
	}
	if pw.ConfirmationPassword, err = GeneratePassword(s.rand); err != nil {
		return InitialPasswords{}, err
	}
	ph, err := s.hasher.Hash(pw.Password)
	if err != nil {
		return InitialPasswords{}, err
	}
	ch, err := s.hasher.Hash(pw.ConfirmationPassword)
	if err != nil {
		return InitialPasswords{}, err
	}
	ev := audit.Event{At: s.now(), Type: audit.PasswordsReset, Actor: actor, OrganizationID: u.OrganizationID, UserID: u.ID,
		RequestRef: requestRef, Detail: u.LoginID}
	idKey := s.throttleKeys(u.LoginID, netip.Addr{})[1].key
	err = s.store.InIdentityTx(ctx, func(tx Tx) error {
		if err := tx.DeleteThrottle(ctx, idKey); err != nil {
			return err
		}
		cur, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Deleted() {
			return ErrNotFound
		}
		if err := tx.SetPassword(ctx, u.ID, LoginPassword, ph, true); err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, u.ID, ConfirmationPassword, ch, true); err != nil {
			return err
		}
		if err := tx.SetLoginFailures(ctx, u.ID, 0, time.Time{}); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return InitialPasswords{}, err
	}
	return pw, nil
}

// UserByLoginID returns a user, not deleted, with the organization.
func (s *Service) UserByLoginID(ctx context.Context, loginID string) (User, Organization, error) {
	return s.store.UserByLoginID(ctx, loginID)
}

// UserByID returns a user with the organization.
func (s *Service) UserByID(ctx context.Context, id int64) (User, Organization, error) {
	return s.store.UserByID(ctx, id)
}

// ListUsers returns the users of an organization, the master first.
func (s *Service) ListUsers(ctx context.Context, organizationID int64) ([]User, error) {
	return s.store.ListUsers(ctx, organizationID)
}

// OrganizationByCode returns an organization.
func (s *Service) OrganizationByCode(ctx context.Context, code string) (Organization, error) {
	return s.store.OrganizationByCode(ctx, code)
}

// ListOrganizations returns all organizations.
func (s *Service) ListOrganizations(ctx context.Context) ([]Organization, error) {
	return s.store.ListOrganizations(ctx)
}

// LoginIDDigest is how the audit log names a login ID that no user has:
// the first 8 hex digits of the SHA-256 of the ID in lower case. People
// type passwords into the login ID field, so the log never keeps what was
// typed there; an operator who wants to know whether one ID was tried
// computes its digest the same way and looks for it.
func LoginIDDigest(loginID string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(loginID)))
	return hex.EncodeToString(sum[:4])
}
