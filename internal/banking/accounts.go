package banking

import (
	"context"
	"errors"
	"fmt"
	"math"

	"kinko/internal/audit"
	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// Paging defaults.
const (
	DefaultPerPage = 50
	MaxPerPage     = 500
)

// OpenAccount is the bank's opening of an account for an organization, on a
// written application whose reference is recorded. The account starts with
// a balance of 0.
func (s *Service) OpenAccount(ctx context.Context, organizationCode string, typ AccountType, branchCode, number, holderName, operator, requestRef string) (Account, error) {
	if requestRef == "" {
		return Account{}, ErrRequestRefRequired
	}
	if err := checkAccountNumber(branchCode, typ, number); err != nil {
		return Account{}, err
	}
	holder, err := s.normalizeName(holderName, MaxHolderName)
	if err != nil {
		return Account{}, fmt.Errorf("%w: holder name: %w", ErrInvalidAccount, err)
	}
	org, err := s.organization(ctx, organizationCode)
	if err != nil {
		return Account{}, err
	}
	a := Account{OrganizationID: org.ID, Type: typ, BranchCode: branchCode, Number: number, HolderName: holder, OpenedAt: s.c.Now()}
	ev := audit.Event{At: a.OpenedAt, Type: audit.AccountOpened, Actor: audit.OperatorActor(operator), OrganizationID: org.ID,
		RequestRef: requestRef, Detail: fmt.Sprintf("account %s %s %s %s", branchCode, typ, number, holder)}
	err = s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertAccount(ctx, &a, requestRef); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// Deposit is the bank's posting of an incoming transfer (入金) to an
// account, booked today, on a reference that is recorded and used once: a
// second deposit under the same reference is ErrDepositRefUsed (a unique
// index of the ledger, so two racing deposits cannot both pass).
func (s *Service) Deposit(ctx context.Context, accountID, amount int64, description, operator, requestRef string) (Posting, error) {
	if requestRef == "" {
		return Posting{}, ErrRequestRefRequired
	}
	if err := checkAmount(amount); err != nil {
		return Posting{}, err
	}
	if err := checkText(description, MaxDescription, false, ErrInvalidDescription); err != nil {
		return Posting{}, err
	}
	a, err := s.c.Store.AccountByID(ctx, accountID)
	if err != nil {
		return Posting{}, err
	}
	now := s.c.Now()
	p := Posting{AccountID: a.ID, Kind: PostingDeposit, Amount: amount, Date: calendar.DateOf(now), Description: description,
		RequestRef: requestRef, CreatedAt: now}
	ev := audit.Event{At: now, Type: audit.AccountDeposit, Actor: audit.OperatorActor(operator), OrganizationID: a.OrganizationID,
		RequestRef: requestRef, Detail: fmt.Sprintf("account %d deposit amount %d", a.ID, amount)}
	err = s.c.Store.InTx(ctx, func(tx Tx) error {
		locked, err := tx.LockAccounts(ctx, []int64{a.ID})
		if err != nil {
			return err
		}
		if len(locked) != 1 {
			return ErrNotFound
		}
		if locked[0].Balance > math.MaxInt64-p.Amount {
			return ErrInvalidAmount
		}
		p.BalanceAfter = locked[0].Balance + p.Amount
		if err := tx.InsertPosting(ctx, &p); err != nil {
			return err
		}
		if err := tx.SetBalance(ctx, a.ID, p.BalanceAfter); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return Posting{}, err
	}
	return p, nil
}

// LookupAccount returns the account with a branch code, type and number, for
// the bank's staff.
func (s *Service) LookupAccount(ctx context.Context, branchCode string, typ AccountType, number string) (Account, error) {
	if err := checkAccountNumber(branchCode, typ, number); err != nil {
		return Account{}, err
	}
	return s.c.Store.AccountByNumber(ctx, branchCode, typ, number)
}

// OrganizationAccounts returns an organization's accounts, for the bank's
// staff.
func (s *Service) OrganizationAccounts(ctx context.Context, organizationCode string) ([]Account, error) {
	org, err := s.organization(ctx, organizationCode)
	if err != nil {
		return nil, err
	}
	return s.c.Store.Accounts(ctx, org.ID)
}

// Accounts returns the accounts of u's organization with their balances
// (残高照会). It needs the inquiry privilege.
func (s *Service) Accounts(ctx context.Context, u identity.User) ([]Account, error) {
	if _, err := s.need(ctx, u, canInquire); err != nil {
		return nil, err
	}
	return s.c.Store.Accounts(ctx, u.OrganizationID)
}

// Account returns one account of u's organization. It needs the inquiry
// privilege; an account of another organization is ErrNotFound.
func (s *Service) Account(ctx context.Context, u identity.User, id int64) (Account, error) {
	if _, err := s.need(ctx, u, canInquire); err != nil {
		return Account{}, err
	}
	return s.orgAccount(ctx, u, id)
}

// orgAccount returns an account of u's organization; any other is
// ErrNotFound.
func (s *Service) orgAccount(ctx context.Context, u identity.User, id int64) (Account, error) {
	a, err := s.c.Store.AccountByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && a.OrganizationID != u.OrganizationID) {
		return Account{}, ErrNotFound
	}
	return a, err
}

// TransactionPage is one page of an account's postings (入出金明細).
type TransactionPage struct {
	Account  Account
	From, To calendar.Date // as asked; zero: no bound
	Postings []Posting
	Total    int // postings in the range
	Page     int // 1-based
	PerPage  int
}

// Pages returns the number of pages.
func (p TransactionPage) Pages() int {
	if p.PerPage <= 0 {
		return 0
	}
	return (p.Total + p.PerPage - 1) / p.PerPage
}

// Transactions returns the postings of an account of u's organization booked
// from..to (both included; a zero date is no bound), oldest first, like a
// passbook, each with the balance after it; page is 1-based, perPage at
// most MaxPerPage (0: DefaultPerPage). It needs the inquiry privilege.
func (s *Service) Transactions(ctx context.Context, u identity.User, accountID int64, from, to calendar.Date, page, perPage int) (TransactionPage, error) {
	if _, err := s.need(ctx, u, canInquire); err != nil {
		return TransactionPage{}, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return TransactionPage{}, fmt.Errorf("%w: %s is before %s", ErrInvalidDate, to, from)
	}
	page, perPage = paging(page, perPage)
	a, err := s.orgAccount(ctx, u, accountID)
	if err != nil {
		return TransactionPage{}, err
	}
	ps, total, err := s.c.Store.Postings(ctx, a.ID, from, to, (page-1)*perPage, perPage)
	if err != nil {
		return TransactionPage{}, err
	}
	if ps, err = s.mergePayroll(ctx, u, ps); err != nil {
		return TransactionPage{}, err
	}
	return TransactionPage{Account: a, From: from, To: to, Postings: ps, Total: total, Page: page, PerPage: perPage}, nil
}

// LatestPostingDate returns the booking date of the account's latest
// posting, and false when it has none. It needs the inquiry privilege.
func (s *Service) LatestPostingDate(ctx context.Context, u identity.User, accountID int64) (calendar.Date, bool, error) {
	p, err := s.Transactions(ctx, u, accountID, calendar.Date{}, calendar.Date{}, 1, 1)
	if err != nil || p.Total == 0 {
		return calendar.Date{}, false, err
	}
	if p.Total > 1 {
		if p, err = s.Transactions(ctx, u, accountID, calendar.Date{}, calendar.Date{}, p.Total, 1); err != nil {
			return calendar.Date{}, false, err
		}
	}
	if len(p.Postings) == 0 {
		return calendar.Date{}, false, nil
	}
	return p.Postings[len(p.Postings)-1].Date, true, nil
}

// AllTransactions returns every posting of the account booked from..to,
// oldest first, for a download. It needs the inquiry privilege.
func (s *Service) AllTransactions(ctx context.Context, u identity.User, accountID int64, from, to calendar.Date) (Account, []Posting, error) {
	var all []Posting
	for page := 1; ; page++ {
		p, err := s.Transactions(ctx, u, accountID, from, to, page, MaxPerPage)
		if err != nil {
			return Account{}, nil, err
		}
		all = append(all, p.Postings...)
		if page >= p.Pages() {
			return p.Account, all, nil
		}
	}
}

// paging returns a valid 1-based page and page size.
func paging(page, perPage int) (int, int) {
	if page < 1 {
		page = 1
	}
	if page > 1_000_000 {
		page = 1_000_000
	}
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	if perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	return page, perPage
}
