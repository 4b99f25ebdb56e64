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
	"kinko/internal/calendar"
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
	ExecutionDate calendar.Date
	Memo          string
	// FeePayer says who bears the fee: FeePayerPayer (当方負担, also "")
	// or FeePayerPayee (先方負担).
	FeePayer FeePayer `json:",omitempty"`
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
func (s *Service) PlanExecutionDate(requested calendar.Date, payeeBankCode string) (calendar.Date, error) {
	return s.executionDate(s.c.Now(), requested, payeeBankCode != s.c.BankCode)
}

func (s *Service) executionDate(now time.Time, requested calendar.Date, interbank bool) (calendar.Date, error) {
	if requested.IsZero() {
		requested = calendar.DateOf(now)
	}
	d, err := s.c.ExecutionDate(now, requested, interbank)
	if err != nil {
		if errors.Is(err, ErrInvalidExecutionDate) || errors.Is(err, ErrOutsideServiceHours) {
			return calendar.Date{}, err
		}
		return calendar.Date{}, fmt.Errorf("%w: %w", ErrInvalidExecutionDate, err)
	}
	if d.IsZero() || d.Before(calendar.DateOf(now)) {
		return calendar.Date{}, fmt.Errorf("%w: %s", ErrInvalidExecutionDate, d)
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
	if unit, err = replay(hash, h, unit); err != nil {
		return Unit{}, false, err
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
	if r.FeePayer == FeePayerPayer {
		r.FeePayer = "" // the default, hashed as before fees were asked for
	}
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
	ev := audit.Event{At: now, Type: audit.TransferRequested, Actor: audit.UserActor(u.LoginID),
		OrganizationID: u.OrganizationID, UserID: u.ID}
	items := []Transfer{t}
	unit, replayed, err := s.record(ctx, u, p, key, hash, nil, items, ev)
	if err != nil {
		return Transfer{}, err
	}
	if replayed {
		if unit.TransferID == 0 {
			return Transfer{}, ErrIdempotencyConflict // the key recorded a batch
		}
		return s.c.Store.TransferByID(ctx, unit.TransferID)
	}
	return items[0], nil
}

// replay returns the unit that a request's idempotency key recorded, or
// ErrIdempotencyConflict when the key recorded another request.
func replay(hash, recordedHash string, unit Unit) (Unit, error) {
	if recordedHash != hash {
		return Unit{}, ErrIdempotencyConflict
	}
	return unit, nil
}

// record records a request of u, who has privileges p: a single transfer
// (b nil) or batch b with its items, awaiting approval, with the history
// step and the audit event ev. Under the lock of u's requests, the items
// with u's other transfers of their execution date that count towards the
// daily limit must be within u's daily limit, and an idempotency key
// already used makes it return the unit the key recorded, with true. It
// fills in the IDs of b and items.
func (s *Service) record(ctx context.Context, u identity.User, p Privileges, key, hash string, b *Batch, items []Transfer, ev audit.Event) (Unit, bool, error) {
	var unit Unit
	replayed := false
	err := s.c.Store.InTx(ctx, func(tx Tx) error {
		unit, replayed = Unit{}, false
		if err := tx.LockUser(ctx, u.ID); err != nil {
			return err
		}
		if key != "" {
			recorded, recordedUnit, ok, err := tx.IdempotencyKey(ctx, u.ID, key)
			if err != nil {
				return err
			}
			if ok {
				unit, err = replay(hash, recorded, recordedUnit)
				replayed = err == nil
				return err
			}
		}
		date := items[0].ExecutionDate
		var total int64
		for _, t := range items {
			total += t.Amount
		}
		used, err := tx.RequestedSum(ctx, u.ID, date, requestCountingStatuses, 0)
		if err != nil {
			return err
		}
		if used+total > p.DailyLimit {
			return &LimitError{Kind: LimitUserDaily, Limit: p.DailyLimit, Used: used, Amount: total, Master: p.Master}
		}
		var about string
		if b != nil {
			b.Count, b.Total, b.Fees = len(items), total, TotalFees(items)
			if err := tx.InsertBatch(ctx, b); err != nil {
				return err
			}
			unit = Unit{BatchID: b.ID}
			about = fmt.Sprintf("batch %d count %d total %d", b.ID, b.Count, b.Total)
		}
		for i := range items {
			if b != nil {
				items[i].BatchID = b.ID
			}
			if err := tx.InsertTransfer(ctx, &items[i]); err != nil {
				return err
			}
		}
		if b == nil {
			unit = Unit{TransferID: items[0].ID}
			about = fmt.Sprintf("transfer %d amount %d", items[0].ID, total)
		}
		if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: unit.TransferID, BatchID: unit.BatchID, At: ev.At,
			Actor: ev.Actor, UserID: u.ID, Action: HistoryRequested}); err != nil {
			return err
		}
		if key != "" {
			if err := tx.InsertIdempotencyKey(ctx, u.ID, key, hash, unit, ev.At); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, withDetail(unit.about(ev), about))
	})
	if err != nil {
		return Unit{}, false, err
	}
	return unit, replayed, nil
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
		return Transfer{}, &LimitError{Kind: LimitTransaction, Limit: p.TransactionLimit, Amount: r.Amount, Master: p.Master}
	}
	if err := checkText(r.Memo, MaxMemo, true, ErrInvalidMemo); err != nil {
		return Transfer{}, err
	}
	if r.PayeeID == 0 && acct.BankCode == s.c.BankCode {
		// A payee given in full is a check of an account here; a
		// registered one was checked when it was registered.
		if err := s.countPayeeChecks(ctx, u, 1); err != nil {
			return Transfer{}, err
		}
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
	t := Transfer{OrganizationID: u.OrganizationID, FromAccountID: from.ID, Payee: acct, ToAccountID: to, Interbank: interbank,
		Amount: r.Amount, ExecutionDate: date, Memo: r.Memo, Status: StatusAwaitingApproval,
		RequestedBy: u.ID, RequestedAt: now, UpdatedAt: now}
	if err := s.withFee(&t, from, r.FeePayer); err != nil {
		return Transfer{}, err
	}
	return t, nil
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
	// Checked here too so that the state, not the new request, is reported
	// first; checked again below, under the lock.
	if err := canResubmit(u, cur); err != nil {
		return Transfer{}, err
	}
	now := s.c.Now()
	t, err := s.prepare(ctx, u, p, r, now)
	if err != nil {
		return Transfer{}, err
	}
	t.ID = cur.ID
	actor := audit.UserActor(u.LoginID)
	ev := audit.Event{At: now, Type: audit.TransferResubmitted, Actor: actor, OrganizationID: u.OrganizationID, UserID: u.ID,
		TransferID: cur.ID}
	err = s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.LockUser(ctx, u.ID); err != nil {
			return err
		}
		locked, err := tx.LockTransfer(ctx, id)
		if err != nil {
			return err
		}
		if locked.OrganizationID != u.OrganizationID {
			return ErrNotFound
		}
		if err := canResubmit(u, locked); err != nil {
			return err
		}
		used, err := tx.RequestedSum(ctx, u.ID, t.ExecutionDate, requestCountingStatuses, t.ID)
		if err != nil {
			return err
		}
		if used+t.Amount > p.DailyLimit {
			return &LimitError{Kind: LimitUserDaily, Limit: p.DailyLimit, Used: used, Amount: t.Amount, Master: p.Master}
		}
		if err := tx.UpdateTransferRequest(ctx, t); err != nil {
			return err
		}
		if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: t.ID, At: now, Actor: actor, UserID: u.ID,
			Action: HistoryResubmitted}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, withDetail(ev, fmt.Sprintf("transfer %d amount %d", t.ID, t.Amount)))
	})
	if err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// canResubmit says whether u may resubmit transfer t of u's organization:
