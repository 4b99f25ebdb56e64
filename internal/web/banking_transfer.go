package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// transferPage is the data of a transfer's page, in the list of transfers
// (/transfers/{id}) or among the approvals (/approvals/{id}).
type transferPage struct {
	Transfer transferView
	History  []historyView
	// Approval: the page of an approver, with the three decisions.
	Approval   bool
	CanDecide  bool // awaiting approval, the user may approve and did not request it
	OwnRequest bool // the user requested it (and so may not approve it)
	CanCancel  bool // the requester, awaiting approval or sent back
	CanEdit    bool // the requester, sent back
	Notice     string
	Errors     map[string]string
	Comment    string // as typed, kept on a refusal
	Action     string // the refused action: approve, send_back, reject, cancel
	DecideURL  string // where the decisions go
	// Version and Shown are what the decision forms carry of the transfer
	// shown (see banking_changes.go); Changes, after a decision refused
	// because the transfer changed, what changed since the page was shown.
	Version int64
	Shown   string
	Changes []changeView
	// RegisterPayee is the payee form filled with this transfer's payee,
	// offered to its requester when the payee is not registered.
	RegisterPayee string
}

// noticeKeys are the confirmations a transfer's or batch's page shows after
// a decision (?done=).
var noticeKeys = map[string]string{
	"approved":  "banking.notice.approved",
	"scheduled": "banking.notice.scheduled",
	"sent_back": "banking.notice.sent_back",
	"rejected":  "banking.notice.rejected",
	"cancelled": "banking.notice.cancelled",
	"requested": "banking.notice.batch_requested",
}

// transfer is GET /transfers/{id} (any banking privilege): a transfer with
// its history; its requester may cancel it or correct a sent-back one.
func (h *Handler) transfer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderTransfer(w, r, p, false, http.StatusOK, "", nil, false)
}

// approval is GET /approvals/{id} (approval privilege): a transfer awaiting
// approval with approve (confirmation password), send back and reject.
func (h *Handler) approval(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderTransfer(w, r, p, true, http.StatusOK, "", nil, false)
}

// renderTransfer shows a transfer's page; action and errs, if any, are a
// refused decision and why, and changed that it was refused because the
// transfer changed since the page the decision came from.
func (h *Handler) renderTransfer(w http.ResponseWriter, r *http.Request, p auth.Principal, approval bool, status int,
	action string, errs map[string]string, changed bool) {
	id, err := pathID(r, "id")
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	t, err := h.c.Banking.Transfer(r.Context(), p.User, id)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	if t.BatchID != 0 && approval {
		http.Redirect(w, r, fmt.Sprintf("/approvals/batches/%d", t.BatchID), http.StatusSeeOther)
		return
	}
	hs, err := h.c.Banking.TransferHistory(r.Context(), p.User, id)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	dir, err := h.directoryOf(r.Context(), p)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	pr, err := h.privilegesOf(r.Context(), p)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	own := t.RequestedBy == p.User.ID
	views := []transferView{h.transferOf(dir, t)}
	h.markNewPayees(r.Context(), p, views, []banking.Transfer{t})
	d := transferPage{Transfer: views[0], History: h.historyOf(r, dir, hs), Approval: approval,
		OwnRequest: own, Errors: errs, Action: action,
		CanDecide: pr.Approval && !own && t.Status == banking.StatusAwaitingApproval && t.BatchID == 0,
		CanCancel: own && t.BatchID == 0 && (t.Status == banking.StatusAwaitingApproval || t.Status == banking.StatusSentBack),
		CanEdit:   own && t.BatchID == 0 && t.Status == banking.StatusSentBack && pr.TransferRequest,
		DecideURL: fmt.Sprintf("/approvals/%d", t.ID),
		Version:   t.Version,
	}
	if own && pr.TransferRequest && views[0].NewPayee && !approval {
		d.RegisterPayee = registerPayeeLink(views[0].Payee)
	}
	fields := h.transferFields(dir, t)
	d.Shown = encodeShown(fields)
	if changed {
		d.Changes = changesOf(r, fields)
	}
	if k, ok := noticeKeys[r.URL.Query().Get("done")]; ok && r.Method == http.MethodGet {
		d.Notice = k
	}
	if r.Method == http.MethodPost {
		d.Comment = strings.TrimSpace(r.PostForm.Get("comment"))
	}
	page := "transfers"
	if approval {
		page = "approvals"
	}
	h.render(w, r, status, "transfer", &view{Member: memberOf(p), Page: page, Data: d})
}

