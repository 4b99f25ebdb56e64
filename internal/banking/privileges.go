package banking

import (
	"context"
	"errors"
	"fmt"

	"kinko/internal/audit"
	"kinko/internal/identity"
)

// MaxLimit is the largest limit a user or an organization may be given.
const MaxLimit int64 = 999_999_999_999_999

// organizationDailyLimit returns the organization's daily limit: the one
// the bank set, or the default.
func (s *Service) organizationDailyLimit(ctx context.Context, organizationID int64) (int64, error) {
	v, ok, err := s.c.Store.OrganizationDailyLimit(ctx, organizationID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return s.c.DefaultOrganizationDailyLimit, nil
	}
	return v, nil
}

// OrganizationDailyLimit returns the daily limit in force for an
// organization (the default while the bank has set none).
func (s *Service) OrganizationDailyLimit(ctx context.Context, organizationID int64) (int64, error) {
	return s.organizationDailyLimit(ctx, organizationID)
}

// effective returns what u may do: the master user everything, with the
// organization's daily limit as both limits; a general user what the master
// gave, or nothing. A deleted or locked user may do nothing.
func (s *Service) effective(ctx context.Context, u identity.User) (Privileges, error) {
	if u.ID == 0 || u.Deleted() || u.Locked() {
		return Privileges{}, ErrForbidden
	}
	if u.Role == identity.RoleMaster {
		limit, err := s.organizationDailyLimit(ctx, u.OrganizationID)
		if err != nil {
			return Privileges{}, err
		}
		return Privileges{Inquiry: true, TransferRequest: true, Approval: true, PayrollInquiry: true, TransactionLimit: limit, DailyLimit: limit, Master: true}, nil
	}
	p, _, err := s.c.Store.Privileges(ctx, u.ID)
	if err != nil {
		return Privileges{}, err
	}
	return p, nil
}

// need returns u's privileges when has says they allow the action, and
// ErrForbidden otherwise.
func (s *Service) need(ctx context.Context, u identity.User, has func(Privileges) bool) (Privileges, error) {
	p, err := s.effective(ctx, u)
	if err != nil {
		return Privileges{}, err
	}
	if !has(p) {
		return Privileges{}, ErrForbidden
	}
	return p, nil
}

func canInquire(p Privileges) bool { return p.Inquiry }
func canRequest(p Privileges) bool { return p.TransferRequest }
func canApprove(p Privileges) bool { return p.Approval }

// canSeeTransfers: any of the three privileges lets a user see the
// organization's transfers (requesters and approvers must see what they
// act on).
func canSeeTransfers(p Privileges) bool { return p.Inquiry || p.TransferRequest || p.Approval }

// SetPrivileges is the master user's setting of a general user's privileges
// and limits. A user of another organization is ErrNotFound; the master's
// own privileges are not set (the master has all): ErrForbidden.
func (s *Service) SetPrivileges(ctx context.Context, master identity.User, loginID string, p Privileges) error {
	if master.Role != identity.RoleMaster || master.Deleted() || master.Locked() {
		return ErrForbidden
	}
	if p.TransactionLimit < 0 || p.TransactionLimit > MaxLimit || p.DailyLimit < 0 || p.DailyLimit > MaxLimit {
		return fmt.Errorf("%w: limits must be 0..%d", ErrInvalidAmount, MaxLimit)
	}
	target, err := s.orgUser(ctx, master, loginID)
	if err != nil {
		return err
	}
	if target.Role == identity.RoleMaster {
		return ErrForbidden
	}
	now := s.c.Now()
	ev := audit.Event{At: now, Type: audit.PrivilegesChanged, Actor: audit.UserActor(master.LoginID),
		OrganizationID: master.OrganizationID, UserID: target.ID,
		Detail: fmt.Sprintf("user %s inquiry=%t transfer_request=%t approval=%t payroll_inquiry=%t transaction_limit=%d daily_limit=%d",
			target.LoginID, p.Inquiry, p.TransferRequest, p.Approval, p.PayrollInquiry, p.TransactionLimit, p.DailyLimit)}
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.SetPrivileges(ctx, target.ID, target.OrganizationID, p, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// Privileges returns the privileges in force for a user of actor's
// organization: the master may look at anyone's, a general user at their
// own only. For the master user they are all, with the organization's limit.
func (s *Service) Privileges(ctx context.Context, actor identity.User, loginID string) (Privileges, error) {
	if actor.Deleted() || actor.Locked() {
		return Privileges{}, ErrForbidden
	}
	if actor.Role != identity.RoleMaster && actor.LoginID != loginID {
		return Privileges{}, ErrForbidden
	}
	target, err := s.orgUser(ctx, actor, loginID)
	if err != nil {
		return Privileges{}, err
	}
	return s.effective(ctx, target)
}

// orgUser returns the user loginID of actor's organization; anyone else is
// ErrNotFound.
func (s *Service) orgUser(ctx context.Context, actor identity.User, loginID string) (identity.User, error) {
	u, _, err := s.c.Identity.UserByLoginID(ctx, loginID)
	if errors.Is(err, identity.ErrNotFound) || (err == nil && u.OrganizationID != actor.OrganizationID) {
		return identity.User{}, ErrNotFound
	}
	if err != nil {
		return identity.User{}, err
	}
	return u, nil
}

// SetOrganizationDailyLimit is the bank's setting of an organization's daily
// limit, on a written request whose reference is recorded.
func (s *Service) SetOrganizationDailyLimit(ctx context.Context, organizationCode string, limit int64, operator, requestRef string) error {
	if requestRef == "" {
		return ErrRequestRefRequired
	}
	if limit < 0 || limit > MaxLimit {
		return fmt.Errorf("%w: limit must be 0..%d", ErrInvalidAmount, MaxLimit)
	}
	org, err := s.organization(ctx, organizationCode)
	if err != nil {
		return err
	}
	now := s.c.Now()
	ev := audit.Event{At: now, Type: audit.OrganizationLimitChanged, Actor: audit.OperatorActor(operator),
		OrganizationID: org.ID, RequestRef: requestRef, Detail: fmt.Sprintf("daily limit %d", limit)}
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.SetOrganizationDailyLimit(ctx, org.ID, limit, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// organization returns an organization by code; an unknown code is
// ErrNotFound.
func (s *Service) organization(ctx context.Context, code string) (identity.Organization, error) {
	org, err := s.c.Identity.OrganizationByCode(ctx, code)
	if errors.Is(err, identity.ErrNotFound) {
		return identity.Organization{}, ErrNotFound
	}
	return org, err
}
