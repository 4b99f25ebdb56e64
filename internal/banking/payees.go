package banking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
)

// RegisterPayee registers a payee (事前登録) for u's organization, for reuse
// in transfers. It needs the transfer-request privilege. A payee at this
// bank must be an account here.
func (s *Service) RegisterPayee(ctx context.Context, u identity.User, p Payee) (Payee, error) {
	if _, err := s.need(ctx, u, canRequest); err != nil {
		return Payee{}, err
	}
	acct, err := s.normalizePayee(p.PayeeAccount)
	if err != nil {
		return Payee{}, err
	}
	if err := checkText(p.Nickname, MaxNickname, true, ErrInvalidPayee); err != nil {
		return Payee{}, err
	}
	if acct.BankCode == s.c.BankCode {
		if err := s.countPayeeChecks(ctx, u, 1); err != nil {
			return Payee{}, err
		}
	}
	if _, err := s.destination(ctx, acct); err != nil {
		return Payee{}, err
	}
	now := s.c.Now()
	out := Payee{OrganizationID: u.OrganizationID, PayeeAccount: acct, Nickname: p.Nickname, CreatedBy: u.ID, CreatedAt: now}
	ev := audit.Event{At: now, Type: audit.PayeeRegistered, Actor: audit.UserActor(u.LoginID), OrganizationID: u.OrganizationID,
		UserID: u.ID, Detail: "payee " + payeeText(acct)}
	err = s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertPayee(ctx, &out); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return Payee{}, err
	}
	return out, nil
}

// Payees returns the registered payees of u's organization. It needs the
// transfer-request privilege.
func (s *Service) Payees(ctx context.Context, u identity.User) ([]Payee, error) {
	if _, err := s.need(ctx, u, canRequest); err != nil {
		return nil, err
	}
	return s.c.Store.Payees(ctx, u.OrganizationID)
}

// DeletePayee removes a registered payee of u's organization; transfers
// made to it keep their copy of its account. It needs the transfer-request
// privilege.
func (s *Service) DeletePayee(ctx context.Context, u identity.User, id int64) error {
	if _, err := s.need(ctx, u, canRequest); err != nil {
		return err
	}
	p, err := s.orgPayee(ctx, u, id)
	if err != nil {
		return err
	}
	ev := audit.Event{At: s.c.Now(), Type: audit.PayeeDeleted, Actor: audit.UserActor(u.LoginID), OrganizationID: u.OrganizationID,
		UserID: u.ID, Detail: fmt.Sprintf("payee %d %s", p.ID, payeeText(p.PayeeAccount))}
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.DeletePayee(ctx, p.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

// orgPayee returns a payee of u's organization; any other is ErrNotFound.
func (s *Service) orgPayee(ctx context.Context, u identity.User, id int64) (Payee, error) {
	p, err := s.c.Store.PayeeByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && p.OrganizationID != u.OrganizationID) {
		return Payee{}, ErrNotFound
	}
	return p, err
}

// destination returns the account at this bank that a payee names, or 0 for
// a payee at another bank. A payee at this bank that names no account here
// is ErrInvalidPayee.
func (s *Service) destination(ctx context.Context, p PayeeAccount) (int64, error) {
	if p.BankCode != s.c.BankCode {
		return 0, nil
	}
	a, err := s.c.Store.AccountByNumber(ctx, p.BranchCode, p.AccountType, p.AccountNumber)
	if errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("%w: no account %s-%s %s at this bank", ErrInvalidPayee, p.BranchCode, p.AccountNumber, p.AccountType.Label())
	}
	if err != nil {
		return 0, err
	}
	return a.ID, nil
}

func payeeText(p PayeeAccount) string {
	return fmt.Sprintf("%s-%s %s %s %s", p.BankCode, p.BranchCode, p.AccountType, p.AccountNumber, p.Name)
}

// LookupsError is ErrTooManyLookups with the time until the user's window
// of checks ends.
type LookupsError struct {
	Wait time.Duration
}

func (e *LookupsError) Error() string {
	return fmt.Sprintf("banking: too many accounts at this bank checked; retry after %s", e.Wait)
}

// Is makes a LookupsError match ErrTooManyLookups.
func (e *LookupsError) Is(target error) bool { return target == ErrTooManyLookups }

// RetryAfter returns how long to wait before checking again.
func (e *LookupsError) RetryAfter() time.Duration { return e.Wait }

// countPayeeChecks counts n checks of accounts at this bank by u, in the
// database so that the count holds across servers: past Config.PayeeChecks
// in the window, *LookupsError. Each check tells whether an account exists;
// the count keeps a user from trying the numbers of a branch.
func (s *Service) countPayeeChecks(ctx context.Context, u identity.User, n int) error {
	if n <= 0 {
		return nil
	}
	now, limit := s.c.Now(), s.payee.Load()
	var count int
	var end time.Time
	err := s.c.Store.InTx(ctx, func(tx Tx) error {
		var err error
		count, end, err = tx.AddPayeeChecks(ctx, u.ID, n, now, now.Add(limit.window))
		return err
	})
	if err != nil {
		return err
	}
	if count > limit.checks {
		return &LookupsError{Wait: max(end.Sub(now), time.Second)}
	}
	return nil
}

// CheckPayee checks, for u's entry form, that a payee given in full names
// an account at this bank, and returns its ID (0 for a payee at another
// bank, which is not checked here). It needs the transfer-request
// privilege; every check of an account here counts towards u's limit of
// checks (ErrTooManyLookups).
func (s *Service) CheckPayee(ctx context.Context, u identity.User, p PayeeAccount) (int64, error) {
	if _, err := s.need(ctx, u, canRequest); err != nil {
		return 0, err
	}
	if p.BankCode != s.c.BankCode {
		return 0, nil
	}
	if err := checkAccountNumber(p.BranchCode, p.AccountType, p.AccountNumber); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidPayee, err)
	}
	if err := s.countPayeeChecks(ctx, u, 1); err != nil {
		return 0, err
	}
	return s.destination(ctx, p)
}