// decision is one of the approver's decisions on a transfer or a batch.
type decision struct {
	name     string // approve, send_back, reject
	done     string // the notice on success
	password bool   // needs the confirmation password
	comment  bool   // needs a comment
	transfer func(h *Handler, r *http.Request, u identity.User, id, seen int64, value string) (banking.Status, error)
	batch    func(h *Handler, r *http.Request, u identity.User, id, seen int64, value string) (banking.Status, error)
}

// decisions are the approver's decisions.
var decisions = map[string]decision{
	"approve": {name: "approve", done: "approved", password: true,
		transfer: func(h *Handler, r *http.Request, u identity.User, id, seen int64, pw string) (banking.Status, error) {
			t, err := h.c.Banking.Approve(r.Context(), u, id, seen, pw)
			return t.Status, err
		},
		batch: func(h *Handler, r *http.Request, u identity.User, id, seen int64, pw string) (banking.Status, error) {
			b, err := h.c.Banking.ApproveBatch(r.Context(), u, id, seen, pw)
			return b.Status, err
		}},
	"send-back": {name: "send_back", done: "sent_back", comment: true,
		transfer: func(h *Handler, r *http.Request, u identity.User, id, seen int64, c string) (banking.Status, error) {
			t, err := h.c.Banking.SendBack(r.Context(), u, id, seen, c)
			return t.Status, err
		},
		batch: func(h *Handler, r *http.Request, u identity.User, id, seen int64, c string) (banking.Status, error) {
			b, err := h.c.Banking.SendBackBatch(r.Context(), u, id, seen, c)
			return b.Status, err
		}},
	"reject": {name: "reject", done: "rejected", comment: true,
		transfer: func(h *Handler, r *http.Request, u identity.User, id, seen int64, c string) (banking.Status, error) {
			t, err := h.c.Banking.Reject(r.Context(), u, id, seen, c)
			return t.Status, err
		},
		batch: func(h *Handler, r *http.Request, u identity.User, id, seen int64, c string) (banking.Status, error) {
			b, err := h.c.Banking.RejectBatch(r.Context(), u, id, seen, c)
			return b.Status, err
		}},
}

