package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/operators"
)

// OperatorActions carries out the operators' approved written requests by
// delegating to the domain services; operator is the approving operator's
// name, ref the request's reference, both recorded in the action's own
// audit event.
type OperatorActions struct {
	Identity *identity.Service
	Certs    *certs.Service
	Banking  *banking.Service
}

var _ operators.Actions = OperatorActions{}

// CreateOrganization registers an organization and its master user from
// the application form.
func (a OperatorActions) CreateOrganization(ctx context.Context, p operators.OrganizationCreate, operator, ref string) (string, string, identity.InitialPasswords, error) {
	org, master, pw, err := a.Identity.CreateOrganization(ctx, identity.NewOrganization{
		Name: p.Name, MasterLoginID: p.MasterLoginID, MasterName: p.MasterName, MasterEmail: p.MasterEmail, RequestRef: ref,
	}, audit.OperatorActor(operator))
	if err != nil {
		return "", "", identity.InitialPasswords{}, err
	}
	return org.Code, master.LoginID, pw, nil
}

// SetCertificateLogin turns an organization's certificate login on or off.
func (a OperatorActions) SetCertificateLogin(ctx context.Context, p operators.CertificateLogin, operator, ref string) error {
	_, err := a.Identity.SetCertificateLogin(ctx, p.OrganizationCode, p.Enable, audit.OperatorActor(operator), ref)
	return err
}

// RevokeCertificate revokes any user's certificate, a master's included;
// the revocation's audit event names the certificate's user and
// organization. It returns the organization's code.
func (a OperatorActions) RevokeCertificate(ctx context.Context, p operators.CertificateRevoke, operator, ref string) (string, error) {
	c, err := a.Certs.RevokeByBank(ctx, operators.NormalizeSerial(p.Serial), p.Reason, operator, ref)
	if err != nil {
		return "", err
	}
	_, org, err := a.Identity.UserByID(ctx, c.UserID)
	if err != nil {
		return "", fmt.Errorf("server: the revoked certificate's user: %w", err)
	}
	return org.Code, nil
}

// UnlockUser unlocks a user.
func (a OperatorActions) UnlockUser(ctx context.Context, p operators.UserUnlock, operator, ref string) error {
	return a.Identity.UnlockByBank(ctx, p.LoginID, operator, ref)
}

// ResetPasswords gives a master user new initial passwords.
func (a OperatorActions) ResetPasswords(ctx context.Context, p operators.PasswordReset, operator, ref string) (identity.InitialPasswords, error) {
	return a.Identity.ResetPasswords(ctx, p.LoginID, audit.OperatorActor(operator), ref)
}

// Deposit posts a deposit to the account with the branch, type and number.
func (a OperatorActions) Deposit(ctx context.Context, p operators.Deposit, operator, ref string) error {
	acct, err := a.Banking.LookupAccount(ctx, p.BranchCode, banking.AccountType(p.AccountType), p.AccountNumber)
	if err != nil {
		return err
	}
	_, err = a.Banking.Deposit(ctx, acct.ID, p.Amount, p.Description, operator, ref)
	return err
}

// SetDailyLimit sets an organization's daily limit.
func (a OperatorActions) SetDailyLimit(ctx context.Context, p operators.LimitSet, operator, ref string) error {
	return a.Banking.SetOrganizationDailyLimit(ctx, p.OrganizationCode, p.Daily, operator, ref)
}

// OrganizationOf returns the code of the organization a request concerns,
// when it is filed, and refuses a request that could not be carried out
// now: what it names must exist, a password reset is for a master user
// only, the user to unlock must be locked, the certificate to revoke not
// revoked, certificate login not in the state asked for.
func (a OperatorActions) OrganizationOf(ctx context.Context, k operators.Kind, params json.RawMessage) (string, error) {
	switch k {
	case operators.KindOrganizationCreate:
		var p operators.OrganizationCreate
		if err := json.Unmarshal(params, &p); err != nil {
			return "", err
		}
		if _, _, err := a.Identity.UserByLoginID(ctx, p.MasterLoginID); err == nil {
			return "", identity.ErrLoginIDTaken
		} else if !errors.Is(err, identity.ErrNotFound) {
			return "", err
		}
		return "", nil
	case operators.KindCertificateLogin:
		var p operators.CertificateLogin
		if err := json.Unmarshal(params, &p); err != nil {
			return "", err
		}
		org, err := a.Identity.OrganizationByCode(ctx, p.OrganizationCode)
		if err != nil {
			return "", err
		}
		if org.CertificateLogin == p.Enable {
			return "", identity.ErrCertificateLoginUnchanged
		}
		return org.Code, nil
	case operators.KindLimitSet:
		var p operators.LimitSet
		if err := json.Unmarshal(params, &p); err != nil {
			return "", err
		}
		return a.organization(ctx, p.OrganizationCode)
	case operators.KindCertificateRevoke:
		var p operators.CertificateRevoke
		if err := json.Unmarshal(params, &p); err != nil {
			return "", err
		}
		c, err := a.Certs.BySerial(ctx, operators.NormalizeSerial(p.Serial))
		if err != nil {
			return "", err
		}
		if c.Status == certs.StatusRevoked {
			return "", certs.ErrAlreadyRevoked
		}
		_, org, err := a.Identity.UserByID(ctx, c.UserID)
		if err != nil {
			return "", err
		}
		return org.Code, nil
	case operators.KindUserUnlock, operators.KindPasswordReset:
		var p operators.UserUnlock // PasswordReset has the same shape
		if err := json.Unmarshal(params, &p); err != nil {
			return "", err
		}
		u, org, err := a.Identity.UserByLoginID(ctx, p.LoginID)
		if err != nil {
			return "", err
		}
		if k == operators.KindPasswordReset && u.Role != identity.RoleMaster {
			return "", identity.ErrPasswordResetByMaster
		}
		if k == operators.KindUserUnlock && !u.Locked() {
			return "", identity.ErrNotLocked
		}
		return org.Code, nil
	case operators.KindDeposit:
		var p operators.Deposit
		if err := json.Unmarshal(params, &p); err != nil {
			return "", err
		}
		acct, err := a.Banking.LookupAccount(ctx, p.BranchCode, banking.AccountType(p.AccountType), p.AccountNumber)
		if err != nil {
			return "", err
		}
		return a.organizationByID(ctx, acct.OrganizationID)
	}
	return "", fmt.Errorf("server: unknown kind of request %q", k)
}

func (a OperatorActions) organization(ctx context.Context, code string) (string, error) {
	org, err := a.Identity.OrganizationByCode(ctx, code)
	if err != nil {
		return "", err
	}
	return org.Code, nil
}

// organizationByID returns the code of an organization, found through its
// users (the master is always there).
func (a OperatorActions) organizationByID(ctx context.Context, id int64) (string, error) {
	users, err := a.Identity.ListUsers(ctx, id)
	if err != nil {
		return "", err
	}
	if len(users) == 0 {
		return "", identity.ErrNotFound
	}
	_, org, err := a.Identity.UserByID(ctx, users[0].ID)
	if err != nil {
		return "", err
	}
	return org.Code, nil
}
