package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/zengin"
)

// pathNewTransfer is 振込: entry, confirmation and done.
const pathNewTransfer = "/transfers/new"

// Steps of the transfer form (the field "step").
const (
	stepConfirm = "confirm" // entry -> confirmation page
	stepSubmit  = "submit"  // confirmation -> the request is recorded
	stepEdit    = "edit"    // confirmation -> back to the entry, as typed
)

// transferForm is the transfer form as typed (or, on the confirmation
// page, as it will be sent).
type transferForm struct {
	FromAccount   string
	PayeeID       string
	BankCode      string
	BranchCode    string
	AccountType   string
	AccountNumber string
	PayeeName     string
	Amount        string
	ExecutionDate string
	Memo          string
	// IdempotencyKey is made with the entry form and travels with it, so
	// that the confirmation sent twice records one transfer.
	IdempotencyKey string
	// Planned is the execution date shown on the confirmation page.
	Planned string
	// FeePayer is who bears the fee: "payer" (当方負担, also "") or
	// "payee" (先方負担).
	FeePayer string
}

func transferFormOf(r *http.Request) transferForm {
	f := r.PostForm
	return transferForm{
		FromAccount: f.Get("from_account"), PayeeID: f.Get("payee_id"),
		BankCode: strings.TrimSpace(f.Get("bank_code")), BranchCode: strings.TrimSpace(f.Get("branch_code")),
		AccountType: f.Get("account_type"), AccountNumber: strings.TrimSpace(f.Get("account_number")),
		PayeeName: f.Get("payee_name"), Amount: f.Get("amount"), ExecutionDate: f.Get("execution_date"),
		Memo: strings.TrimSpace(f.Get("memo")), IdempotencyKey: f.Get("idempotency_key"), Planned: f.Get("planned_date"),
		FeePayer: f.Get("fee_payer"),
	}
}

// typeOption is an account type that the form offers.
type typeOption struct {
	Value string
	Key   string
}

// payeeTypes are the account types of a payee.
var payeeTypes = []typeOption{
	{string(banking.Ordinary), typeKeys[banking.Ordinary]},
	{string(banking.Current), typeKeys[banking.Current]},
	{string(banking.Savings), typeKeys[banking.Savings]},
}

// transferEntryPage is the data of the entry form.
type transferEntryPage struct {
	Action   string // where the form goes: the new transfer or the resubmission
	EditID   int64  // the sent-back transfer being corrected; 0 for a new one
	Form     transferForm
	Accounts []accountView
	Payees   []payeeView
	Types    []typeOption
	BankCode string // this bank's code
	Today    string
	// Errors are the messages by field ("" for the form as a whole).
	Errors  map[string]string
	Summary []string
	// Picker is the search for the bank and the branch.
	Picker bankPicker
}

// transferConfirmPage is the data of the confirmation page.
type transferConfirmPage struct {
	Action    string
	EditID    int64
	Form      transferForm // sent again, hidden
	From      accountView
	Payee     payeeView
	NameTyped string // the name as typed, when it was converted
	Amount    money
	Requested time.Time
	Execution time.Time
	// Reason says why the execution date is not the requested one, in the
	// page's language; "" when it is.
	Reason string
	Memo   string
	// DateMoved: the execution date changed since the last confirmation
	// page (the cut-off passed meanwhile).
	DateMoved string
	// Fees: the transfer's fee by the bank's table, who bears it, what the
	// payee receives and what leaves the account.
	Fees feeView
}

// transferDonePage is the data of the page after the request.
type transferDonePage struct {
	Transfer    transferView
	Resubmitted bool
	// RegisterPayee is the payee form filled with the transfer's payee,
	// offered when the payee is not registered; "" otherwise.
	RegisterPayee string
}

// transferPlan is a checked transfer form: the request to send and what
// the confirmation page shows.
type transferPlan struct {
	req       banking.TransferRequest
	from      banking.Account
	payee     banking.PayeeAccount
	nickname  string
	typedName string
	requested calendar.Date
	date      calendar.Date
	reason    string
	// retryAfter is set when the user checked too many accounts at this
	// bank: the page is 429 with Retry-After.
	retryAfter time.Duration
	// fee is the transfer's fee by the bank's table.
	fee int64
}