// decide is POST /approvals/{id}/{approve|send-back|reject} and
// /approvals/batches/{id}/...: the decision, then the page with a
// confirmation; a refusal (wrong password, no money, no comment) shows the
// page again with the reason next to the field. The forms carry the version
// of the transfer or batch they showed: when it changed since, nothing is
// done and the page shows it as it is now, with what changed.
func (h *Handler) decide(batch bool) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
		dc, ok := decisions[r.PathValue("decision")]
		if !ok {
			h.refuseBanking(w, r, p, httpedge.ErrNoPage)
			return
		}
		id, err := pathID(r, "id")
		if err != nil {
			h.refuseBanking(w, r, p, err)
			return
		}
		value, field := strings.TrimSpace(r.PostForm.Get("comment")), "comment"
		if dc.password {
			value, field = r.PostForm.Get("confirmation_password"), "confirmation_password"
		}
		switch {
		case value == "" && dc.password:
			err = httpedge.ErrRequired
		case value == "" && dc.comment:
			err = httpedge.ErrCommentNeeded
		}
		var st banking.Status
		if err == nil {
			if batch {
				st, err = dc.batch(h, r, p.User, id, seenVersion(r), value)
			} else {
				st, err = dc.transfer(h, r, p.User, id, seenVersion(r), value)
			}
		}
		if err != nil {
			if h.lockedOut(w, r, err) {
				return
			}
			status, text := h.bankingText(r, err)
			if errors.Is(err, banking.ErrNotFound) || errors.Is(err, banking.ErrForbidden) || errors.Is(err, httpedge.ErrNoPage) {
				h.refuseBanking(w, r, p, err)
				return
			}
			if !errors.Is(err, identity.ErrInvalidConfirmation) && !errors.Is(err, httpedge.ErrRequired) && !errors.Is(err, httpedge.ErrCommentNeeded) &&
				!errors.Is(err, banking.ErrInvalidComment) {
				field = ""
			}
			errs := map[string]string{field: text}
			changed := errors.Is(err, banking.ErrTransferChanged)
			if batch {
				h.renderBatch(w, r, p, true, status, dc.name, errs, changed)
			} else {
				h.renderTransfer(w, r, p, true, status, dc.name, errs, changed)
			}
			return
		}
		done := dc.done
		if st == banking.StatusScheduled {
			done = "scheduled"
		}
		target := "/approvals/" + strconv.FormatInt(id, 10)
		if batch {
			target = "/approvals/batches/" + strconv.FormatInt(id, 10)
		}
		http.Redirect(w, r, target+"?done="+done, http.StatusSeeOther)
	}
}

// cancelTransfer is POST /transfers/{id}/cancel: the requester withdraws a
// transfer awaiting approval or sent back.
func (h *Handler) cancelTransfer(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err == nil {
		_, err = h.c.Banking.Cancel(r.Context(), p.User, id, strings.TrimSpace(r.PostForm.Get("comment")))
	}
	if err != nil {
		if errors.Is(err, banking.ErrInvalidState) || errors.Is(err, banking.ErrInvalidComment) {
			status, text := h.bankingText(r, err)
			h.renderTransfer(w, r, p, false, status, "cancel", map[string]string{"": text}, false)
			return nil
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/transfers/%d?done=cancelled", id), http.StatusSeeOther)
	return nil
}

// editTransferForm is GET /transfers/{id}/edit: the entry form of a
// sent-back transfer, filled in, to correct and resubmit.
func (h *Handler) editTransferForm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.c.Banking.Transfer(r.Context(), p.User, id)
	if err != nil {
		return err
	}
	if t.RequestedBy != p.User.ID || t.BatchID != 0 {
		return banking.ErrForbidden
	}
	if t.Status != banking.StatusSentBack {
		return banking.ErrInvalidState
	}
	f := transferForm{FromAccount: strconv.FormatInt(t.FromAccountID, 10), BankCode: t.Payee.BankCode,
		BranchCode: t.Payee.BranchCode, AccountType: string(t.Payee.AccountType), AccountNumber: t.Payee.AccountNumber,
		PayeeName: t.Payee.Name, Amount: strconv.FormatInt(t.Amount, 10), Memo: t.Memo,
		ExecutionDate: t.ExecutionDate.String()}
	f.FeePayer = string(t.FeePayer)
	if today := calendar.DateOf(h.c.Now()); t.ExecutionDate.Before(today) {
		f.ExecutionDate = today.String()
	}
	if h.restoreTyped(r) {
		f = typedTransferForm(r, "")
	}
	h.renderTransferEntry(w, r, p, fmt.Sprintf("/transfers/%d/edit", id), id, f, http.StatusOK, nil)
	return nil
}

// editTransfer is POST /transfers/{id}/edit: the steps of the entry form
// for the resubmission of a sent-back transfer.
func (h *Handler) editTransfer(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.c.Banking.Transfer(r.Context(), p.User, id); err != nil {
		return err
	}
	h.transferStep(w, r, p, fmt.Sprintf("/transfers/%d/edit", id), id)
	return nil
}
