package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/operators"
)

// testOperators is a small implementation of console.Operators for the
// console's tests only: staff and requests in memory, the approved
// actions carried out by the bank's real services. The operators'
// service (package operators) replaces it in the server; its own tests
// prove its rules on both engines. This one keeps the rules the pages
// show: who may file and decide, the maker is not the checker, a request
// is decided once, a reference once per kind.
type testOperators struct {
	mu       sync.Mutex
	identity *identity.Service
	certs    *certs.Service
	banking  *banking.Service
	now      func() time.Time
	staff    []operators.Staff
	byCert   map[string]int64 // fingerprint -> staff ID
	requests []operators.Request
}

func (o *testOperators) StaffByCertificate(_ context.Context, fingerprint string) (operators.Staff, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id, ok := o.byCert[fingerprint]
	if !ok {
		return operators.Staff{}, operators.ErrNotFound
	}
	for _, s := range o.staff {
		if s.ID == id && s.DisabledAt.IsZero() {
			return s, nil
		}
	}
	return operators.Staff{}, operators.ErrNotFound
}

func (o *testOperators) ListStaff(context.Context) ([]operators.Staff, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]operators.Staff(nil), o.staff...), nil
}

func (o *testOperators) AddStaff(_ context.Context, n operators.NewStaff, by string) (operators.Staff, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n.Name == "" || (n.Role != operators.RoleClerk && n.Role != operators.RoleApprover && n.Role != operators.RoleAuditor) {
		return operators.Staff{}, fmt.Errorf("%w: name and role", operators.ErrInvalid)
	}
	if by != "" {
		ok := false
		for _, s := range o.staff {
			ok = ok || (s.Name == by && s.Role == operators.RoleApprover)
		}
		if !ok {
			return operators.Staff{}, operators.ErrForbidden
		}
	}
	for _, s := range o.staff {
		if strings.EqualFold(s.Name, n.Name) {
			return operators.Staff{}, fmt.Errorf("%w: name taken", operators.ErrInvalid)
		}
	}
	s := operators.Staff{ID: int64(len(o.staff) + 1), Name: n.Name, DisplayName: n.DisplayName, Role: n.Role, CreatedAt: o.now()}
	o.staff = append(o.staff, s)
	return s, nil
}

// addCertificate records an operator's certificate by fingerprint.
func (o *testOperators) addCertificate(staffID int64, fingerprint string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byCert[fingerprint] = staffID
}

