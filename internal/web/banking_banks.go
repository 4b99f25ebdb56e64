package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/zengin"
)

// The search for a bank and a branch by name, kana or code on the transfer
// and payee forms. Without JavaScript it is a step of the form: the search
// buttons (bank_search, branch_search) show the form again with the
// matches, each a button (pick_bank, pick_branch) that fills the code in;
// what was typed elsewhere is kept. With JavaScript, static/js/banks.js
// asks GET /api/v1/banks as the user types.

// maxBankMatches bounds the matches a search shows.
const maxBankMatches = 20

// bankPicker is the search's part of a form.
type bankPicker struct {
	BankQ, BranchQ               string
	Banks                        []zengin.Bank
	Branches                     []zengin.Branch
	BankSearched, BranchSearched bool
	// BankName and BranchName are the names of the codes in the form.
	BankName, BranchName string
}

// pickBank applies a step of the search to the form (a code picked) and
// returns the search's part of the page; it reports false when the request
// is not a step of the search. A branch searched for a bank code that is
// not known is an error on the bank code.
func (h *Handler) pickBank(r *http.Request, f *transferForm, errs map[string]string) (bankPicker, bool) {
	pf := r.PostForm
	bp := bankPicker{BankQ: strings.TrimSpace(pf.Get("bank_q")), BranchQ: strings.TrimSpace(pf.Get("branch_q"))}
	dir := h.c.Banking.Banks()
	step := false
	if v := digitsOf(pf.Get("pick_bank")); v != "" {
		if v != f.BankCode {
			f.BranchCode = ""
		}
		f.BankCode, bp.BankQ, step = v, "", true
	}
	if v := digitsOf(pf.Get("pick_branch")); v != "" {
		f.BranchCode, bp.BranchQ, step = v, "", true
	}
	if pf.Has("bank_search") {
		bp.Banks, bp.BankSearched, step = dir.SearchBanks(bp.BankQ, maxBankMatches), true, true
	}
	if pf.Has("branch_search") {
		step = true
		list, ok := dir.SearchBranches(digitsOf(f.BankCode), bp.BranchQ, maxBankMatches)
		if !ok {
			_, errs["bank_code"] = h.bankingText(r, banking.ErrUnknownBank)
		}
		bp.Branches, bp.BranchSearched = list, true
	}
	h.nameCodes(&bp, *f)
	return bp, step
}

// nameCodes sets the names of the form's codes.
func (h *Handler) nameCodes(bp *bankPicker, f transferForm) {
	bp.BankName, bp.BranchName = h.c.Banking.PayeeNames(banking.PayeeAccount{BankCode: digitsOf(f.BankCode), BranchCode: digitsOf(f.BranchCode)})
}

// markNewPayees sets NewPayee on the views of transfers whose payee is not
// registered; views and ts are in the same order. A failure leaves them
// unmarked: the page is still right but for the mark.
func (h *Handler) markNewPayees(ctx context.Context, p auth.Principal, views []transferView, ts []banking.Transfer) {
	fresh, err := h.c.Banking.NewPayees(ctx, p.User, ts...)
	if err != nil {
		return
	}
	for i := range views {
		if i < len(ts) {
			views[i].NewPayee = fresh[ts[i].ID]
		}
	}
}

// registerPayeeLink is the payee form filled with a transfer's payee
// (「この振込先を登録する」).
func registerPayeeLink(v payeeView) string {
	q := url.Values{"bank_code": {v.BankCode}, "branch_code": {v.Branch}, "account_type": {v.Type},
		"account_number": {v.Number}, "payee_name": {v.Name}}
	return pathPayees + "?" + q.Encode() + "#payee-form"
}
