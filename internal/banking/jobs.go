package banking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"kinko/internal/audit"
	"kinko/internal/calendar"
)

// ExecuteResult is what a run of ExecuteDue did.
type ExecuteResult struct {
	Executed []Unit // executed now
	Failed   []Unit // 不能: too little money on the day
}

// ExecuteDue executes the scheduled transfers and batches dated today or
// before (a job, run at the start of each day and again during it; several
// servers may run it at once: each unit is executed once). A unit that
// finds too little money in its account becomes failed, with the reason in
// its history. An error with one unit does not stop the others; the errors
// are returned together.
func (s *Service) ExecuteDue(ctx context.Context, today calendar.Date) (ExecuteResult, error) {
	units, err := s.c.Store.DueUnits(ctx, today)
	if err != nil {
		return ExecuteResult{}, err
	}
	var res ExecuteResult
	var errs []error
	for _, u := range units {
		st, err := s.executeScheduled(ctx, u, today, s.c.Now())
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("banking: execute %s: %w", u, err))
		case st == StatusExecuted:
			res.Executed = append(res.Executed, u)
		case st == StatusFailed:
			res.Failed = append(res.Failed, u)
		}
	}
	return res, errors.Join(errs...)
}

// executeScheduled executes unit u if it is still scheduled and due, or
// marks it failed when the money is not there. It reports the status the
// unit ended in, or "" when it was no longer scheduled and due (executed by
// another run meanwhile).
func (s *Service) executeScheduled(ctx context.Context, u Unit, today calendar.Date, at time.Time) (Status, error) {
	var result Status
	err := s.c.Store.InTx(ctx, func(tx Tx) error {
		result = ""
		st, err := lockUnit(ctx, tx, u)
		if err != nil {
			return err
		}
		if st.status != StatusScheduled || st.date.After(today) {
			return nil
		}
		err = executeItems(ctx, tx, st.items, st.kind, today, at, audit.System)
		switch {
		case errors.Is(err, ErrInsufficientFunds):
			// Nothing was written before the funds were checked.
			if err := tx.SetStatus(ctx, u, StatusChange{Status: StatusFailed, At: at, FailureReason: failedReason}); err != nil {
				return err
			}
			if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: u.TransferID, BatchID: u.BatchID, At: at,
				Actor: audit.System, Action: HistoryFailed, Comment: failedReason}); err != nil {
				return err
			}
			result = StatusFailed
			return tx.AppendAudit(ctx, u.about(audit.Event{At: at, Type: audit.TransferFailed, Actor: audit.System,
				OrganizationID: st.organizationID, UserID: st.requestedBy, Detail: st.about() + ": " + failedReason}))
		case err != nil:
			return err
		}
		if err := tx.SetStatus(ctx, u, StatusChange{Status: StatusExecuted, At: at, ExecutedAt: at}); err != nil {
			return err
		}
		result = StatusExecuted
		return tx.AppendAudit(ctx, u.about(audit.Event{At: at, Type: audit.TransferExecuted, Actor: audit.System,
			OrganizationID: st.organizationID, UserID: st.requestedBy, Detail: st.about()}))
	})
	if err != nil {
		return "", err
	}
	return result, nil
}

// InterbankPending returns the executed transfers to other banks dated on or
// before through that have not been written to an interbank file yet, in
// order of ID, for the bank's job that writes the outgoing file.
func (s *Service) InterbankPending(ctx context.Context, through calendar.Date) ([]Transfer, error) {
	return s.c.Store.InterbankPending(ctx, through)
}

// MarkInterbankSent records that the transfers ids were written to the
// outgoing interbank file fileName: all of them, or none when one of them
// is not pending.
func (s *Service) MarkInterbankSent(ctx context.Context, ids []int64, fileName, operator string) error {
	if len(ids) == 0 {
		return fmt.Errorf("%w: no transfers", ErrInvalidBatch)
	}
	if err := checkText(fileName, MaxSourceFile, false, ErrInvalidBatch); err != nil {
		return err
	}
	now := s.c.Now()
	actor := audit.OperatorActor(operator)
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	return s.c.Store.InTx(ctx, func(tx Tx) error {
		var total int64
		for _, id := range sorted {
			t, err := tx.LockTransfer(ctx, id)
			switch {
			case err != nil:
				return fmt.Errorf("transfer %d: %w", id, err)
			case !t.Interbank || t.Status != StatusExecuted:
				return fmt.Errorf("transfer %d is not an executed interbank transfer: %w", id, ErrInvalidState)
			case !t.InterbankSentAt.IsZero():
				return fmt.Errorf("transfer %d: %w", id, ErrInterbankAlreadyWritten)
			}
			if err := tx.SetInterbankSent(ctx, id, fileName, now); err != nil {
				return err
			}
			if err := tx.AppendHistory(ctx, HistoryEntry{TransferID: id, BatchID: t.BatchID, At: now, Actor: actor,
				Action: HistoryInterbankSent, Comment: fileName}); err != nil {
				return err
			}
			total += t.Amount
		}
		return tx.AppendAudit(ctx, audit.Event{At: now, Type: audit.TransferInterbankSent, Actor: actor,
			Detail: fmt.Sprintf("%d transfers to file %s, total %d", len(ids), fileName, total)})
	})
}