// newTransferForm is GET /transfers/new (transfer-request privilege): the
// entry form, the execution date today by default.
func (h *Handler) newTransferForm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	key, err := h.newIdempotencyKey()
	if err != nil {
		return err
	}
	f := transferForm{ExecutionDate: calendar.DateOf(h.c.Now()).String(), IdempotencyKey: key, BankCode: h.c.Banking.BankCode(),
		AccountType: string(banking.Ordinary)}
	if id := r.URL.Query().Get("payee"); id != "" {
		f.PayeeID, f.BankCode = id, ""
	}
	if h.restoreTyped(r) {
		f = typedTransferForm(r, key)
	}
	h.renderTransferEntry(w, r, p, pathNewTransfer, 0, f, http.StatusOK, nil)
	return nil
}

// newTransfer is POST /transfers/new: step confirm shows the confirmation
// page (or the form again with the errors next to their fields), step
// submit records the request and shows its number, step edit goes back to
// the form as typed.
func (h *Handler) newTransfer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.transferStep(w, r, p, pathNewTransfer, 0)
}

// transferStep is a step of the transfer form, new (editID 0) or the
// resubmission of a sent-back transfer.
func (h *Handler) transferStep(w http.ResponseWriter, r *http.Request, p auth.Principal, action string, editID int64) {
	f := transferFormOf(r)
	if f.IdempotencyKey == "" {
		key, err := h.newIdempotencyKey()
		if err != nil {
			h.refuseBanking(w, r, p, err)
			return
		}
		f.IdempotencyKey = key
	}
	pickErrs := map[string]string{}
	if bp, ok := h.pickBank(r, &f, pickErrs); ok {
		// A search or a pick: the form again, with the matches or the
		// code filled in, and a payee given in full.
		f.PayeeID = ""
		status := http.StatusOK
		if len(pickErrs) > 0 {
			status = http.StatusBadRequest
		}
		h.renderTransferEntryWith(w, r, p, action, editID, f, status, pickErrs, bp)
		return
	}
	step := r.PostForm.Get("step")
	if step == stepEdit {
		// What is sent next may differ: it is another request.
		key, err := h.newIdempotencyKey()
		if err != nil {
			h.refuseBanking(w, r, p, err)
			return
		}
		f.IdempotencyKey = key
		h.renderTransferEntry(w, r, p, action, editID, f, http.StatusOK, nil)
		return
	}
	plan, errs := h.checkTransfer(r, p, f)
	if len(errs) > 0 {
		status := http.StatusBadRequest
		if plan.retryAfter > 0 {
			status = http.StatusTooManyRequests
			w.Header().Set("Retry-After", strconv.FormatInt(int64((plan.retryAfter+time.Second-1)/time.Second), 10))
		}
		h.renderTransferEntry(w, r, p, action, editID, f, status, errs)
		return
	}
	if step != stepSubmit {
		h.renderTransferConfirm(w, r, p, action, editID, f, plan, "")
		return
	}
	if f.Planned != plan.date.String() {
		// The cut-off passed since the confirmation page: confirm again.
		_, text := h.bankingText(r, httpedge.ErrDateMoved)
		h.renderTransferConfirm(w, r, p, action, editID, f, plan, text)
		return
	}
	var (
		t   banking.Transfer
		err error
	)
	if editID != 0 {
		plan.req.IdempotencyKey = ""
		t, err = h.c.Banking.Resubmit(r.Context(), p.User, editID, plan.req)
	} else {
		t, err = h.c.Banking.RequestTransfer(r.Context(), p.User, plan.req)
	}
	if err != nil {
		if fieldOf(err) == "" && !errors.Is(err, banking.ErrLimitExceeded) && !errors.Is(err, banking.ErrInvalidState) {
			h.refuseBanking(w, r, p, err)
			return
		}
		status, text := h.bankingText(r, err)
		h.renderTransferEntry(w, r, p, action, editID, f, status, map[string]string{fieldOf(err): text})
		return
	}
	d, err := h.directoryOf(r.Context(), p)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	views := []transferView{h.transferOf(d, t)}
	h.markNewPayees(r.Context(), p, views, []banking.Transfer{t})
	done := transferDonePage{Transfer: views[0], Resubmitted: editID != 0}
	if views[0].NewPayee {
		done.RegisterPayee = registerPayeeLink(views[0].Payee)
	}
	h.render(w, r, http.StatusOK, "transfer_done", &view{Member: memberOf(p), Page: "transfer_new", Data: done})
}

