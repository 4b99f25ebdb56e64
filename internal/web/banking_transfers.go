package web

import (
	"net/http"
	"net/url"
	"strconv"

	"kinko/internal/auth"
	"kinko/internal/banking"
)

// pathTransfers is 振込一覧.
const pathTransfers = "/transfers"

// transfersPage is the data of the list of transfers.
type transfersPage struct {
	Status    string // the filter; "" for all
	Statuses  []statusOption
	Transfers []transferView
	Total     int
	Pager     pager
	Batches   []batchView
	CanCreate bool // the user may request transfers
}

// statusOption is a status the filter offers.
type statusOption struct {
	Value string
	Key   string
}

// transfers is GET /transfers?status=&page= (any banking privilege): the
// organization's transfers, newest first, and its batches.
func (h *Handler) transfers(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	d := transfersPage{}
	for _, s := range statuses {
		d.Statuses = append(d.Statuses, statusOption{Value: string(s), Key: statusKeys[s]})
	}
	query := banking.TransferQuery{}
	if s := banking.Status(q.Get("status")); statusKeys[s] != "" {
		d.Status, query.Statuses = string(s), []banking.Status{s}
	}
	query.Page, _ = strconv.Atoi(q.Get("page"))
	tp, err := h.c.Banking.Transfers(r.Context(), p.User, query)
	if err != nil {
		return err
	}
	dir, err := h.directoryOf(r.Context(), p)
	if err != nil {
		return err
	}
	for _, t := range tp.Transfers {
		d.Transfers = append(d.Transfers, h.transferOf(dir, t))
	}
	d.Total = tp.Total
	pages := (tp.Total + tp.PerPage - 1) / tp.PerPage
	d.Pager = pager{Page: tp.Page, Pages: pages}
	link := url.Values{}
	if d.Status != "" {
		link.Set("status", d.Status)
	}
	if tp.Page > 1 {
		link.Set("page", strconv.Itoa(tp.Page-1))
		d.Pager.Prev = pathTransfers + "?" + link.Encode()
	}
	if tp.Page < pages {
		link.Set("page", strconv.Itoa(tp.Page+1))
		d.Pager.Next = pathTransfers + "?" + link.Encode()
	}
	if tp.Page <= 1 {
		bp, err := h.c.Banking.Batches(r.Context(), p.User, 1, 20)
		if err != nil {
			return err
		}
		for _, b := range bp.Batches {
			if d.Status == "" || string(b.Status) == d.Status {
				d.Batches = append(d.Batches, batchOf(dir, b))
			}
		}
	}
	if pr, err := h.privilegesOf(r.Context(), p); err == nil {
		d.CanCreate = pr.TransferRequest
	}
	h.render(w, r, http.StatusOK, "transfers", &view{Member: memberOf(p), Page: "transfers", Data: d})
	return nil
}
