package web

import (
	"context"

	"kinko/internal/auth"
)

// homeBanking is the banking part of the top screen: the balances (with
// the inquiry privilege) and what awaits the user's approval (with the
// approval privilege).
type homeBanking struct {
	Inquiry   bool
	Request   bool
	Approval  bool
	Accounts  []accountView
	Transfers []transferView // awaiting the user's approval
	Batches   []batchView
}

// homeBankingOf gathers the banking part of the top screen; nil when the
// user may do nothing in banking.
func (h *Handler) homeBankingOf(ctx context.Context, p auth.Principal) (*homeBanking, error) {
	if h.c.Banking == nil {
		return nil, nil
	}
	pr, err := h.privilegesOf(ctx, p)
	if err != nil {
		return nil, err
	}
	if !pr.Inquiry && !pr.TransferRequest && !pr.Approval {
		return nil, nil
	}
	d := &homeBanking{Inquiry: pr.Inquiry, Request: pr.TransferRequest, Approval: pr.Approval}
	if pr.Inquiry {
		as, err := h.c.Banking.Accounts(ctx, p.User)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			d.Accounts = append(d.Accounts, accountOf(a))
		}
	}
	if pr.Approval {
		dir, err := h.directoryOf(ctx, p)
		if err != nil {
			return nil, err
		}
		if d.Transfers, d.Batches, err = h.awaitingApproval(ctx, p, dir); err != nil {
			return nil, err
		}
	}
	return d, nil
}
