package banking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"kinko/internal/audit"
	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// BatchItem is one transfer of a batch, as read from an uploaded file.
type BatchItem struct {
	Payee         PayeeAccount
	Amount        int64
	CustomerCode1 string // up to 10 digits; may be empty
	CustomerCode2 string
}

// BatchRequest is a batch of transfers (総合振込) from one account on one
// date, usually made from an uploaded Zengin file.
type BatchRequest struct {
	FromAccountID int64
	ExecutionDate calendar.Date // zero: today
	// Kind is 総合振込 (BatchGeneral, also when empty), 給与振込 or 賞与振込.
	Kind           BatchKind `json:",omitempty"`
	Items          []BatchItem
	SourceFile     string // the uploaded file's name
	IdempotencyKey string
}

// BatchProblem is what is wrong with one item of a batch.
type BatchProblem struct {
	Item int // 1-based, in the order of the request
	Err  error
}

// BatchError lists every item of a batch that cannot be accepted. It is
// ErrInvalidBatch for errors.Is.
type BatchError struct {
	Problems []BatchProblem
}

// Error lists the first problems, by item.
func (e *BatchError) Error() string {
	var b strings.Builder
	b.WriteString("banking: invalid batch:")
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, " ... (%d in all)", len(e.Problems))
			break
		}
		fmt.Fprintf(&b, " item %d: %v;", p.Item, p.Err)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Is makes a BatchError match ErrInvalidBatch.
func (e *BatchError) Is(target error) bool { return target == ErrInvalidBatch }

// CreateBatch records a batch of transfers requested by u, awaiting approval
// as one. It needs the transfer-request privilege. Every item is checked
// like a single transfer, the per-transaction limit included (it applies to
// each item); the user's daily limit applies to the batch's total with u's
// other transfers of the date. The execution date follows the rules of
// transfers to other banks when any item goes to one. Every problem is
// reported at once, by item, in a *BatchError.
func (s *Service) CreateBatch(ctx context.Context, u identity.User, r BatchRequest) (Batch, error) {
	return s.createBatch(ctx, u, r, true)
}

// createBatch is CreateBatch; countChecks says whether the items to
// accounts here count as checks of them (not when confirming an upload,
// whose staging counted them).
func (s *Service) createBatch(ctx context.Context, u identity.User, r BatchRequest, countChecks bool) (Batch, error) {
	p, err := s.need(ctx, u, canRequest)
	if err != nil {
		return Batch{}, err
	}
	if err := checkIdempotencyKey(r.IdempotencyKey); err != nil {
		return Batch{}, err
	}
	key := r.IdempotencyKey
	r.IdempotencyKey = ""
	hash := requestHash("batch", r)
	if unit, ok, err := s.idempotent(ctx, u, key, hash); err != nil {
		return Batch{}, err
	} else if ok {
		if unit.BatchID == 0 {
			return Batch{}, ErrIdempotencyConflict
		}
		return s.c.Store.BatchByID(ctx, unit.BatchID)
	}
	b, items, err := s.checkBatch(ctx, u, p, r, countChecks)
	if err != nil {
		return Batch{}, err
	}
	now := b.RequestedAt
	ev := audit.Event{At: now, Type: audit.TransferRequested, Actor: audit.UserActor(u.LoginID),
		OrganizationID: u.OrganizationID, UserID: u.ID, Detail: r.SourceFile}
	unit, replayed, err := s.record(ctx, u, p, key, hash, &b, items, ev)
	if err != nil {
		return Batch{}, err
	}
	if replayed {
		if unit.BatchID == 0 {
			return Batch{}, ErrIdempotencyConflict // the key recorded a single transfer
		}
		return s.c.Store.BatchByID(ctx, unit.BatchID)
	}
	return b, nil
}

