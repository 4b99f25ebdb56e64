package operators

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/pki"
)

// Errors.
var (
	// ErrNotFound: no such operator, operator certificate or request.
	ErrNotFound = errors.New("operators: not found")
	// ErrForbidden: the operator's role (or a disabled operator) does not
	// allow it: an auditor files nothing, only an approver decides.
	ErrForbidden = errors.New("operators: not allowed for this operator's role")
	// ErrOwnRequest: the operator who filed a request cannot decide it.
	ErrOwnRequest = errors.New("operators: a request is decided by a second operator, not by the one who filed it")
	// ErrDecided: the request was decided already (approved, rejected or
	// failed); only a pending request is decided.
	ErrDecided = errors.New("operators: the request was already decided")
	// ErrRefUsed: a request of this kind with this reference was filed
	// already; a reference is used once per kind.
	ErrRefUsed = errors.New("operators: the request reference is already used for this kind of request")
	// ErrInvalid: the request's parameters, its reference or an operator's
	// name are not valid; the wrapped error says why.
	ErrInvalid = errors.New("operators: invalid request")
	// ErrNameTaken: an operator with that name (without regard to case)
	// exists.
	ErrNameTaken = errors.New("operators: an operator with that name exists")
	// ErrActionFailed: an approved request's action was refused; the
	// request is failed with the reason, and nothing was done. The
	// action's error is wrapped too.
	ErrActionFailed = errors.New("operators: the approved request's action was refused")
)

// MaxRef is the longest request reference.
const MaxRef = 64

// DefaultMasterName is the master user's name when an application gives
// none.
const DefaultMasterName = "マスターユーザ"

// Store is what the operators need from storage. Each write comes with the
// audit event that records it, written in the same transaction. The store
// decides nothing but what its constraints and conditional updates say.
type Store interface {
	// InsertStaff inserts an operator and fills its ID; ErrNameTaken when
	// the name is in use without regard to case.
	InsertStaff(ctx context.Context, s *Staff, ev audit.Event) error
	// StaffByName returns the operator with that name, without regard to
	// case, disabled or not; ErrNotFound if none.
	StaffByName(ctx context.Context, name string) (Staff, error)
	// StaffByID returns an operator, disabled or not; ErrNotFound if none.
	StaffByID(ctx context.Context, id int64) (Staff, error)
	// ListStaff returns every operator, by name.
	ListStaff(ctx context.Context) ([]Staff, error)
	// DisableStaff marks an operator disabled at at and revokes their
	// certificates; ErrNotFound if there is no such active operator.
	DisableStaff(ctx context.Context, id int64, at time.Time, ev audit.Event) error
	// InsertStaffCertificate records an operator's certificate.
	InsertStaffCertificate(ctx context.Context, c StaffCertificate, ev audit.Event) error
	// RevokeStaffCertificates revokes an operator's unrevoked certificates
	// at at and returns how many.
	RevokeStaffCertificates(ctx context.Context, staffID int64, at time.Time, ev audit.Event) (int, error)
	// StaffByCertificate returns the active operator whose unrevoked
	// certificate, not expired at now, has that fingerprint; ErrNotFound
	// otherwise.
	StaffByCertificate(ctx context.Context, fingerprint string, now time.Time) (Staff, error)

	// InsertRequest inserts a pending request and fills its ID;
	// ErrRefUsed when its kind and reference are used.
	InsertRequest(ctx context.Context, r *Request, ev audit.Event) error
	// Request returns a request; ErrNotFound if none.
	Request(ctx context.Context, id int64) (Request, error)
	// ListRequests returns requests by the filter, newest first.
	ListRequests(ctx context.Context, f Filter) ([]Request, error)
	// ClaimRequest makes a pending request approved by checker at at, in
	// one conditional update: of racing claims exactly one wins. It
	// returns ErrDecided when the request is not pending (or is the
	// checker's own, compared without regard to case), ErrNotFound when
	// there is none.
	ClaimRequest(ctx context.Context, id int64, checker string, at time.Time, ev audit.Event) error
	// CompleteRequest records what a claimed request's action did: its
	// result and, when the action made it, the organization's code.
	CompleteRequest(ctx context.Context, id int64, organizationCode string, result json.RawMessage) error
	// FailRequest makes a claimed request failed with the reason.
	FailRequest(ctx context.Context, id int64, reason string, ev audit.Event) error
	// RejectRequest makes a pending request rejected by checker at at
	// with the reason; ErrDecided when it is not pending.
	RejectRequest(ctx context.Context, id int64, checker, reason string, at time.Time, ev audit.Event) error
}

