package banking

import (
	"context"
	"fmt"
	"math"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
)

// requestCountingStatuses are the statuses of the transfers that count
// towards their requester's daily limit.
var requestCountingStatuses = []Status{StatusAwaitingApproval, StatusSentBack, StatusScheduled, StatusExecuted}

// approvedStatuses are the statuses of the transfers that count towards
// their organization's daily limit.
var approvedStatuses = []Status{StatusScheduled, StatusExecuted}

// failedReason is the reason a scheduled unit failed for lack of money.
const failedReason = "insufficient funds on the execution date (残高不足)"

// unitState is what a decision needs to know of a unit: a single transfer
// or a batch with its items.
type unitState struct {
	unit           Unit
	organizationID int64
	status         Status
	requestedBy    int64
	date           calendar.Date
	interbank      bool
	kind           BatchKind // of a batch
	batchItem      bool      // a transfer of a batch: not a unit of its own
	items          []Transfer
	total          int64
	version        int64
}

// about names the unit in an audit event's detail.
func (u unitState) about() string {
	if u.unit.BatchID != 0 {
		return fmt.Sprintf("batch %d count %d total %d", u.unit.BatchID, len(u.items), u.total)
	}
	return fmt.Sprintf("transfer %d amount %d", u.unit.TransferID, u.total)
}

// batchState is the state of a batch with its items.
func batchState(b Batch, items []Transfer) unitState {
	st := unitState{unit: Unit{BatchID: b.ID}, organizationID: b.OrganizationID, status: b.Status, requestedBy: b.RequestedBy,
		date: b.ExecutionDate, interbank: b.Interbank, kind: b.Kind, items: items, version: b.Version}
	for _, t := range items {
		st.total += t.Amount
	}
	return st
}

// transferState is the state of a single transfer.
func transferState(t Transfer) unitState {
	return unitState{unit: Unit{TransferID: t.ID}, organizationID: t.OrganizationID, status: t.Status, requestedBy: t.RequestedBy,
		date: t.ExecutionDate, interbank: t.Interbank, batchItem: t.BatchID != 0, items: []Transfer{t}, total: t.Amount,
		version: t.Version}
}

// lockUnit reads and locks a unit in tx.
func lockUnit(ctx context.Context, tx Tx, u Unit) (unitState, error) {
	if u.BatchID != 0 {
		b, items, err := tx.LockBatch(ctx, u.BatchID)
		if err != nil {
			return unitState{}, err
		}
		return batchState(b, items), nil
	}
	t, err := tx.LockTransfer(ctx, u.TransferID)
	if err != nil {
		return unitState{}, err
	}
	return transferState(t), nil
}

// about sets the typed fields of ev that name the unit: its transfer or
// its batch.
func (u Unit) about(ev audit.Event) audit.Event {
	ev.TransferID, ev.BatchID = u.TransferID, u.BatchID
	return ev
}

// withDetail puts what an event is about before the event's own detail.
func withDetail(ev audit.Event, about string) audit.Event {
	if ev.Detail != "" {
		about += ": " + ev.Detail
	}
	ev.Detail = about
	return ev
}

// executeItems books the items of a unit in tx: for each, a debit of its
// account by the amount sent, a posting of its fee (振込手数料) when it has
// one and, to an account here, a credit of the payee's by the amount sent,
// with the balances; all or none. The money for every item, fees included,
// must be there (ErrInsufficientFunds), and nothing is written before that is known. It
// appends each item's "executed" history.
func executeItems(ctx context.Context, tx Tx, items []Transfer, kind BatchKind, today calendar.Date, at time.Time, actor string) error {
	var ids []int64
	need := map[int64]int64{}
	for _, t := range items {
		ids = append(ids, t.FromAccountID)
		if t.ToAccountID != 0 {
			ids = append(ids, t.ToAccountID)
		}
		need[t.FromAccountID] += t.Debited()
	}
	accounts, err := tx.LockAccounts(ctx, ids)
	if err != nil {
		return err
	}
	balance := map[int64]int64{}
	holder := map[int64]string{}
	for _, a := range accounts {
		balance[a.ID], holder[a.ID] = a.Balance, a.HolderName
	}
	for _, id := range ids {
		if _, ok := balance[id]; !ok {
			return fmt.Errorf("banking: execute: account %d of the transfer is missing", id)
		}
	}
	for id, n := range need {
		if balance[id] < n {
			return ErrInsufficientFunds
		}
	}
	for _, t := range items {
		sent := t.Sent()
		balance[t.FromAccountID] -= sent
		what := "振込 " + t.Payee.Name
		if kind.Payroll() {
			// The statement of the paying account does not name the
			// payees of payroll.
			what = kind.Label()
		}
		debit := Posting{AccountID: t.FromAccountID, TransferID: t.ID, Kind: PostingDebit, Amount: -sent,
			BalanceAfter: balance[t.FromAccountID], Date: today, Description: description(what), CreatedAt: at}
		if err := tx.InsertPosting(ctx, &debit); err != nil {
			return err
		}
		if t.Fee > 0 {
			balance[t.FromAccountID] -= t.Fee
			fee := Posting{AccountID: t.FromAccountID, TransferID: t.ID, Kind: PostingFee, Amount: -t.Fee,
				BalanceAfter: balance[t.FromAccountID], Date: today, Description: FeeDescription, CreatedAt: at}
			if err := tx.InsertPosting(ctx, &fee); err != nil {
				return err
			}
		}
		if t.ToAccountID != 0 {
			if balance[t.ToAccountID] > math.MaxInt64-sent {
				return ErrInvalidAmount
			}
			balance[t.ToAccountID] += sent
			credit := Posting{AccountID: t.ToAccountID, TransferID: t.ID, Kind: PostingCredit, Amount: sent,
				BalanceAfter: balance[t.ToAccountID], Date: today, Description: description("振込 " + holder[t.FromAccountID]), CreatedAt: at}
			if err := tx.InsertPosting(ctx, &credit); err != nil {
				return err
			}
		}
		if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: t.ID, BatchID: t.BatchID, At: at, Actor: actor,
			Action: HistoryExecuted}); err != nil {
			return err
		}
	}
	for _, a := range accounts {
		if err := tx.SetBalance(ctx, a.ID, balance[a.ID]); err != nil {
			return err
		}
	}
	return nil
}

// FeeDescription is the description of a transfer's fee posting.
const FeeDescription = "振込手数料"

// description cuts a posting's description to MaxDescription characters.
func description(s string) string {
	r := []rune(s)
	if len(r) > MaxDescription {
		return string(r[:MaxDescription])
	}
	return s
}