// fieldOf names the field of the form that an error of the banking service
// is about; "" for the form as a whole.
func fieldOf(err error) string {
	switch {
	case errors.Is(err, banking.ErrInvalidAmount), errors.Is(err, banking.ErrLimitExceeded), errors.Is(err, banking.ErrAmountNotAboveFee):
		return "amount"
	case errors.Is(err, banking.ErrInvalidFeePayer):
		return "fee_payer"
	case errors.Is(err, banking.ErrInvalidPayeeName):
		return "payee_name"
	case errors.Is(err, banking.ErrInvalidPayee):
		return "account_number"
	case errors.Is(err, banking.ErrInvalidExecutionDate), errors.Is(err, banking.ErrInvalidDate):
		return "execution_date"
	case errors.Is(err, banking.ErrInvalidMemo):
		return "memo"
	case errors.Is(err, banking.ErrNotFound):
		return "from_account"
	}
	return ""
}

// digitsOf turns full-width digits (and other full-width ASCII) into
// ASCII and trims spaces.
func digitsOf(s string) string { return strings.TrimSpace(width.Fold.String(s)) }

// allDigits reports whether s is 1..n ASCII digits.
func allDigits(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkTransfer checks the form as far as it can before the request: the
// account, the payee (its name converted to Zengin half-width kana), the
// amount against the user's limit for one transfer, the execution date by
// the calendar. It returns the messages by field.
func (h *Handler) checkTransfer(r *http.Request, p auth.Principal, f transferForm) (transferPlan, map[string]string) {
	ctx := r.Context()
	l := language(r)
	errs := map[string]string{}
	fail := func(field string, err error) {
		if _, ok := errs[field]; !ok {
			_, errs[field] = h.bankingText(r, err)
		}
	}
	var plan transferPlan
	pr, err := h.privilegesOf(ctx, p)
	if err != nil {
		fail("", err)
		return plan, errs
	}
	accounts, err := h.c.Banking.OrganizationAccounts(ctx, p.Organization.Code)
	if err != nil {
		fail("", err)
		return plan, errs
	}
	fromID, _ := strconv.ParseInt(f.FromAccount, 10, 64)
	for _, a := range accounts {
		if a.ID == fromID {
			plan.from = a
		}
	}
	if plan.from.ID == 0 {
		errs["from_account"] = h.cat.text(l, "banking.error.from_account")
	}
	if f.PayeeID != "" {
		id, _ := strconv.ParseInt(f.PayeeID, 10, 64)
		payees, err := h.c.Banking.Payees(ctx, p.User)
		if err != nil {
			fail("", err)
			return plan, errs
		}
		for _, py := range payees {
			if py.ID == id {
				plan.payee, plan.nickname, plan.req.PayeeID = py.PayeeAccount, py.Nickname, py.ID
			}
		}
		if plan.req.PayeeID == 0 {
			errs["payee_id"] = h.cat.text(l, "banking.error.payee_id")
		}
	} else {
		plan.payee, plan.typedName = h.checkPayee(r, f, errs)
		plan.req.Payee = plan.payee
	}
	if _, ok := errs["account_number"]; !ok && plan.payee.BankCode == h.c.Banking.BankCode() && plan.payee.AccountNumber != "" {
		to, err := h.c.Banking.CheckPayee(ctx, p.User, plan.payee)
		var le *banking.LookupsError
		switch {
		case errors.As(err, &le):
			plan.retryAfter = le.Wait
			fail("", err)
		case errors.Is(err, banking.ErrInvalidPayee):
			fail("account_number", banking.ErrInvalidPayee)
		case err != nil:
			fail("", err)
		case to == plan.from.ID:
			errs["account_number"] = h.cat.text(l, "banking.error.same_account")
		}
	}
	amount, err := parseAmount(f.Amount)
	switch {
	case err != nil:
		fail("amount", err)
	case amount <= 0 || amount > banking.MaxAmount:
		fail("amount", banking.ErrInvalidAmount)
	case amount > pr.TransactionLimit:
		fail("amount", &banking.LimitError{Kind: banking.LimitTransaction, Limit: pr.TransactionLimit, Amount: amount})
	}
	if n := len([]rune(f.Memo)); n > banking.MaxMemo {
		fail("memo", banking.ErrInvalidMemo)
	}
	requested, err := parseDay(f.ExecutionDate)
	if err != nil {
		fail("execution_date", err)
	} else {
		if requested.IsZero() {
			requested = calendar.DateOf(h.c.Now())
		}
		interbank := plan.payee.BankCode != h.c.Banking.BankCode()
		date, reason, err := h.executionDate(requested, interbank)
		if err != nil {
			fail("execution_date", err)
		}
		plan.requested, plan.date = requested, date
		if reason.Moved() {
			plan.reason = reason.Ja()
			if l == langEN {
				plan.reason = reason.En()
			}
		}
	}
	plan.req.FromAccountID, plan.req.Amount, plan.req.ExecutionDate = plan.from.ID, amount, requested
	plan.req.Memo, plan.req.IdempotencyKey = f.Memo, f.IdempotencyKey
	h.checkFee(r, f, &plan, errs)
	return plan, errs
}

// checkPayee checks a payee typed in full; the name is converted to the
// half-width form of Zengin names.
func (h *Handler) checkPayee(r *http.Request, f transferForm, errs map[string]string) (banking.PayeeAccount, string) {
	l := language(r)
	a := banking.PayeeAccount{BankCode: digitsOf(f.BankCode), BranchCode: digitsOf(f.BranchCode),
		AccountType: banking.AccountType(f.AccountType), AccountNumber: digitsOf(f.AccountNumber)}
	if !allDigits(a.BankCode, 4) || len(a.BankCode) != 4 {
		errs["bank_code"] = h.cat.text(l, "banking.error.bank_code")
	}
	if !allDigits(a.BranchCode, 3) || len(a.BranchCode) != 3 {
		errs["branch_code"] = h.cat.text(l, "banking.error.branch_code")
	}
	if a.AccountType.ZenginCode() == "" {
		errs["account_type"] = h.cat.text(l, "banking.error.account_type")
	}
	if allDigits(a.AccountNumber, 7) {
		a.AccountNumber = strings.Repeat("0", 7-len(a.AccountNumber)) + a.AccountNumber
	} else {
		errs["account_number"] = h.cat.text(l, "banking.error.account_number")
	}
	name, err := zengin.NormalizeKana(f.PayeeName)
	if err == nil {
		err = zengin.CheckWidth(name, banking.MaxPayeeName)
	}
	if err != nil {
		_, errs["payee_name"] = h.bankingText(r, err)
		return a, ""
	}
	a.Name = name
	typed := ""
	if name != strings.TrimSpace(f.PayeeName) {
		typed = f.PayeeName
	}
	return a, typed
}

// executionDate is the day a transfer requested for requested is executed
// on, and why it moved, by the calendar.
func (h *Handler) executionDate(requested calendar.Date, interbank bool) (calendar.Date, calendar.Reason, error) {
	now := h.c.Now()
	if h.c.Calendar == nil {
		d, err := banking.DefaultExecutionDate(now, requested, interbank)
		return d, calendar.Reason{}, err
	}
	d, reason, err := h.c.Calendar.ExecutionDate(now, requested, interbank, h.c.Cutoff)
	switch {
	case errors.Is(err, calendar.ErrPastDate):
		err = httpedge.ErrDatePast
	case errors.Is(err, calendar.ErrTooFarAhead):
		err = httpedge.ErrDateTooFar
	case errors.Is(err, calendar.ErrInvalidDate):
		err = httpedge.ErrDateInvalid
	case err != nil:
		err = fmt.Errorf("%w: %w", banking.ErrInvalidExecutionDate, err)
	}
	return d, reason, err
}

// renderTransferEntry shows the entry form, after a refusal with the
// messages next to their fields and what was typed.
func (h *Handler) renderTransferEntry(w http.ResponseWriter, r *http.Request, p auth.Principal, action string, editID int64,
	f transferForm, status int, errs map[string]string) {
	h.renderTransferEntryWith(w, r, p, action, editID, f, status, errs, bankPicker{})
}

// renderTransferEntryWith shows the entry form with a step of the search
// for a bank and a branch.
func (h *Handler) renderTransferEntryWith(w http.ResponseWriter, r *http.Request, p auth.Principal, action string, editID int64,
	f transferForm, status int, errs map[string]string, bp bankPicker) {
	ctx := r.Context()
	h.nameCodes(&bp, f)
	accounts, err := h.c.Banking.OrganizationAccounts(ctx, p.Organization.Code)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	payees, err := h.c.Banking.Payees(ctx, p.User)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	d := transferEntryPage{Action: action, EditID: editID, Form: f, Types: payeeTypes, BankCode: h.c.Banking.BankCode(),
		Today: calendar.DateOf(h.c.Now()).String(), Errors: errs, Picker: bp}
	if f.FromAccount == "" && len(accounts) > 0 {
		d.Form.FromAccount = strconv.FormatInt(accounts[0].ID, 10)
	}
	for _, a := range accounts {
		v := accountOf(a)
		v.Balance = 0
		d.Accounts = append(d.Accounts, v)
	}
	for _, py := range payees {
		v := h.payeeOf(py.PayeeAccount)
		v.ID, v.Nickname = py.ID, py.Nickname
		d.Payees = append(d.Payees, v)
	}
	for _, field := range []string{"", "from_account", "payee_id", "bank_code", "branch_code", "account_type", "account_number",
		"payee_name", "amount", "fee_payer", "execution_date", "memo"} {
		if m, ok := errs[field]; ok {
			d.Summary = append(d.Summary, m)
		}
	}
	h.render(w, r, status, "transfer_new", &view{Member: memberOf(p), Page: "transfer_new", Data: d})
}

// renderTransferConfirm shows the confirmation page: everything read-only,
// the name as it will be sent, and the execution date with the reason it
// moved, before the user confirms.
func (h *Handler) renderTransferConfirm(w http.ResponseWriter, r *http.Request, p auth.Principal, action string, editID int64,
	f transferForm, plan transferPlan, moved string) {
	f.Amount = strconv.FormatInt(plan.req.Amount, 10)
	f.ExecutionDate = plan.requested.String()
	f.Planned = plan.date.String()
	if plan.req.PayeeID == 0 {
		f.BankCode, f.BranchCode, f.AccountType = plan.payee.BankCode, plan.payee.BranchCode, string(plan.payee.AccountType)
		f.AccountNumber, f.PayeeName = plan.payee.AccountNumber, plan.payee.Name
	}
	payee := h.payeeOf(plan.payee)
	payee.ID, payee.Nickname = plan.req.PayeeID, plan.nickname
	from := accountOf(plan.from)
	from.Balance = 0
	d := transferConfirmPage{Action: action, EditID: editID, Form: f, From: from, Payee: payee, NameTyped: plan.typedName,
		Amount: money(plan.req.Amount), Requested: plan.requested.Time(), Execution: plan.date.Time(), Reason: plan.reason,
		Memo: plan.req.Memo, DateMoved: moved,
		Fees: feeOf(banking.Transfer{Amount: plan.req.Amount, Fee: plan.fee, FeePayer: plan.req.FeePayer})}
	h.render(w, r, http.StatusOK, "transfer_confirm", &view{Member: memberOf(p), Page: "transfer_new", Data: d})
}