// StaffCertificate is an operator's console certificate as recorded.
type StaffCertificate struct {
	StaffID     int64
	Serial      string // hex, as pki.SerialHex
	Fingerprint string // pki.Fingerprint of the DER
	NotAfter    time.Time
	CreatedAt   time.Time
	RevokedAt   time.Time
}

// Actions are the domain calls an approved request makes. actor is the
// approving operator's Name (the action's audit event names them as
// "operator:<name>"), ref the request's reference.
type Actions interface {
	CreateOrganization(ctx context.Context, p OrganizationCreate, actor, ref string) (orgCode, masterLoginID string, pw identity.InitialPasswords, err error)
	SetCertificateLogin(ctx context.Context, p CertificateLogin, actor, ref string) error
	RevokeCertificate(ctx context.Context, p CertificateRevoke, actor, ref string) (orgCode string, err error)
	UnlockUser(ctx context.Context, p UserUnlock, actor, ref string) error
	ResetPasswords(ctx context.Context, p PasswordReset, actor, ref string) (identity.InitialPasswords, error)
	Deposit(ctx context.Context, p Deposit, actor, ref string) error
	SetDailyLimit(ctx context.Context, p LimitSet, actor, ref string) error
	// OrganizationOf returns the code of the organization a request
	// concerns, when it is filed ("" for organization_create); an error
	// when what it names does not exist or the action could never be
	// taken on it.
	OrganizationOf(ctx context.Context, k Kind, params json.RawMessage) (orgCode string, err error)
}

// Config holds the dependencies of a Service.
type Config struct {
	Store   Store
	Actions Actions
	Now     func() time.Time // nil: time.Now
}

// Service keeps the operators and their written requests.
type Service struct {
	store   Store
	actions Actions
	now     func() time.Time
}

