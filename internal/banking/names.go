package banking

import (
	"context"

	"kinko/internal/identity"
	"kinko/internal/zengin"
)

// Banks returns the names of banks and branches the service uses
// (Config.Banks).
func (s *Service) Banks() *zengin.Directory { return s.c.Banks }

// PayeeNames returns the names of a payee's bank and branch, "" for a code
// the names do not know.
func (s *Service) PayeeNames(p PayeeAccount) (bank, branch string) {
	if b, ok := s.c.Banks.Bank(p.BankCode); ok {
		bank = b.Name
	}
	if b, ok := s.c.Banks.Branch(p.BankCode, p.BranchCode); ok {
		branch = b.Name
	}
	return bank, branch
}

// samePayee reports whether two payee accounts are the same account.
func samePayee(a, b PayeeAccount) bool {
	return a.BankCode == b.BankCode && a.BranchCode == b.BranchCode && a.AccountType == b.AccountType &&
		a.AccountNumber == b.AccountNumber
}

// NewPayees returns the IDs of the transfers, all of u's organization, whose
// payee's account is not one of the organization's registered payees (新規
// 振込先) now: an approver looks twice at those. It does not check u's
// privileges: the caller has shown the transfers to u already.
func (s *Service) NewPayees(ctx context.Context, u identity.User, ts ...Transfer) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ts) == 0 {
		return out, nil
	}
	payees, err := s.c.Store.Payees(ctx, u.OrganizationID)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		registered := false
		for _, p := range payees {
			if samePayee(p.PayeeAccount, t.Payee) {
				registered = true
				break
			}
		}
		if !registered {
			out[t.ID] = true
		}
	}
	return out, nil
}
