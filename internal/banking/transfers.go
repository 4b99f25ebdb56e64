package banking

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
)

// TransferRequest is what a user asks for: a transfer from one of the
// organization's accounts to a registered payee (PayeeID) or to a payee
// given in full (Payee), never both.
type TransferRequest struct {
	FromAccountID int64
	PayeeID       int64
	Payee         PayeeAccount
	Amount        int64
	// ExecutionDate is the day asked for; zero means today. The day the
	// transfer is executed may be later (a holiday, after the cut-off): it
	// is the Transfer's ExecutionDate.
	ExecutionDate Date
	Memo          string
	// IdempotencyKey, when set, makes a repeat of the same request by the
	// same user return the first transfer (API clients' Idempotency-Key).
	IdempotencyKey string
}

// requestHash is the fingerprint of a request for idempotency: the same
// request repeated has the same hash.
func requestHash(kind string, v any) string {
	b, err := json.Marshal(struct {
		Kind string
		V    any
	}{kind, v})
	if err != nil {
		panic(err) // plain structs of strings and numbers always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// PlanExecutionDate returns the day a transfer asked for requested (zero:
// today) to a payee of bank payeeBankCode would be executed on, for the page
// to show before the user confirms.
func (s *Service) PlanExecutionDate(requested Date, payeeBankCode string) (Date, error) {
	return s.executionDate(s.c.Now(), requested, payeeBankCode != s.c.BankCode)
}

func (s *Service) executionDate(now time.Time, requested Date, interbank bool) (Date, error) {
	if requested.IsZero() {
		requested = DateOf(now)
	}
	d, err := s.c.ExecutionDate(now, requested, interbank)
	if err != nil {
		if errors.Is(err, ErrInvalidExecutionDate) || errors.Is(err, ErrOutsideServiceHours) {
			return Date{}, err
		}
		return Date{}, fmt.Errorf("%w: %w", ErrInvalidExecutionDate, err)
	}
	if d.IsZero() || d.Before(DateOf(now)) {
		return Date{}, fmt.Errorf("%w: %s", ErrInvalidExecutionDate, d)
	}
	return d, nil
}

// idempotent returns the unit a user's earlier request with key recorded:
// (unit, true, nil) for the same request, ErrIdempotencyConflict for
// another, (zero, false, nil) for a key not used yet.
func (s *Service) idempotent(ctx context.Context, u identity.User, key, hash string) (Unit, bool, error) {
	if key == "" {
		return Unit{}, false, nil
	}
	h, unit, ok, err := s.c.Store.Idempotent(ctx, u.ID, key)
	if err != nil || !ok {
		return Unit{}, false, err
	}
	if h != hash {
		return Unit{}, false, ErrIdempotencyConflict
	}
	return unit, true, nil
}

// RequestTransfer records a transfer requested by u, awaiting approval. It
// needs the transfer-request privilege; the amount must be within u's
// per-transaction limit and, with u's other transfers for the execution date
// that are not rejected, cancelled or failed, within u's daily limit.
func (s *Service) RequestTransfer(ctx context.Context, u identity.User, r TransferRequest) (Transfer, error) {
	p, err := s.need(ctx, u, canRequest)
	if err != nil {
		return Transfer{}, err
	}
	if err := checkIdempotencyKey(r.IdempotencyKey); err != nil {
		return Transfer{}, err
	}
	key := r.IdempotencyKey
	r.IdempotencyKey = ""
	hash := requestHash("transfer", r)
	if unit, ok, err := s.idempotent(ctx, u, key, hash); err != nil {
		return Transfer{}, err
	} else if ok {
		if unit.TransferID == 0 {
			return Transfer{}, ErrIdempotencyConflict
		}
		return s.c.Store.TransferByID(ctx, unit.TransferID)
	}
	now := s.c.Now()
	t, err := s.prepare(ctx, u, p, r, now)
	if err != nil {
		return Transfer{}, err
	}
	n := NewTransfers{OrganizationID: u.OrganizationID, UserID: u.ID, Actor: audit.UserActor(u.LoginID), At: now,
		IdempotencyKey: key, RequestHash: hash, UserDailyLimit: p.DailyLimit, Transfers: []Transfer{t},
		Audit: audit.Event{At: now, Type: audit.TransferRequested, Actor: audit.UserActor(u.LoginID),
			OrganizationID: u.OrganizationID, UserID: u.ID}}
	if _, err := s.c.Store.CreateTransfers(ctx, &n); err != nil {
		return Transfer{}, err
	}
	if n.Batch != nil || len(n.Transfers) != 1 {
		return Transfer{}, ErrIdempotencyConflict // the key recorded a batch
	}
	return n.Transfers[0], nil
}

// prepare checks a request of u, who has privileges p, and returns the
// transfer to record.
func (s *Service) prepare(ctx context.Context, u identity.User, p Privileges, r TransferRequest, now time.Time) (Transfer, error) {
	from, err := s.orgAccount(ctx, u, r.FromAccountID)
	if err != nil {
		return Transfer{}, err
	}
	var acct PayeeAccount
	if r.PayeeID != 0 {
		if r.Payee != (PayeeAccount{}) {
			return Transfer{}, fmt.Errorf("%w: a registered payee and a payee account both given", ErrInvalidPayee)
		}
		payee, err := s.orgPayee(ctx, u, r.PayeeID)
		if err != nil {
			return Transfer{}, err
		}
		acct = payee.PayeeAccount
	} else {
		acct = r.Payee
	}
	if acct, err = s.normalizePayee(acct); err != nil {
		return Transfer{}, err
	}
	if err := checkAmount(r.Amount); err != nil {
		return Transfer{}, err
	}
	if r.Amount > p.TransactionLimit {
		return Transfer{}, &LimitError{Kind: LimitTransaction, Limit: p.TransactionLimit, Amount: r.Amount}
	}
	if err := checkText(r.Memo, MaxMemo, true, ErrInvalidMemo); err != nil {
		return Transfer{}, err
	}
	to, err := s.destination(ctx, acct)
	if err != nil {
		return Transfer{}, err
	}
	if to == from.ID {
		return Transfer{}, fmt.Errorf("%w: the payee is the account the money comes from", ErrInvalidPayee)
	}
	interbank := to == 0
	date, err := s.executionDate(now, r.ExecutionDate, interbank)
	if err != nil {
		return Transfer{}, err
	}
	return Transfer{OrganizationID: u.OrganizationID, FromAccountID: from.ID, Payee: acct, ToAccountID: to, Interbank: interbank,
		Amount: r.Amount, ExecutionDate: date, Memo: r.Memo, Status: StatusAwaitingApproval,
		RequestedBy: u.ID, RequestedAt: now, UpdatedAt: now}, nil
}

// Resubmit replaces the request of a transfer that an approver sent back
// with r and puts it back to awaiting approval. Only its requester may, with
// the transfer-request privilege; the checks of RequestTransfer apply.
func (s *Service) Resubmit(ctx context.Context, u identity.User, id int64, r TransferRequest) (Transfer, error) {
	p, err := s.need(ctx, u, canRequest)
	if err != nil {
		return Transfer{}, err
	}
	cur, err := s.orgTransfer(ctx, u, id)
	if err != nil {
		return Transfer{}, err
	}
	if cur.BatchID != 0 {
		return Transfer{}, ErrBatchItem
	}
	if cur.RequestedBy != u.ID {
		return Transfer{}, ErrForbidden
	}
	if cur.Status != StatusSentBack {
		return Transfer{}, ErrInvalidState
	}
	now := s.c.Now()
	t, err := s.prepare(ctx, u, p, r, now)
	if err != nil {
		return Transfer{}, err
	}
	t.ID = cur.ID
	ev := audit.Event{At: now, Type: audit.TransferResubmitted, Actor: audit.UserActor(u.LoginID),
		OrganizationID: u.OrganizationID, UserID: u.ID}
	return s.c.Store.Resubmit(ctx, t, p.DailyLimit, audit.UserActor(u.LoginID), ev)
}

// Cancel withdraws a transfer awaiting approval or sent back; only its
// requester may.
func (s *Service) Cancel(ctx context.Context, u identity.User, id int64, comment string) (Transfer, error) {
	if err := s.cancel(ctx, u, Unit{TransferID: id}, comment); err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// Approve approves a transfer awaiting approval, with the approver's
// confirmation password (確認用パスワード). It needs the approval privilege
// (the master user has it) and an approver who is not the requester, the
// master user included. Within the organization's daily limit (scheduled and
// executed transfers of the execution date), a transfer dated today is
// executed at once (ErrInsufficientFunds leaves it awaiting approval) and a
// later one is scheduled. Two approvals racing execute it once: the other
// gets ErrInvalidState.
func (s *Service) Approve(ctx context.Context, approver identity.User, id int64, confirmation string) (Transfer, error) {
	if err := s.approve(ctx, approver, Unit{TransferID: id}, confirmation); err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// SendBack returns a transfer awaiting approval to its requester with a
// comment that says what to change (差戻し); the requester may resubmit or
// cancel it. It needs the approval privilege and an approver who is not the
// requester.
func (s *Service) SendBack(ctx context.Context, approver identity.User, id int64, comment string) (Transfer, error) {
	if err := s.decide(ctx, approver, Unit{TransferID: id}, StatusSentBack, comment); err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// Reject refuses a transfer awaiting approval, for good. It needs the
// approval privilege and an approver who is not the requester.
func (s *Service) Reject(ctx context.Context, approver identity.User, id int64, comment string) (Transfer, error) {
	if err := s.decide(ctx, approver, Unit{TransferID: id}, StatusRejected, comment); err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// Transfer returns a transfer of u's organization. It needs one of the
// privileges inquiry, transfer request or approval.
func (s *Service) Transfer(ctx context.Context, u identity.User, id int64) (Transfer, error) {
	if _, err := s.need(ctx, u, canSeeTransfers); err != nil {
		return Transfer{}, err
	}
	return s.orgTransfer(ctx, u, id)
}

// TransferHistory returns every step of a transfer of u's organization,
// oldest first; for an item of a batch, the batch's steps with the item's
// own. It needs the privileges of Transfer.
func (s *Service) TransferHistory(ctx context.Context, u identity.User, id int64) ([]HistoryEntry, error) {
	if _, err := s.need(ctx, u, canSeeTransfers); err != nil {
		return nil, err
	}
	if _, err := s.orgTransfer(ctx, u, id); err != nil {
		return nil, err
	}
	return s.c.Store.History(ctx, Unit{TransferID: id})
}

// TransferQuery selects transfers to list.
type TransferQuery struct {
	Statuses          []Status // none: all
	From, To          Date     // execution dates, both included; zero: no bound
	MineOnly          bool     // only those u requested
	IncludeBatchItems bool
	Page, PerPage     int
}

// TransferPage is one page of transfers, newest first.
type TransferPage struct {
	Transfers []Transfer
	Total     int
	Page      int
	PerPage   int
}

// Transfers lists transfers of u's organization, newest first. It needs the
// privileges of Transfer.
func (s *Service) Transfers(ctx context.Context, u identity.User, q TransferQuery) (TransferPage, error) {
	if _, err := s.need(ctx, u, canSeeTransfers); err != nil {
		return TransferPage{}, err
	}
	page, perPage := paging(q.Page, q.PerPage)
	f := TransferFilter{OrganizationID: u.OrganizationID, Statuses: q.Statuses, From: q.From, To: q.To,
		SingleOnly: !q.IncludeBatchItems, Offset: (page - 1) * perPage, Limit: perPage}
	if q.MineOnly {
		f.RequestedBy = u.ID
	}
	ts, total, err := s.c.Store.Transfers(ctx, f)
	if err != nil {
		return TransferPage{}, err
	}
	return TransferPage{Transfers: ts, Total: total, Page: page, PerPage: perPage}, nil
}

// orgTransfer returns a transfer of u's organization; any other is
// ErrNotFound.
func (s *Service) orgTransfer(ctx context.Context, u identity.User, id int64) (Transfer, error) {
	t, err := s.c.Store.TransferByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && t.OrganizationID != u.OrganizationID) {
		return Transfer{}, ErrNotFound
	}
	return t, err
}

// unitInfo is what a decision needs to know of a unit.
type unitInfo struct {
	requestedBy   int64
	status        Status
	executionDate Date
	interbank     bool
}

// loadUnit returns a unit of u's organization; any other is ErrNotFound. An
// item of a batch is not a unit: ErrBatchItem.
func (s *Service) loadUnit(ctx context.Context, u identity.User, unit Unit) (unitInfo, error) {
	if unit.BatchID != 0 {
		b, err := s.orgBatch(ctx, u, unit.BatchID)
		if err != nil {
			return unitInfo{}, err
		}
		return unitInfo{requestedBy: b.RequestedBy, status: b.Status, executionDate: b.ExecutionDate,
			interbank: b.Interbank}, nil
	}
	t, err := s.orgTransfer(ctx, u, unit.TransferID)
	if err != nil {
		return unitInfo{}, err
	}
	if t.BatchID != 0 {
		return unitInfo{}, ErrBatchItem
	}
	return unitInfo{requestedBy: t.RequestedBy, status: t.Status, executionDate: t.ExecutionDate,
		interbank: t.Interbank}, nil
}

// approve is Approve of a transfer or a batch.
func (s *Service) approve(ctx context.Context, approver identity.User, unit Unit, confirmation string) error {
	if _, err := s.need(ctx, approver, canApprove); err != nil {
		return err
	}
	info, err := s.loadUnit(ctx, approver, unit)
	if err != nil {
		return err
	}
	if info.requestedBy == approver.ID {
		return ErrSelfApprovalForbidden
	}
	if info.status != StatusAwaitingApproval {
		return ErrInvalidState
	}
	now := s.c.Now()
	today := DateOf(now)
	if d, err := s.c.ExecutionDate(now, info.executionDate, info.interbank); err != nil || d != info.executionDate {
		return ErrExecutionDatePassed
	}
	if err := s.c.Identity.CheckPassword(ctx, approver, identity.ConfirmationPassword, confirmation, "transfer approval"); err != nil {
		return err
	}
	limit, err := s.organizationDailyLimit(ctx, approver.OrganizationID)
	if err != nil {
		return err
	}
	execute := !info.executionDate.After(today)
	to := StatusScheduled
	if execute {
		to = StatusExecuted
	}
	return s.c.Store.Decide(ctx, Decision{Unit: unit, OrganizationID: approver.OrganizationID,
		From: []Status{StatusAwaitingApproval}, To: to, UserID: approver.ID, Actor: audit.UserActor(approver.LoginID), At: now,
		Action: HistoryApproved, RequesterMustNotBe: approver.ID,
		Approval: true, OrganizationDailyLimit: limit, Execute: execute, Today: today,
		Audit: audit.Event{At: now, Type: audit.TransferApproved, Actor: audit.UserActor(approver.LoginID),
			OrganizationID: approver.OrganizationID, UserID: approver.ID}})
}

// decide is a send back or rejection by an approver.
func (s *Service) decide(ctx context.Context, approver identity.User, unit Unit, to Status, comment string) error {
	if _, err := s.need(ctx, approver, canApprove); err != nil {
		return err
	}
	if err := checkText(comment, MaxComment, to != StatusSentBack, ErrInvalidComment); err != nil {
		return err
	}
	info, err := s.loadUnit(ctx, approver, unit)
	if err != nil {
		return err
	}
	if info.requestedBy == approver.ID {
		return ErrSelfApprovalForbidden
	}
	if info.status != StatusAwaitingApproval {
		return ErrInvalidState
	}
	action, typ := HistorySentBack, audit.TransferSentBack
	if to == StatusRejected {
		action, typ = HistoryRejected, audit.TransferRejected
	}
	now := s.c.Now()
	return s.c.Store.Decide(ctx, Decision{Unit: unit, OrganizationID: approver.OrganizationID,
		From: []Status{StatusAwaitingApproval}, To: to, UserID: approver.ID, Actor: audit.UserActor(approver.LoginID), At: now,
		Action: action, Comment: comment, RequesterMustNotBe: approver.ID,
		Audit: audit.Event{At: now, Type: typ, Actor: audit.UserActor(approver.LoginID),
			OrganizationID: approver.OrganizationID, UserID: approver.ID, Detail: comment}})
}

// cancel is the requester's withdrawal of a unit awaiting approval or sent
// back.
func (s *Service) cancel(ctx context.Context, u identity.User, unit Unit, comment string) error {
	if _, err := s.effective(ctx, u); err != nil {
		return err
	}
	if err := checkText(comment, MaxComment, true, ErrInvalidComment); err != nil {
		return err
	}
	info, err := s.loadUnit(ctx, u, unit)
	if err != nil {
		return err
	}
	if info.requestedBy != u.ID {
		return ErrForbidden
	}
	if info.status != StatusAwaitingApproval && info.status != StatusSentBack {
		return ErrInvalidState
	}
	now := s.c.Now()
	return s.c.Store.Decide(ctx, Decision{Unit: unit, OrganizationID: u.OrganizationID,
		From: []Status{StatusAwaitingApproval, StatusSentBack}, To: StatusCancelled, UserID: u.ID, Actor: audit.UserActor(u.LoginID),
		At: now, Action: HistoryCancelled, Comment: comment, RequesterMustBe: u.ID,
		Audit: audit.Event{At: now, Type: audit.TransferCancelled, Actor: audit.UserActor(u.LoginID),
			OrganizationID: u.OrganizationID, UserID: u.ID, Detail: comment}})
}