// checkBatch checks a batch request of u, whose privileges are p, as
// CreateBatch does, and returns the batch and its items to record. The
// items to accounts here count as checks of them when countChecks is set.
func (s *Service) checkBatch(ctx context.Context, u identity.User, p Privileges, r BatchRequest, countChecks bool) (Batch, []Transfer, error) {
	kind := r.Kind
	if kind == "" {
		kind = BatchGeneral
	}
	if !kind.valid() {
		return Batch{}, nil, fmt.Errorf("%w: kind %q", ErrInvalidBatch, r.Kind)
	}
	if len(r.Items) == 0 || len(r.Items) > MaxBatchItems {
		return Batch{}, nil, fmt.Errorf("%w: %d items, must be 1..%d", ErrInvalidBatch, len(r.Items), MaxBatchItems)
	}
	if err := checkText(r.SourceFile, MaxSourceFile, true, ErrInvalidBatch); err != nil {
		return Batch{}, nil, err
	}
	from, err := s.orgAccount(ctx, u, r.FromAccountID)
	if err != nil {
		return Batch{}, nil, err
	}
	here := 0
	for _, it := range r.Items {
		if it.Payee.BankCode == s.c.BankCode {
			here++
		}
	}
	// Each item to an account here is a check of it: a batch's answer
	// says which accounts do not exist.
	if countChecks {
		if err := s.countPayeeChecks(ctx, u, here); err != nil {
			return Batch{}, nil, err
		}
	}
	now := s.c.Now()
	var problems []BatchProblem
	items := make([]Transfer, 0, len(r.Items))
	var total int64
	interbank := false
	for i, it := range r.Items {
		t, err := s.prepareItem(ctx, from, p, it)
		if err != nil {
			problems = append(problems, BatchProblem{Item: i + 1, Err: err})
			continue
		}
		total += t.Amount
		interbank = interbank || t.Interbank
		items = append(items, t)
	}
	if len(problems) > 0 {
		return Batch{}, nil, &BatchError{Problems: problems}
	}
	date, err := s.executionDate(now, r.ExecutionDate, interbank)
	if err != nil {
		return Batch{}, nil, err
	}
	if kind.Payroll() {
		if err := s.checkPayrollDeadline(now, date); err != nil {
			return Batch{}, nil, err
		}
	}
	for i := range items {
		items[i].OrganizationID, items[i].ExecutionDate, items[i].Status = u.OrganizationID, date, StatusAwaitingApproval
		items[i].RequestedBy, items[i].RequestedAt, items[i].UpdatedAt = u.ID, now, now
	}
	b := Batch{OrganizationID: u.OrganizationID, FromAccountID: from.ID, ExecutionDate: date, SourceFile: r.SourceFile,
		Status: StatusAwaitingApproval, Count: len(items), Total: total, Interbank: interbank, Kind: kind,
		RequestedBy: u.ID, RequestedAt: now, UpdatedAt: now}
	return b, items, nil
}

// prepareItem checks one item of a batch from account from.
func (s *Service) prepareItem(ctx context.Context, from Account, p Privileges, it BatchItem) (Transfer, error) {
	acct, err := s.normalizePayee(it.Payee)
	if err != nil {
		return Transfer{}, err
	}
	if err := checkAmount(it.Amount); err != nil {
		return Transfer{}, err
	}
	if it.Amount > p.TransactionLimit {
		return Transfer{}, &LimitError{Kind: LimitTransaction, Limit: p.TransactionLimit, Amount: it.Amount, Master: p.Master}
	}
	if err := checkCustomerCode(it.CustomerCode1); err != nil {
		return Transfer{}, err
	}
	if err := checkCustomerCode(it.CustomerCode2); err != nil {
		return Transfer{}, err
	}
	to, err := s.destination(ctx, acct)
	if err != nil {
		return Transfer{}, err
	}
	if to == from.ID {
		return Transfer{}, fmt.Errorf("%w: the payee is the account the money comes from", ErrInvalidPayee)
	}
	t := Transfer{FromAccountID: from.ID, Payee: acct, ToAccountID: to, Interbank: to == 0, Amount: it.Amount,
		CustomerCode1: it.CustomerCode1, CustomerCode2: it.CustomerCode2}
	// The items of a batch bear their fees on the payer's side (当方負担).
	if err := s.withFee(&t, from, FeePayerPayer); err != nil {
		return Transfer{}, err
	}
	return t, nil
}

