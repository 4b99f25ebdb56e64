package banking

import (
	"context"
	"errors"
	"fmt"

	"kinko/internal/audit"
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
func (s *Service) ExecuteDue(ctx context.Context, today Date) (ExecuteResult, error) {
	units, err := s.c.Store.DueUnits(ctx, today)
	if err != nil {
		return ExecuteResult{}, err
	}
	var res ExecuteResult
	var errs []error
	for _, u := range units {
		st, err := s.c.Store.ExecuteScheduled(ctx, u, today, s.c.Now())
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

// InterbankPending returns the executed transfers to other banks dated on or
// before through that have not been written to an interbank file yet, in
// order of ID, for the bank's job that writes the outgoing file.
func (s *Service) InterbankPending(ctx context.Context, through Date) ([]Transfer, error) {
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
	ev := audit.Event{At: now, Type: audit.TransferInterbankSent, Actor: actor,
		Detail: fmt.Sprintf("%d transfers to file %s", len(ids), fileName)}
	return s.c.Store.MarkInterbankSent(ctx, ids, fileName, actor, now, ev)
}