// New returns a Service.
func New(c Config) (*Service, error) {
	if c.Store == nil {
		return nil, errors.New("operators: a store is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{store: c.Store, actions: c.Actions, now: c.Now}, nil
}

// Filter selects requests; zero fields select all. Limit 0 is 100; at
// most 1000.
type Filter struct {
	Status           Status
	Kind             Kind
	OrganizationCode string
	Limit            int
}

// Outcome is what an approval shows once and never stores: the new
// organization's code and its master's login ID, and for
// organization_create and password_reset the new initial passwords (for
// the 暗証番号通知書).
type Outcome struct {
	OrganizationCode, LoginID string
	Passwords                 *identity.InitialPasswords
}

// NewStaff describes an operator to add.
type NewStaff struct {
	Name, DisplayName string
	Role              Role
}

var staffName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// ValidRole reports whether r is a role.
func ValidRole(r Role) bool { return r == RoleClerk || r == RoleApprover || r == RoleAuditor }

// Active reports whether the operator is not disabled.
func (s Staff) Active() bool { return s.DisabledAt.IsZero() }

// MayFile reports whether the operator may file requests: an active clerk
// or approver.
func (s Staff) MayFile() bool { return s.Active() && (s.Role == RoleClerk || s.Role == RoleApprover) }

// MayDecide reports whether the operator may approve or reject another
// operator's request: an active approver.
func (s Staff) MayDecide() bool { return s.Active() && s.Role == RoleApprover }

// RoleLabel is a role in Japanese with English beside: "承認者 (approver)".
func RoleLabel(r Role) string {
	switch r {
	case RoleClerk:
		return "担当者 (clerk)"
	case RoleApprover:
		return "承認者 (approver)"
	case RoleAuditor:
		return "監査 (auditor)"
	}
	return string(r)
}

func staffActor(name string) string {
	if name == "" {
		return audit.System
	}
	return audit.OperatorActor(name)
}

// AddStaff adds an operator. by is the adding operator's Name, who must be
// an active approver, or "" from the server's command line.
func (s *Service) AddStaff(ctx context.Context, n NewStaff, by string) (Staff, error) {
	if !staffName.MatchString(n.Name) {
		return Staff{}, fmt.Errorf("%w: an operator's name is 1 to 32 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid)
	}
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	if n.DisplayName == "" || utf8.RuneCountInString(n.DisplayName) > 64 || !utf8.ValidString(n.DisplayName) {
		return Staff{}, fmt.Errorf("%w: a display name of 1 to 64 characters is required", ErrInvalid)
	}
	if !ValidRole(n.Role) {
		return Staff{}, fmt.Errorf("%w: the role is clerk, approver or auditor", ErrInvalid)
	}
	if by != "" {
		adder, err := s.store.StaffByName(ctx, by)
		if errors.Is(err, ErrNotFound) {
			return Staff{}, fmt.Errorf("%w: %q is not an operator", ErrForbidden, by)
		}
		if err != nil {
			return Staff{}, err
		}
		if !adder.MayDecide() {
			return Staff{}, fmt.Errorf("%w: only an approver adds operators", ErrForbidden)
		}
		by = adder.Name
	}
	st := Staff{Name: n.Name, DisplayName: n.DisplayName, Role: n.Role, CreatedAt: s.now()}
	ev := audit.Event{At: st.CreatedAt, Type: audit.OperatorStaffAdded, Actor: staffActor(by),
		Detail: fmt.Sprintf("operator %s (%s) role %s", st.Name, st.DisplayName, st.Role)}
	if err := s.store.InsertStaff(ctx, &st, ev); err != nil {
		return Staff{}, err
	}
	return st, nil
}

// AddCertificate records an operator's console certificate: its serial,
// fingerprint (pki.Fingerprint) and expiry.
func (s *Service) AddCertificate(ctx context.Context, staffID int64, cert *x509.Certificate) error {
	st, err := s.store.StaffByID(ctx, staffID)
	if err != nil {
		return err
	}
	if !st.Active() {
		return fmt.Errorf("%w: operator %s is disabled", ErrForbidden, st.Name)
	}
	c := StaffCertificate{StaffID: st.ID, Serial: pki.SerialHex(cert.SerialNumber), Fingerprint: pki.Fingerprint(cert.Raw),
		NotAfter: cert.NotAfter, CreatedAt: s.now()}
	ev := audit.Event{At: c.CreatedAt, Type: audit.OperatorCertificateAdded, Actor: audit.System, Serial: c.Serial,
		Detail: fmt.Sprintf("operator %s certificate until %s", st.Name, c.NotAfter.UTC().Format(time.RFC3339))}
	return s.store.InsertStaffCertificate(ctx, c, ev)
}

// RevokeStaffCertificates revokes an operator's console certificates; by
// names the operator who did it ("" from the server's command line).
func (s *Service) RevokeStaffCertificates(ctx context.Context, staffID int64, by string) error {
	st, err := s.store.StaffByID(ctx, staffID)
	if err != nil {
		return err
	}
	now := s.now()
	ev := audit.Event{At: now, Type: audit.OperatorCertificatesRevoked, Actor: staffActor(by),
		Detail: fmt.Sprintf("operator %s", st.Name)}
	_, err = s.store.RevokeStaffCertificates(ctx, st.ID, now, ev)
	return err
}

// DisableStaff disables the operator with that name and revokes their
// certificates. by must be an active approver other than that operator.
func (s *Service) DisableStaff(ctx context.Context, by Staff, name string) error {
	cur, err := s.current(ctx, by)
	if err != nil {
		return err
	}
	if !cur.MayDecide() {
		return fmt.Errorf("%w: only an approver disables operators", ErrForbidden)
	}
	st, err := s.store.StaffByName(ctx, name)
	if err != nil {
		return err
	}
	if st.ID == cur.ID {
		return fmt.Errorf("%w: an operator is disabled by another approver", ErrForbidden)
	}
	if !st.Active() {
		return fmt.Errorf("%w: operator %s is disabled already", ErrNotFound, st.Name)
	}
	now := s.now()
	ev := audit.Event{At: now, Type: audit.OperatorStaffDisabled, Actor: audit.OperatorActor(cur.Name),
		Detail: fmt.Sprintf("operator %s", st.Name)}
	return s.store.DisableStaff(ctx, st.ID, now, ev)
}

// StaffByName returns an operator by name, without regard to case,
// disabled or not; ErrNotFound if none.
func (s *Service) StaffByName(ctx context.Context, name string) (Staff, error) {
	return s.store.StaffByName(ctx, name)
}

// StaffByCertificate returns the active operator with that unrevoked,
// unexpired certificate; ErrNotFound otherwise.
func (s *Service) StaffByCertificate(ctx context.Context, fingerprint string) (Staff, error) {
	return s.store.StaffByCertificate(ctx, fingerprint, s.now())
}

// ListStaff returns every operator, by name.
func (s *Service) ListStaff(ctx context.Context) ([]Staff, error) { return s.store.ListStaff(ctx) }

// current reads an operator again: the role or the disabling may have
// changed since the caller found them.
func (s *Service) current(ctx context.Context, st Staff) (Staff, error) {
	var cur Staff
	var err error
	if st.ID != 0 {
		cur, err = s.store.StaffByID(ctx, st.ID)
	} else {
		cur, err = s.store.StaffByName(ctx, st.Name)
	}
	if errors.Is(err, ErrNotFound) {
		return Staff{}, fmt.Errorf("%w: %q is not an operator", ErrForbidden, st.Name)
	}
	return cur, err
}

// NormalizeRef returns the request reference as stored: trimmed; ErrInvalid
// when it is empty, longer than MaxRef or has control characters.
func NormalizeRef(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("%w: the written request's reference (--request-ref) is required", ErrInvalid)
	}
	if len(ref) > MaxRef || !utf8.ValidString(ref) {
		return "", fmt.Errorf("%w: the request reference is at most %d bytes", ErrInvalid, MaxRef)
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: the request reference has a control character", ErrInvalid)
		}
	}
	return ref, nil
}

// File files a written request of kind with its reference and parameters
// (the kind's params struct, or its JSON). The maker must be an active
// clerk or approver. The request waits for a second operator.
func (s *Service) File(ctx context.Context, maker Staff, kind Kind, ref string, params any) (Request, error) {
	cur, err := s.current(ctx, maker)
	if err != nil {
		return Request{}, err
	}
	if !cur.MayFile() {
		return Request{}, fmt.Errorf("%w: %s (%s) files no requests", ErrForbidden, cur.Name, RoleLabel(cur.Role))
	}
	ref, err = NormalizeRef(ref)
	if err != nil {
		return Request{}, err
	}
	raw, err := validParams(kind, params)
	if err != nil {
		return Request{}, err
	}
	var org string
	if s.actions != nil {
		org, err = s.actions.OrganizationOf(ctx, kind, raw)
		if err != nil {
			return Request{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	r := Request{Kind: kind, Ref: ref, OrganizationCode: org, Params: raw, Status: StatusPending, Maker: cur.Name, FiledAt: s.now()}
	ev := audit.Event{At: r.FiledAt, Type: audit.OperatorRequestFiled, Actor: audit.OperatorActor(cur.Name), RequestRef: ref,
		Detail: fmt.Sprintf("%s, maker %s", kind, cur.Name)}
	if err := s.store.InsertRequest(ctx, &r, ev); err != nil {
		return Request{}, err
	}
	return r, nil
}

// validParams decodes params as kind's parameters, refusing unknown
// fields, checks them and returns them as stored.
func validParams(kind Kind, params any) (json.RawMessage, error) {
	var raw []byte
	switch p := params.(type) {
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		var err error
		if raw, err = json.Marshal(params); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	decode := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("%w: parameters of %s: %w", ErrInvalid, kind, err)
		}
		return nil
	}
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	var out any
	switch kind {
	case KindOrganizationCreate:
		var p OrganizationCreate
		if err := decode(&p); err != nil {
			return nil, err
		}
		if err := identity.ValidateName(p.Name); err != nil {
			return nil, invalid("the organization's name: %v", err)
		}
		if err := identity.ValidateLoginID(p.MasterLoginID); err != nil {
			return nil, invalid("the master user's login ID: %v", err)
		}
		if p.MasterName == "" {
			p.MasterName = DefaultMasterName
		}
		if err := identity.ValidateName(p.MasterName); err != nil {
			return nil, invalid("the master user's name: %v", err)
		}
		if err := identity.ValidateEmail(p.MasterEmail); err != nil {
			return nil, invalid("the master user's e-mail address: %v", err)
		}
		out = p
	case KindCertificateLogin:
		var p CertificateLogin
		if err := decode(&p); err != nil {
			return nil, err
		}
		if p.OrganizationCode == "" {
			return nil, invalid("the organization code is required")
		}
		out = p
	case KindCertificateRevoke:
		var p CertificateRevoke
		if err := decode(&p); err != nil {
			return nil, err
		}
		p.Serial = NormalizeSerial(p.Serial)
		if p.Serial == "" {
			return nil, invalid("the certificate's serial is required")
		}
		if _, ok := certs.ReasonCode(p.Reason); !ok {
			return nil, invalid("the revocation reason is unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation")
		}
		out = p
	case KindUserUnlock:
		var p UserUnlock
		if err := decode(&p); err != nil {
			return nil, err
		}
		if p.LoginID == "" {
			return nil, invalid("the user's login ID is required")
		}
		out = p
	case KindPasswordReset:
		var p PasswordReset
		if err := decode(&p); err != nil {
			return nil, err
		}
		if p.LoginID == "" {
			return nil, invalid("the master user's login ID is required")
		}
		out = p
	case KindDeposit:
		var p Deposit
		if err := decode(&p); err != nil {
			return nil, err
		}
		if !digits(p.BranchCode, 3) || !digits(p.AccountNumber, 7) {
			return nil, invalid("the account is a 3-digit branch code and a 7-digit number")
		}
		if p.AccountType == "" {
			p.AccountType = "ordinary"
		}
		if p.AccountType != "ordinary" && p.AccountType != "current" {
			return nil, invalid("the account type is ordinary or current")
		}
		if p.Amount <= 0 {
			return nil, invalid("the amount is a positive number of yen")
		}
		if strings.TrimSpace(p.Description) == "" {
			return nil, invalid("the deposit's description is required")
		}
		out = p
	case KindLimitSet:
		var p LimitSet
		if err := decode(&p); err != nil {
			return nil, err
		}
		if p.OrganizationCode == "" {
			return nil, invalid("the organization code is required")
		}
		if p.Daily < 0 {
			return nil, invalid("the daily limit is zero or more yen")
		}
		out = p
	default:
		return nil, invalid("unknown kind of request %q", kind)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b, nil
}

// NormalizeSerial returns a certificate serial as kinko stores it: hex in
// lower case, without colons or leading zeros.
func NormalizeSerial(s string) string {
	return strings.TrimLeft(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", "")), "0")
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// decideCheck returns the checker as stored now, if they may decide the
// request: an active approver who did not file it.
func (s *Service) decideCheck(ctx context.Context, checker Staff, r Request) (Staff, error) {
	cur, err := s.current(ctx, checker)
	if err != nil {
		return Staff{}, err
	}
	if !cur.MayDecide() {
		return Staff{}, fmt.Errorf("%w: %s (%s) decides no requests: an approver (承認者) does", ErrForbidden, cur.Name, RoleLabel(cur.Role))
	}
	if strings.EqualFold(cur.Name, r.Maker) {
		return Staff{}, ErrOwnRequest
	}
	if r.Status != StatusPending {
		return Staff{}, fmt.Errorf("%w: request %d is %s", ErrDecided, r.ID, r.Status)
	}
	return cur, nil
}

// Approve approves a pending request filed by another operator and carries
// out its action, once: of racing approvals, one claims the request and
// acts, the others get ErrDecided. When the action is refused, the request
// is failed with the reason, nothing is done, and the error wraps
// ErrActionFailed and the action's error.
func (s *Service) Approve(ctx context.Context, checker Staff, id int64) (Request, Outcome, error) {
	r, err := s.store.Request(ctx, id)
	if err != nil {
		return Request{}, Outcome{}, err
	}
	cur, err := s.decideCheck(ctx, checker, r)
	if err != nil {
		return Request{}, Outcome{}, err
	}
	if s.actions == nil {
		return Request{}, Outcome{}, errors.New("operators: no actions configured")
	}
	now := s.now()
	ev := audit.Event{At: now, Type: audit.OperatorRequestApproved, Actor: audit.OperatorActor(cur.Name), RequestRef: r.Ref,
		Detail: fmt.Sprintf("request %d %s, maker %s, checker %s", r.ID, r.Kind, r.Maker, cur.Name)}
	if err := s.store.ClaimRequest(ctx, r.ID, cur.Name, now, ev); err != nil {
		return Request{}, Outcome{}, err
	}
	r.Status, r.Checker, r.DecidedAt = StatusApproved, cur.Name, now
	out, result, actErr := s.act(ctx, r, cur.Name)
	if actErr != nil {
		reason := actErr.Error()
		fev := audit.Event{At: s.now(), Type: audit.OperatorRequestFailed, Actor: audit.OperatorActor(cur.Name), RequestRef: r.Ref,
			Detail: fmt.Sprintf("request %d %s, maker %s, checker %s: %s", r.ID, r.Kind, r.Maker, cur.Name, reason)}
		// The failure is recorded even when the caller has gone.
		if err := s.store.FailRequest(context.WithoutCancel(ctx), r.ID, reason, fev); err != nil {
			return Request{}, Outcome{}, fmt.Errorf("operators: request %d: record failure %q: %w", r.ID, reason, err)
		}
		r.Status, r.Reason = StatusFailed, reason
		return r, Outcome{}, fmt.Errorf("%w: %w", ErrActionFailed, actErr)
	}
	b, err := json.Marshal(result)
	if err != nil {
		return Request{}, Outcome{}, fmt.Errorf("operators: request %d result: %w", r.ID, err)
	}
	if out.OrganizationCode != "" {
		r.OrganizationCode = out.OrganizationCode
	}
	if err := s.store.CompleteRequest(context.WithoutCancel(ctx), r.ID, r.OrganizationCode, b); err != nil {
		return Request{}, Outcome{}, fmt.Errorf("operators: request %d: the action was carried out, its result not recorded: %w", r.ID, err)
	}
	r.Result = b
	return r, out, nil
}

// act carries out an approved request's action and returns what is shown
// once and what is stored as its result.
func (s *Service) act(ctx context.Context, r Request, actor string) (Outcome, map[string]any, error) {
	dec := func(v any) error {
		if err := json.Unmarshal(r.Params, v); err != nil {
			return fmt.Errorf("operators: request %d parameters: %w", r.ID, err)
		}
		return nil
	}
	switch r.Kind {
	case KindOrganizationCreate:
		var p OrganizationCreate
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		code, login, pw, err := s.actions.CreateOrganization(ctx, p, actor, r.Ref)
		if err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: code, LoginID: login, Passwords: &pw},
			map[string]any{"organization_code": code, "master_login_id": login, "certificate_login": false}, nil
	case KindCertificateLogin:
		var p CertificateLogin
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		if err := s.actions.SetCertificateLogin(ctx, p, actor, r.Ref); err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: p.OrganizationCode}, map[string]any{"organization_code": p.OrganizationCode, "certificate_login": p.Enable}, nil
	case KindCertificateRevoke:
		var p CertificateRevoke
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		code, err := s.actions.RevokeCertificate(ctx, p, actor, r.Ref)
		if err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: code}, map[string]any{"serial": p.Serial, "reason": p.Reason, "organization_code": code, "revoked": true}, nil
	case KindUserUnlock:
		var p UserUnlock
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		if err := s.actions.UnlockUser(ctx, p, actor, r.Ref); err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: r.OrganizationCode, LoginID: p.LoginID}, map[string]any{"login_id": p.LoginID, "locked": false}, nil
	case KindPasswordReset:
		var p PasswordReset
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		pw, err := s.actions.ResetPasswords(ctx, p, actor, r.Ref)
		if err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: r.OrganizationCode, LoginID: p.LoginID, Passwords: &pw},
			map[string]any{"login_id": p.LoginID, "passwords_reset": true, "change_required": true, "sessions_ended": true}, nil
	case KindDeposit:
		var p Deposit
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		if err := s.actions.Deposit(ctx, p, actor, r.Ref); err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: r.OrganizationCode}, map[string]any{"branch_code": p.BranchCode, "account_type": p.AccountType,
			"account_number": p.AccountNumber, "amount": p.Amount, "deposited": true}, nil
	case KindLimitSet:
		var p LimitSet
		if err := dec(&p); err != nil {
			return Outcome{}, nil, err
		}
		if err := s.actions.SetDailyLimit(ctx, p, actor, r.Ref); err != nil {
			return Outcome{}, nil, err
		}
		return Outcome{OrganizationCode: p.OrganizationCode}, map[string]any{"organization_code": p.OrganizationCode, "daily": p.Daily}, nil
	}
	return Outcome{}, nil, fmt.Errorf("operators: request %d: unknown kind %q", r.ID, r.Kind)
}

