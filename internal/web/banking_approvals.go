package web

import (
	"context"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/banking"
)

// pathApprovals is 承認.
const pathApprovals = "/approvals"

// approvalsPage is the data of the list of what awaits the user's approval.
type approvalsPage struct {
	Transfers []transferView
	Batches   []batchView
}

// awaitingApproval returns the transfers (not items of batches) and batches
// awaiting approval that u may approve: those u did not request. At most
// one page of each (500).
func (h *Handler) awaitingApproval(ctx context.Context, p auth.Principal, dir directory) ([]transferView, []batchView, error) {
	tp, err := h.c.Banking.Transfers(ctx, p.User, banking.TransferQuery{Statuses: []banking.Status{banking.StatusAwaitingApproval},
		PerPage: banking.MaxPerPage})
	if err != nil {
		return nil, nil, err
	}
	var ts []transferView
	var mine []banking.Transfer
	for _, t := range tp.Transfers {
		if t.RequestedBy != p.User.ID {
			ts = append(ts, h.transferOf(dir, t))
			mine = append(mine, t)
		}
	}
	h.markNewPayees(ctx, p, ts, mine)
	var bs []batchView
	for page := 1; page <= 10; page++ {
		bp, err := h.c.Banking.Batches(ctx, p.User, page, banking.MaxPerPage)
		if err != nil {
			return nil, nil, err
		}
		for _, b := range bp.Batches {
			if b.Status == banking.StatusAwaitingApproval && b.RequestedBy != p.User.ID {
				bs = append(bs, batchOf(dir, b))
			}
		}
		if page*bp.PerPage >= bp.Total {
			break
		}
	}
	return ts, bs, nil
}

// approvals is GET /approvals (approval privilege): the transfers and
// batches awaiting approval that the user may approve (not their own).
func (h *Handler) approvals(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	dir, err := h.directoryOf(r.Context(), p)
	if err != nil {
		return err
	}
	ts, bs, err := h.awaitingApproval(r.Context(), p, dir)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "approvals", &view{Member: memberOf(p), Page: "approvals", Data: approvalsPage{Transfers: ts, Batches: bs}})
	return nil
}