func (o *testOperators) File(ctx context.Context, maker operators.Staff, kind operators.Kind, ref string, params any) (operators.Request, error) {
	if maker.Role != operators.RoleClerk && maker.Role != operators.RoleApprover {
		return operators.Request{}, operators.ErrForbidden
	}
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > 64 {
		return operators.Request{}, fmt.Errorf("%w: ref", operators.ErrInvalid)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return operators.Request{}, err
	}
	code, err := o.organizationOf(ctx, kind, raw)
	if err != nil {
		return operators.Request{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, q := range o.requests {
		if q.Kind == kind && q.Ref == ref {
			return operators.Request{}, operators.ErrRefUsed
		}
	}
	q := operators.Request{ID: int64(len(o.requests) + 1), Kind: kind, Ref: ref, OrganizationCode: code, Params: raw,
		Status: operators.StatusPending, Maker: maker.Name, FiledAt: o.now()}
	o.requests = append(o.requests, q)
	return q, nil
}

// organizationOf is the organization a request concerns.
func (o *testOperators) organizationOf(ctx context.Context, kind operators.Kind, raw json.RawMessage) (string, error) {
	switch kind {
	case operators.KindCertificateLogin:
		var p operators.CertificateLogin
		_ = json.Unmarshal(raw, &p)
		_, err := o.identity.OrganizationByCode(ctx, p.OrganizationCode)
		return p.OrganizationCode, invalid(err)
	case operators.KindLimitSet:
		var p operators.LimitSet
		_ = json.Unmarshal(raw, &p)
		_, err := o.identity.OrganizationByCode(ctx, p.OrganizationCode)
		return p.OrganizationCode, invalid(err)
	case operators.KindUserUnlock, operators.KindPasswordReset:
		var p operators.UserUnlock
		_ = json.Unmarshal(raw, &p)
		_, org, err := o.identity.UserByLoginID(ctx, p.LoginID)
		return org.Code, invalid(err)
	case operators.KindDeposit:
		var p operators.Deposit
		_ = json.Unmarshal(raw, &p)
		if p.Amount <= 0 {
			return "", fmt.Errorf("%w: amount", operators.ErrInvalid)
		}
		a, err := o.banking.LookupAccount(ctx, p.BranchCode, banking.AccountType(p.AccountType), p.AccountNumber)
		if err != nil {
			return "", invalid(err)
		}
		return o.codeOf(ctx, a.OrganizationID)
	case operators.KindCertificateRevoke:
		return "", nil
	}
	return "", nil
}

func (o *testOperators) codeOf(ctx context.Context, organizationID int64) (string, error) {
	orgs, err := o.identity.ListOrganizations(ctx)
	if err != nil {
		return "", err
	}
	for _, org := range orgs {
		if org.ID == organizationID {
			return org.Code, nil
		}
	}
	return "", operators.ErrNotFound
}

func invalid(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", operators.ErrInvalid, err)
	}
	return nil
}

func (o *testOperators) decide(checker operators.Staff, id int64) (operators.Request, error) {
	if checker.Role != operators.RoleApprover {
		return operators.Request{}, operators.ErrForbidden
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if id < 1 || int(id) > len(o.requests) {
		return operators.Request{}, operators.ErrNotFound
	}
	q := o.requests[id-1]
	if q.Maker == checker.Name {
		return operators.Request{}, operators.ErrOwnRequest
	}
	if q.Status != operators.StatusPending {
		return operators.Request{}, operators.ErrDecided
	}
	return q, nil
}

func (o *testOperators) set(q operators.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[q.ID-1] = q
}

func (o *testOperators) Approve(ctx context.Context, checker operators.Staff, id int64) (operators.Request, operators.Outcome, error) {
	q, err := o.decide(checker, id)
	if err != nil {
		return operators.Request{}, operators.Outcome{}, err
	}
	var out operators.Outcome
	actor := "operator:" + checker.Name
	switch q.Kind {
	case operators.KindOrganizationCreate:
		var p operators.OrganizationCreate
		_ = json.Unmarshal(q.Params, &p)
		var org identity.Organization
		var master identity.User
		var pw identity.InitialPasswords
		org, master, pw, err = o.identity.CreateOrganization(ctx, identity.NewOrganization{Name: p.Name, MasterLoginID: p.MasterLoginID,
			MasterName: p.MasterName, MasterEmail: p.MasterEmail, RequestRef: q.Ref}, actor)
		out = operators.Outcome{OrganizationCode: org.Code, LoginID: master.LoginID, Passwords: &pw}
		q.OrganizationCode = org.Code
	case operators.KindCertificateLogin:
		var p operators.CertificateLogin
		_ = json.Unmarshal(q.Params, &p)
		_, err = o.identity.SetCertificateLogin(ctx, p.OrganizationCode, p.Enable, actor, q.Ref)
	case operators.KindCertificateRevoke:
		var p operators.CertificateRevoke
		_ = json.Unmarshal(q.Params, &p)
		_, err = o.certs.RevokeByBank(ctx, p.Serial, p.Reason, checker.Name, q.Ref)
	case operators.KindUserUnlock:
		var p operators.UserUnlock
		_ = json.Unmarshal(q.Params, &p)
		err = o.identity.UnlockByBank(ctx, p.LoginID, checker.Name, q.Ref)
	case operators.KindDeposit:
		var p operators.Deposit
		_ = json.Unmarshal(q.Params, &p)
		var a banking.Account
		if a, err = o.banking.LookupAccount(ctx, p.BranchCode, banking.AccountType(p.AccountType), p.AccountNumber); err == nil {
			_, err = o.banking.Deposit(ctx, a.ID, p.Amount, p.Description, checker.Name, q.Ref)
		}
	case operators.KindLimitSet:
		var p operators.LimitSet
		_ = json.Unmarshal(q.Params, &p)
		err = o.banking.SetOrganizationDailyLimit(ctx, p.OrganizationCode, p.Daily, checker.Name, q.Ref)
	default:
		err = fmt.Errorf("%s: not in the test implementation", q.Kind)
	}
	q.Checker, q.DecidedAt = checker.Name, o.now()
	if err != nil {
		q.Status, q.Reason = operators.StatusFailed, err.Error()
		o.set(q)
		return q, operators.Outcome{}, nil
	}
	q.Status = operators.StatusApproved
	o.set(q)
	return q, out, nil
}

func (o *testOperators) Reject(_ context.Context, checker operators.Staff, id int64, reason string) (operators.Request, error) {
	q, err := o.decide(checker, id)
	if err != nil {
		return operators.Request{}, err
	}
	q.Status, q.Checker, q.Reason, q.DecidedAt = operators.StatusRejected, checker.Name, reason, o.now()
	o.set(q)
	return q, nil
}

func (o *testOperators) Get(_ context.Context, id int64) (operators.Request, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id < 1 || int(id) > len(o.requests) {
		return operators.Request{}, operators.ErrNotFound
	}
	return o.requests[id-1], nil
}

func (o *testOperators) List(_ context.Context, f operators.Filter) ([]operators.Request, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []operators.Request
	for i := len(o.requests) - 1; i >= 0; i-- {
		q := o.requests[i]
		if (f.Status == "" || q.Status == f.Status) && (f.Kind == "" || q.Kind == f.Kind) &&
			(f.OrganizationCode == "" || q.OrganizationCode == f.OrganizationCode) {
			out = append(out, q)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
