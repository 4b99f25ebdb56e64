package web

import (
	"errors"
	"net/http"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/banking"
)

// pathPayees is 振込先 (registered payees).
const pathPayees = "/payees"

// payeesPage is the data of the payees page.
type payeesPage struct {
	Payees   []payeeView
	Form     transferForm // the registration as typed
	Nickname string
	Types    []typeOption
	BankCode string
	Errors   map[string]string
	Notice   string
	// Picker is the search for the bank and the branch.
	Picker bankPicker
}

// payees is GET /payees (transfer-request privilege): the registered
// payees, each to use in a transfer or delete, and the registration form.
func (h *Handler) payees(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d := payeesPage{Form: transferForm{BankCode: h.c.Banking.BankCode(), AccountType: string(banking.Ordinary)}}
	if q := r.URL.Query(); q.Get("account_number") != "" {
		// The form filled with a transfer's payee (「この振込先を登録する」).
		d.Form = transferForm{BankCode: q.Get("bank_code"), BranchCode: q.Get("branch_code"), AccountType: q.Get("account_type"),
			AccountNumber: q.Get("account_number"), PayeeName: q.Get("payee_name")}
	}
	if h.restoreTyped(r) {
		d.Form, d.Nickname = transferFormOf(r), strings.TrimSpace(r.PostForm.Get("nickname"))
	}
	switch r.URL.Query().Get("done") {
	case "registered":
		d.Notice = "page.payees.registered"
	case "deleted":
		d.Notice = "page.payees.deleted"
	}
	h.renderPayees(w, r, p, http.StatusOK, d)
}

// registerPayee is POST /payees: the payee is registered (its name
// converted to Zengin half-width kana; at this bank the account must exist).
func (h *Handler) registerPayee(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	f := transferFormOf(r)
	d := payeesPage{Form: f, Nickname: strings.TrimSpace(r.PostForm.Get("nickname")), Errors: map[string]string{}}
	if bp, ok := h.pickBank(r, &d.Form, d.Errors); ok {
		d.Picker = bp
		status := http.StatusOK
		if len(d.Errors) > 0 {
			status = http.StatusBadRequest
		}
		h.renderPayees(w, r, p, status, d)
		return nil
	}
	acct, _ := h.checkPayee(r, f, d.Errors)
	if len(d.Errors) > 0 {
		h.renderPayees(w, r, p, http.StatusBadRequest, d)
		return nil
	}
	_, err := h.c.Banking.RegisterPayee(r.Context(), p.User, banking.Payee{PayeeAccount: acct, Nickname: d.Nickname})
	if err != nil {
		if errors.Is(err, banking.ErrForbidden) {
			return err
		}
		status, text := h.bankingText(r, err)
		field := fieldOf(err)
		if errors.Is(err, banking.ErrPayeeExists) {
			field = ""
		}
		d.Errors[field] = text
		h.renderPayees(w, r, p, status, d)
		return nil
	}
	http.Redirect(w, r, pathPayees+"?done=registered", http.StatusSeeOther)
	return nil
}

// deletePayee is POST /payees/{id}/delete: the payee is removed; transfers
// made to it keep their copy of its account.
func (h *Handler) deletePayee(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err == nil {
		err = h.c.Banking.DeletePayee(r.Context(), p.User, id)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, pathPayees+"?done=deleted", http.StatusSeeOther)
	return nil
}

func (h *Handler) renderPayees(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, d payeesPage) {
	list, err := h.c.Banking.Payees(r.Context(), p.User)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	for _, py := range list {
		v := h.payeeOf(py.PayeeAccount)
		v.ID, v.Nickname = py.ID, py.Nickname
		d.Payees = append(d.Payees, v)
	}
	d.Types, d.BankCode = payeeTypes, h.c.Banking.BankCode()
	h.nameCodes(&d.Picker, d.Form)
	h.render(w, r, status, "payees", &view{Member: memberOf(p), Page: "payees", Data: d})
}
