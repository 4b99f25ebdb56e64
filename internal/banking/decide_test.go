package banking

import (
	"errors"
	"testing"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// TestCheckDecision checks the rule that decides, under the lock, who may
// approve, send back, reject or cancel a unit in which state, and that an
// approver decides on the version they saw.
func TestCheckDecision(t *testing.T) {
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, calendar.JST)
	today := calendar.DateOf(now)
	s := &Service{c: Config{ExecutionDate: DefaultExecutionDate}}
	approver := identity.User{ID: 2, OrganizationID: 1}
	requester := identity.User{ID: 1, OrganizationID: 1}
	pending := unitState{unit: Unit{TransferID: 9}, organizationID: 1, status: StatusAwaitingApproval, requestedBy: 1, date: today,
		version: 3}
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
		seen int64 // 0: the current version
	}{
		{"approve", approver, pending, decideApprove, nil, 0},
		{"send back", approver, pending, decideSendBack, nil, 0},
		{"reject", approver, pending, decideReject, nil, 0},
		{"cancel", requester, pending, decideCancel, nil, 0},
		{"cancel after a send back", requester, with(func(st *unitState) { st.status = StatusSentBack }), decideCancel, nil, 0},
		{"another organization", identity.User{ID: 2, OrganizationID: 5}, pending, decideApprove, ErrNotFound, 0},
		{"an item of a batch of another organization", identity.User{ID: 2, OrganizationID: 5},
			with(func(st *unitState) { st.batchItem = true }), decideApprove, ErrNotFound, 0},
		{"an item of a batch", approver, with(func(st *unitState) { st.batchItem = true }), decideApprove, ErrBatchItem, 0},
		{"approve own", requester, pending, decideApprove, ErrSelfApprovalForbidden, 0},
		{"send back own", requester, pending, decideSendBack, ErrSelfApprovalForbidden, 0},
		{"reject own", requester, pending, decideReject, ErrSelfApprovalForbidden, 0},
		{"cancel by someone else", approver, pending, decideCancel, ErrForbidden, 0},
		{"approve twice", approver, with(func(st *unitState) { st.status = StatusExecuted }), decideApprove, ErrInvalidState, 0},
		{"approve a sent-back unit", approver, with(func(st *unitState) { st.status = StatusSentBack }), decideApprove, ErrInvalidState, 0},
		{"cancel a scheduled unit", requester, with(func(st *unitState) { st.status = StatusScheduled }), decideCancel, ErrInvalidState, 0},
		{"approve after the execution date", approver, with(func(st *unitState) { st.date = today.AddDays(-1) }), decideApprove, ErrExecutionDatePassed, 0},
		{"reject after the execution date", approver, with(func(st *unitState) { st.date = today.AddDays(-1) }), decideReject, nil, 0},
		{"approve a version not seen", approver, pending, decideApprove, ErrTransferChanged, 2},
		{"send back a version not seen", approver, pending, decideSendBack, ErrTransferChanged, 2},
		{"reject a version not seen", approver, pending, decideReject, ErrTransferChanged, 4},
		{"approve a changed unit that is no longer awaiting approval", approver,
			with(func(st *unitState) { st.status = StatusSentBack }), decideApprove, ErrInvalidState, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := c.seen
			if seen == 0 && c.d != decideCancel {
				seen = c.st.version
			}
			if err := s.checkDecision(c.u, c.st, c.d, seen, now); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
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

// TestCheckDecision_VersionRequired: an approver's decision that names no
// version is refused, after the checks that say whether the unit may be
// decided on at all; the requester's cancellation needs none.
func TestCheckDecision_VersionRequired(t *testing.T) {
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, calendar.JST)
	s := &Service{c: Config{ExecutionDate: DefaultExecutionDate}}
	approver := identity.User{ID: 2, OrganizationID: 1}
	pending := unitState{unit: Unit{TransferID: 9}, organizationID: 1, status: StatusAwaitingApproval, requestedBy: 1,
		date: calendar.DateOf(now), version: 1}
	for _, d := range []decision{decideApprove, decideSendBack, decideReject} {
		if err := s.checkDecision(approver, pending, d, 0, now); !errors.Is(err, ErrVersionRequired) {
			t.Errorf("decision %d without a version: %v, want ErrVersionRequired", d, err)
		}
		if err := s.checkDecision(approver, pending, d, -1, now); !errors.Is(err, ErrTransferChanged) {
			t.Errorf("decision %d with no version of the unit: %v, want ErrTransferChanged", d, err)
		}
	}
	other := identity.User{ID: 2, OrganizationID: 5}
	if err := s.checkDecision(other, pending, decideApprove, 0, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("another organization's unit without a version: %v, want ErrNotFound", err)
	}
	if err := s.checkDecision(identity.User{ID: 1, OrganizationID: 1}, pending, decideCancel, 0, now); err != nil {
		t.Errorf("cancellation without a version: %v, want nil", err)
	}
}
