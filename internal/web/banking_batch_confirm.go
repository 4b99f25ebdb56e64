package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
)

// pathBatchDraft is where an upload awaits its confirmation.
const pathBatchDraft = "/batch-uploads"

// batchConfirmPage is the data of the confirmation of an upload: what will
// be requested on 「依頼する」.
type batchConfirmPage struct {
	ID         int64
	From       accountView
	SourceFile string
	Kind       string // general, salary, bonus
	KindKey    string
	Payroll    bool
	Count      int
	Total      money
	// Fees are the items' fees (振込手数料, each 当方負担), Debited what
	// leaves the account with them.
	Fees    money
	Debited money
	Items   []draftItem
	// ExecutionDate is the date that will be used; Requested the date
	// asked for, from the file (FromFile) or the page; Reason why they
	// differ, in the user's language ("" when they do not).
	ExecutionDate time.Time
	Requested     time.Time
	FromFile      bool
	Reason        string
	// PayrollLastDay and PayrollDeadline are a payroll file's deadline.
	PayrollLastDay  time.Time
	PayrollDeadline time.Time
	ExpiresAt       time.Time
	Error           string
}

// draftItem is an item of an upload, numbered from 1.
type draftItem struct {
	No int
	transferView
}

// batchKindKeys are the catalogue keys of the kinds of batches.
var batchKindKeys = map[banking.BatchKind]string{
	banking.BatchGeneral: "banking.batch_kind.general",
	banking.BatchSalary:  "banking.batch_kind.salary",
	banking.BatchBonus:   "banking.batch_kind.bonus",
}

// batchConfirm is GET /batch-uploads/{id} (transfer-request privilege):
// the confirmation of an upload, with every item, the count, the total and
// the execution date that will be used and why.
func (h *Handler) batchConfirm(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderBatchConfirm(w, r, p, http.StatusOK, "")
}

// renderBatchConfirm shows the confirmation of the upload of the path,
// with an error when there is one.
func (h *Handler) renderBatchConfirm(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, errText string) {
	id, err := pathID(r, "id")
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	d, err := h.c.Banking.BatchDraft(r.Context(), p.User, id)
	if err != nil {
		if errors.Is(err, banking.ErrNotFound) || errors.Is(err, banking.ErrForbidden) {
			h.refuseBanking(w, r, p, err)
			return
		}
		// The upload can no longer be requested as it is (the deadline
		// passed, a limit changed): the form says why.
		st, text := h.bankingText(r, err)
		h.renderBatchForm(w, r, p, st, batchNewPage{Error: text})
		return
	}
	dir, err := h.directoryOf(r.Context(), p)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	v := batchConfirmPage{ID: d.ID, From: dir.account(d.Batch.FromAccountID), SourceFile: d.Batch.SourceFile,
		Kind: string(d.Batch.Kind), KindKey: batchKindKeys[d.Batch.Kind], Payroll: d.Batch.Kind.Payroll(),
		Count: d.Batch.Count, Total: money(d.Batch.Total), ExecutionDate: d.Batch.ExecutionDate.Time(),
		Requested: d.Requested.Time(), FromFile: d.Source == banking.DateFromFile, ExpiresAt: d.ExpiresAt, Error: errText}
	if d.Reason.Moved() {
		v.Reason = d.Reason.Ja()
		if language(r) == langEN {
			v.Reason = d.Reason.En()
		}
	}
	if v.Payroll {
		v.PayrollLastDay, v.PayrollDeadline = d.PayrollLastDay.Time(), d.PayrollDeadline
	}
	for i, t := range d.Items {
		v.Items = append(v.Items, draftItem{No: i + 1, transferView: h.transferOf(dir, t)})
	}
	fees := banking.TotalFees(d.Items)
	v.Fees, v.Debited = money(fees), money(d.Batch.Total+fees)
	h.render(w, r, status, "batch_confirm", &view{Member: memberOf(p), Page: "transfers", Data: v})
}

// confirmBatch is POST /batch-uploads/{id}/confirm (「依頼する」): the
// upload is requested as a batch awaiting approval, whose page is shown
// next.
func (h *Handler) confirmBatch(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	b, err := h.c.Banking.ConfirmBatch(r.Context(), p.User, id)
	if err != nil {
		if errors.Is(err, banking.ErrNotFound) || errors.Is(err, banking.ErrForbidden) {
			h.refuseBanking(w, r, p, err)
			return
		}
		status, text := h.bankingText(r, err)
		h.renderBatchConfirm(w, r, p, status, text)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/batches/%d?done=requested", b.ID), http.StatusSeeOther)
}

// discardBatch is POST /batch-uploads/{id}/discard (取り消す): the
// upload is dropped and nothing is requested.
func (h *Handler) discardBatch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.c.Banking.DiscardBatch(r.Context(), p.User, id); err != nil {
		return err
	}
	http.Redirect(w, r, pathBatchUpload+"?done=discarded", http.StatusSeeOther)
	return nil
}