// Reject rejects a pending request filed by another operator, with a
// reason; nothing is done.
func (s *Service) Reject(ctx context.Context, checker Staff, id int64, reason string) (Request, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) {
		return Request{}, fmt.Errorf("%w: a reason of 1 to 500 characters is required", ErrInvalid)
	}
	r, err := s.store.Request(ctx, id)
	if err != nil {
		return Request{}, err
	}
	cur, err := s.decideCheck(ctx, checker, r)
	if err != nil {
		return Request{}, err
	}
	now := s.now()
	ev := audit.Event{At: now, Type: audit.OperatorRequestRejected, Actor: audit.OperatorActor(cur.Name), RequestRef: r.Ref,
		Detail: fmt.Sprintf("request %d %s, maker %s, checker %s: %s", r.ID, r.Kind, r.Maker, cur.Name, reason)}
	if err := s.store.RejectRequest(ctx, r.ID, cur.Name, reason, now, ev); err != nil {
		return Request{}, err
	}
	r.Status, r.Checker, r.Reason, r.DecidedAt = StatusRejected, cur.Name, reason, now
	return r, nil
}

// Get returns a request; ErrNotFound if none.
func (s *Service) Get(ctx context.Context, id int64) (Request, error) {
	return s.store.Request(ctx, id)
}

// List returns requests by the filter, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]Request, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	return s.store.ListRequests(ctx, f)
}