// ApproveBatch approves a batch as one, with the rules of Approve; the
// organization's daily limit applies to its total, and executing it at once
// needs the money for all of its items (all or none). seen is the Version of
// the batch the approver was shown, as for Approve.
func (s *Service) ApproveBatch(ctx context.Context, approver identity.User, id int64, seen int64, confirmation string) (Batch, error) {
	if err := s.approve(ctx, approver, Unit{BatchID: id}, seen, confirmation); err != nil {
		return Batch{}, err
	}
	return s.c.Store.BatchByID(ctx, id)
}

// SendBackBatch returns a batch to its requester with a comment; the
// requester cancels it and uploads a corrected file. seen is the version the
// approver saw, as for Approve.
func (s *Service) SendBackBatch(ctx context.Context, approver identity.User, id int64, seen int64, comment string) (Batch, error) {
	if err := s.decide(ctx, approver, Unit{BatchID: id}, decideSendBack, seen, comment); err != nil {
		return Batch{}, err
	}
	return s.c.Store.BatchByID(ctx, id)
}

// RejectBatch refuses a batch for good. seen is the version the approver
// saw, as for Approve.
func (s *Service) RejectBatch(ctx context.Context, approver identity.User, id int64, seen int64, comment string) (Batch, error) {
	if err := s.decide(ctx, approver, Unit{BatchID: id}, decideReject, seen, comment); err != nil {
		return Batch{}, err
	}
	return s.c.Store.BatchByID(ctx, id)
}

// CancelBatch withdraws a batch awaiting approval or sent back; only its
// requester may.
func (s *Service) CancelBatch(ctx context.Context, u identity.User, id int64, comment string) (Batch, error) {
	if err := s.decide(ctx, u, Unit{BatchID: id}, decideCancel, 0, comment); err != nil {
		return Batch{}, err
	}
	return s.c.Store.BatchByID(ctx, id)
}

// Batch returns a batch of u's organization with its transfers. It needs
// the privileges of Transfer. The items of a payroll batch have their
// names and amounts hidden (Transfer.Hidden) from a user without payroll
// inquiry.
func (s *Service) Batch(ctx context.Context, u identity.User, id int64) (Batch, []Transfer, error) {
	if _, err := s.need(ctx, u, canSeeTransfers); err != nil {
		return Batch{}, nil, err
	}
	b, err := s.orgBatch(ctx, u, id)
	if err != nil {
		return Batch{}, nil, err
	}
	ts, err := s.c.Store.BatchTransfers(ctx, id)
	if err != nil {
		return Batch{}, nil, err
	}
	if err := s.redact(ctx, u, ts); err != nil {
		return Batch{}, nil, err
	}
	return b, ts, nil
}

// BatchHistory returns every step of a batch of u's organization, oldest
// first, the steps of its items included.
func (s *Service) BatchHistory(ctx context.Context, u identity.User, id int64) ([]HistoryEntry, error) {
	if _, err := s.need(ctx, u, canSeeTransfers); err != nil {
		return nil, err
	}
	if _, err := s.orgBatch(ctx, u, id); err != nil {
		return nil, err
	}
	return s.c.Store.History(ctx, Unit{BatchID: id})
}

// BatchPage is one page of batches, newest first.
type BatchPage struct {
	Batches []Batch
	Total   int
	Page    int
	PerPage int
}

// Batches lists the batches of u's organization, newest first. It needs the
// privileges of Transfer.
func (s *Service) Batches(ctx context.Context, u identity.User, page, perPage int) (BatchPage, error) {
	if _, err := s.need(ctx, u, canSeeTransfers); err != nil {
		return BatchPage{}, err
	}
	page, perPage = paging(page, perPage)
	bs, total, err := s.c.Store.Batches(ctx, u.OrganizationID, (page-1)*perPage, perPage)
	if err != nil {
		return BatchPage{}, err
	}
	return BatchPage{Batches: bs, Total: total, Page: page, PerPage: perPage}, nil
}

// orgBatch returns a batch of u's organization; any other is ErrNotFound.
func (s *Service) orgBatch(ctx context.Context, u identity.User, id int64) (Batch, error) {
	b, err := s.c.Store.BatchByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && b.OrganizationID != u.OrganizationID) {
		return Batch{}, ErrNotFound
	}
	return b, err
}