// a single transfer, sent back, that u requested.
func canResubmit(u identity.User, t Transfer) error {
	switch {
	case t.BatchID != 0:
		return ErrBatchItem
	case t.RequestedBy != u.ID:
		return ErrForbidden
	case t.Status != StatusSentBack:
		return ErrInvalidState
	}
	return nil
}

// Cancel withdraws a transfer awaiting approval or sent back; only its
// requester may.
func (s *Service) Cancel(ctx context.Context, u identity.User, id int64, comment string) (Transfer, error) {
	if err := s.decide(ctx, u, Unit{TransferID: id}, decideCancel, 0, comment); err != nil {
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
//
// seen is the Version of the transfer that the approver was shown: an
// approval approves what the approver saw. Without it (0) the approval is
// ErrVersionRequired; when the transfer changed since (it was sent back and
// resubmitted, say), or seen is no version of it (negative, say),
// ErrTransferChanged, and nothing is approved. It is checked under the
// transfer's lock, in the transaction that approves.
func (s *Service) Approve(ctx context.Context, approver identity.User, id int64, seen int64, confirmation string) (Transfer, error) {
	if err := s.approve(ctx, approver, Unit{TransferID: id}, seen, confirmation); err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// SendBack returns a transfer awaiting approval to its requester with a
// comment that says what to change (差戻し); the requester may resubmit or
// cancel it. It needs the approval privilege and an approver who is not the
// requester. seen is the version the approver saw, as for Approve.
func (s *Service) SendBack(ctx context.Context, approver identity.User, id int64, seen int64, comment string) (Transfer, error) {
	if err := s.decide(ctx, approver, Unit{TransferID: id}, decideSendBack, seen, comment); err != nil {
		return Transfer{}, err
	}
	return s.c.Store.TransferByID(ctx, id)
}

// Reject refuses a transfer awaiting approval, for good. It needs the
// approval privilege and an approver who is not the requester. seen is the
// version the approver saw, as for Approve.
func (s *Service) Reject(ctx context.Context, approver identity.User, id int64, seen int64, comment string) (Transfer, error) {
	if err := s.decide(ctx, approver, Unit{TransferID: id}, decideReject, seen, comment); err != nil {
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
	t, err := s.orgTransfer(ctx, u, id)
	if err != nil {
		return Transfer{}, err
	}
	ts := []Transfer{t}
	if err := s.redact(ctx, u, ts); err != nil {
		return Transfer{}, err
	}
	return ts[0], nil
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
	Statuses          []Status      // none: all
	From, To          calendar.Date // execution dates, both included; zero: no bound
	MineOnly          bool          // only those u requested
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
	if err := s.redact(ctx, u, ts); err != nil {
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

// readUnit reads a unit of u's organization without locking it; any other
// is ErrNotFound. An item of a batch is not a unit: ErrBatchItem.
func (s *Service) readUnit(ctx context.Context, u identity.User, unit Unit) (unitState, error) {
	if unit.BatchID != 0 {
		b, err := s.orgBatch(ctx, u, unit.BatchID)
		if err != nil {
			return unitState{}, err
		}
		items, err := s.c.Store.BatchTransfers(ctx, b.ID)
		if err != nil {
			return unitState{}, err
		}
		return batchState(b, items), nil
	}
	t, err := s.orgTransfer(ctx, u, unit.TransferID)
	if err != nil {
		return unitState{}, err
	}
	return transferState(t), nil
}

// decision is what a user does with a unit.
type decision int

const (
	decideApprove decision = iota
	decideSendBack
	decideReject
	decideCancel
)

// checkDecision says whether user u may take decision d on a unit in state
// st at now: a unit of u's organization; an approver's decision needs a
// unit awaiting approval that someone else requested, in the version seen
// that the approver was shown (0: none said, ErrVersionRequired; any other
// than the unit's, ErrTransferChanged), and an approval a unit whose
// execution date can still be kept; a cancellation, a unit awaiting
// approval or sent back that u requested.
func (s *Service) checkDecision(u identity.User, st unitState, d decision, seen int64, now time.Time) error {
	if st.organizationID != u.OrganizationID {
		return ErrNotFound
	}
	if st.batchItem {
		return ErrBatchItem
	}
	if d == decideCancel {
		if st.requestedBy != u.ID {
			return ErrForbidden
		}
		if st.status != StatusAwaitingApproval && st.status != StatusSentBack {
			return ErrInvalidState
		}
		return nil
	}
	if st.requestedBy == u.ID {
		return ErrSelfApprovalForbidden
	}
	if st.status != StatusAwaitingApproval {
		return ErrInvalidState
	}
	if seen == 0 {
		return ErrVersionRequired
	}
	if seen != st.version {
		return fmt.Errorf("%w: %s is at version %d, the approver saw %d", ErrTransferChanged, st.unit, st.version, seen)
	}
	if d == decideApprove {
		if date, err := s.c.ExecutionDate(now, st.date, st.interbank); err != nil || date != st.date {
			return ErrExecutionDatePassed
		}
		// The bank's deadline of payroll applies to its approval too.
		if st.kind.Payroll() {
			if err := s.checkPayrollDeadline(now, st.date); err != nil {
				return err
			}
		}
	}
	return nil
}

// approve is Approve of a transfer or a batch.
func (s *Service) approve(ctx context.Context, approver identity.User, unit Unit, seen int64, confirmation string) error {
	if _, err := s.need(ctx, approver, canApprove); err != nil {
		return err
	}
	now := s.c.Now()
	// The decision is checked before the confirmation password, so that an
	// approval refused anyway does not count as a failed password; it is
	// checked again under the lock, where it is decided.
	st, err := s.readUnit(ctx, approver, unit)
	if err != nil {
		return err
	}
	if err := s.checkDecision(approver, st, decideApprove, seen, now); err != nil {
		return err
	}
	if err := s.c.Identity.CheckPassword(ctx, approver, identity.ConfirmationPassword, confirmation, "transfer approval"); err != nil {
		return err
	}
	limit, err := s.organizationDailyLimit(ctx, approver.OrganizationID)
	if err != nil {
		return err
	}
	today := calendar.DateOf(now)
	actor := audit.UserActor(approver.LoginID)
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.LockOrganization(ctx, approver.OrganizationID); err != nil {
			return err
		}
		st, err := lockUnit(ctx, tx, unit)
		if err != nil {
			return err
		}
		if err := s.checkDecision(approver, st, decideApprove, seen, now); err != nil {
			return err
		}
		used, err := tx.OrganizationSum(ctx, approver.OrganizationID, st.date, approvedStatuses)
		if err != nil {
			return err
		}
		if used+st.total > limit {
			return &LimitError{Kind: LimitOrganizationDaily, Limit: limit, Used: used, Amount: st.total,
				Master: approver.Role == identity.RoleMaster}
		}
		if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: unit.TransferID, BatchID: unit.BatchID, At: now,
			Actor: actor, UserID: approver.ID, Action: HistoryApproved}); err != nil {
			return err
		}
		events := []audit.Event{unit.about(audit.Event{At: now, Type: audit.TransferApproved, Actor: actor,
			OrganizationID: approver.OrganizationID, UserID: approver.ID, Detail: st.about()})}
		change := StatusChange{Status: StatusScheduled, At: now, ApprovedBy: approver.ID, ApprovedAt: now}
		if !st.date.After(today) {
			if err := executeItems(ctx, tx, st.items, st.kind, today, now, audit.System); err != nil {
				return err
			}
			change.Status, change.ExecutedAt = StatusExecuted, now
			events = append(events, unit.about(audit.Event{At: now, Type: audit.TransferExecuted, Actor: audit.System,
				OrganizationID: st.organizationID, UserID: st.requestedBy, Detail: st.about()}))
		}
		if err := tx.SetStatus(ctx, unit, change); err != nil {
			return err
		}
		for _, ev := range events {
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// decide is a send back or rejection by an approver, of the version seen
// the approver was shown, or the requester's cancellation (seen 0), with a
// comment.
func (s *Service) decide(ctx context.Context, u identity.User, unit Unit, d decision, seen int64, comment string) error {
	if d == decideCancel {
		if _, err := s.effective(ctx, u); err != nil {
			return err
		}
	} else if _, err := s.need(ctx, u, canApprove); err != nil {
		return err
	}
	if err := checkText(comment, MaxComment, d != decideSendBack, ErrInvalidComment); err != nil {
		return err
	}
	to, action, typ := StatusSentBack, HistorySentBack, audit.TransferSentBack
	switch d {
	case decideReject:
		to, action, typ = StatusRejected, HistoryRejected, audit.TransferRejected
	case decideCancel:
		to, action, typ = StatusCancelled, HistoryCancelled, audit.TransferCancelled
	}
	now := s.c.Now()
	actor := audit.UserActor(u.LoginID)
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		st, err := lockUnit(ctx, tx, unit)
		if err != nil {
			return err
		}
		if err := s.checkDecision(u, st, d, seen, now); err != nil {
			return err
		}
		if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: unit.TransferID, BatchID: unit.BatchID, At: now,
			Actor: actor, UserID: u.ID, Action: action, Comment: comment}); err != nil {
			return err
		}
		if err := tx.SetStatus(ctx, unit, StatusChange{Status: to, At: now}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, withDetail(unit.about(audit.Event{At: now, Type: typ, Actor: actor,
			OrganizationID: u.OrganizationID, UserID: u.ID, Detail: comment}), st.about()))
	})
}
