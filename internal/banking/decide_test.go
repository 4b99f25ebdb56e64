package banking

import (
	"errors"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// TestCheckDecision checks the rule that decides, under the lock, who may
// approve, send back, reject or cancel a unit in which state.
func TestCheckDecision(t *testing.T) {
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, calendar.JST)
	today := calendar.DateOf(now)
	s := &Service{c: Config{ExecutionDate: DefaultExecutionDate}}
	approver := identity.User{ID: 2, OrganizationID: 1}
	requester := identity.User{ID: 1, OrganizationID: 1}
	pending := unitState{unit: Unit{TransferID: 9}, organizationID: 1, status: StatusAwaitingApproval, requestedBy: 1, date: today}
	with := func(change func(*unitState)) unitState {
		st := pending
		change(&st)
		return st
	}
	cases := []struct {
		name string
		u    identity.User
		st   unitState
		d    decision
		want error
	}{
		{"approve", approver, pending, decideApprove, nil},
		{"send back", approver, pending, decideSendBack, nil},
		{"reject", approver, pending, decideReject, nil},
		{"cancel", requester, pending, decideCancel, nil},
		{"cancel after a send back", requester, with(func(st *unitState) { st.status = StatusSentBack }), decideCancel, nil},
		{"another organization", identity.User{ID: 2, OrganizationID: 5}, pending, decideApprove, ErrNotFound},
		{"an item of a batch of another organization", identity.User{ID: 2, OrganizationID: 5},
			with(func(st *unitState) { st.batchItem = true }), decideApprove, ErrNotFound},
		{"an item of a batch", approver, with(func(st *unitState) { st.batchItem = true }), decideApprove, ErrBatchItem},
		{"approve own", requester, pending, decideApprove, ErrSelfApprovalForbidden},
		{"send back own", requester, pending, decideSendBack, ErrSelfApprovalForbidden},
		{"reject own", requester, pending, decideReject, ErrSelfApprovalForbidden},
		{"cancel by someone else", approver, pending, decideCancel, ErrForbidden},
		{"approve twice", approver, with(func(st *unitState) { st.status = StatusExecuted }), decideApprove, ErrInvalidState},
		{"approve a sent-back unit", approver, with(func(st *unitState) { st.status = StatusSentBack }), decideApprove, ErrInvalidState},
		{"cancel a scheduled unit", requester, with(func(st *unitState) { st.status = StatusScheduled }), decideCancel, ErrInvalidState},
		{"approve after the execution date", approver, with(func(st *unitState) { st.date = today.AddDays(-1) }), decideApprove, ErrExecutionDatePassed},
		{"reject after the execution date", approver, with(func(st *unitState) { st.date = today.AddDays(-1) }), decideReject, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.checkDecision(c.u, c.st, c.d, now); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Errorf("checkDecision: %v, want %v", err, c.want)
			}
		})
	}
}

// TestReplay: an idempotency key replays its unit for the same request and
// is a conflict for another.
func TestReplay(t *testing.T) {
	u := Unit{TransferID: 3}
	if got, err := replay("h", "h", u); err != nil || got != u {
		t.Errorf("replay of the same request: %v, %v; want %v", got, err, u)
	}
	if _, err := replay("h", "other", u); !errors.Is(err, ErrIdempotencyConflict) {
		t.Errorf("replay of another request: %v, want ErrIdempotencyConflict", err)
	}
}
