package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/width"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/zengin"
)

// limitKeys are the catalogue keys that name the limit a transfer exceeds.
var limitKeys = map[banking.LimitKind]string{
	banking.LimitTransaction:       "banking.limit.transaction",
	banking.LimitUserDaily:         "banking.limit.user_daily",
	banking.LimitOrganizationDaily: "banking.limit.organization_daily",
}

// bankingText returns the status of a refusal and the message that tells
// the user, in their language, what happened and what to do: the details of
// a limit or of a name that cannot be used where there are any.
func (h *Handler) bankingText(r *http.Request, err error) (int, string) {
	l := language(r)
	status, msgs := h.refusal(r, err)
	text := h.cat.text(l, msgs[0].Key)
	var le *banking.LimitError
	if errors.As(err, &le) {
		if k, ok := limitKeys[le.Kind]; ok {
			if le.Master {
				k += ".master"
			}
			text = h.cat.text(l, k, h.yen(l, le.Limit), h.yen(l, le.Used), h.yen(l, le.Amount))
		}
	}
	var ke *zengin.KanaError
	if errors.As(err, &ke) {
		text = ke.Message(string(l))
	}
	var de *banking.PayrollDeadlineError
	if errors.As(err, &de) {
		// The message names the last day the file could be requested.
		text = de.Ja()
		if l == langEN {
			text = de.En()
		}
	}
	return status, text
}

// yen formats an amount as the pages show it: 10,000円 / ¥10,000.
func (h *Handler) yen(l lang, v int64) string { return h.cat.text(l, "banking.yen", money(v)) }

// money is an amount of yen; it prints with thousands separators, so that
// templates show it with {{t "banking.yen" .Amount}}.
type money int64

// String writes the amount with a comma every three digits.
func (m money) String() string {
	s := strconv.FormatInt(int64(m), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// parseAmount reads an amount of yen as a person types it: "10000",
// "10,000", full-width "１００００" or "１０，０００", with spaces around it.
// Decimals and negative amounts are refused with a message that says so.
func parseAmount(s string) (int64, error) {
	// Full-width digits, commas, points, hyphens and spaces become their
	// ASCII selves; a minus sign (U+2212) is a hyphen too.
	folded := strings.ReplaceAll(width.Fold.String(s), "−", "-")
	v := strings.TrimSpace(folded)
	switch {
	case v == "":
		return 0, httpedge.ErrAmountRequired
	case strings.HasPrefix(v, "-"):
		return 0, httpedge.ErrAmountNegative
	case strings.Contains(v, "."):
		return 0, httpedge.ErrAmountDecimal
	}
	v = strings.ReplaceAll(v, ",", "")
	if v == "" {
		return 0, httpedge.ErrAmountInvalid
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, httpedge.ErrAmountInvalid
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > banking.MaxLimit {
		return 0, httpedge.ErrAmountTooLarge
	}
	return n, nil
}

// parseDay reads a date of a form field: "2006-01-02" (the date input), or
// "2006/01/02"; full-width digits are accepted. Empty is the zero Date.
func parseDay(s string) (calendar.Date, error) {
	v := strings.ReplaceAll(strings.TrimSpace(width.Fold.String(s)), "/", "-")
	if v == "" {
		return calendar.Date{}, nil
	}
	t, err := time.ParseInLocation("2006-1-2", v, calendar.JST)
	if err != nil {
		return calendar.Date{}, httpedge.ErrDateInvalid
	}
	return calendar.DateOf(t), nil
}

// pathID reads the numeric ID of a path; anything else is no such page.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpedge.ErrNoPage
	}
	return id, nil
}

// privilegesOf returns what the user may do in banking (the master user
// everything).
func (h *Handler) privilegesOf(ctx context.Context, p auth.Principal) (banking.Privileges, error) {
	return h.c.Banking.Privileges(ctx, p.User, p.User.LoginID)
}

// need wraps a banking page that needs a privilege: a user without it gets
// a page that says to ask the master user.
func (h *Handler) need(has func(banking.Privileges) bool, next sessionHandler) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
		pr, err := h.privilegesOf(r.Context(), p)
		if err == nil && !has(pr) {
			err = banking.ErrForbidden
		}
		if err != nil {
			h.refuseBanking(w, r, p, err)
			return
		}
		next(w, r, p)
	}
}

func canRequest(p banking.Privileges) bool { return p.TransferRequest }
func canApprove(p banking.Privileges) bool { return p.Approval }

// bankingRefusedPage is the data of the page of a refused banking request.
type bankingRefusedPage struct {
	Message string
	// AskMaster: the user lacks a privilege that the master user gives.
	AskMaster bool
}

// refuseBanking shows a logged-in user why a banking page or action was
// refused (no such account or transfer, no privilege), with the menu.
func (h *Handler) refuseBanking(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	if errors.Is(err, identity.ErrAccountLocked) && h.lockedOut(w, r, err) {
		return
	}
	status, text := h.bankingText(r, err)
	h.render(w, r, status, "banking_refused", &view{Member: memberOf(p), Page: "banking_refused", Data: bankingRefusedPage{
		Message: text, AskMaster: errors.Is(err, banking.ErrForbidden) && p.User.Role != identity.RoleMaster,
	}})
}

// accountView is an account as the pages show it.
type accountView struct {
	ID         int64
	TypeKey    string // catalogue key of the account type
	BranchCode string
	Number     string
	Holder     string
	Balance    money
}

// typeKeys are the catalogue keys of the account types.
var typeKeys = map[banking.AccountType]string{
	banking.Ordinary: "banking.type.ordinary",
	banking.Current:  "banking.type.current",
	banking.Savings:  "banking.type.savings",
}

func accountOf(a banking.Account) accountView {
	return accountView{ID: a.ID, TypeKey: typeKeys[a.Type], BranchCode: a.BranchCode, Number: a.Number, Holder: a.HolderName,
		Balance: money(a.Balance)}
}

// payeeView is a payee's account as the pages show it.
type payeeView struct {
	ID       int64
	Nickname string
	BankCode string
	Branch   string
	TypeKey  string
	Type     string
	Number   string
	Name     string
	Here     bool // an account at this bank
	// BankName and BranchName are the names of the codes, "" for a code
	// the names of banks do not know.
	BankName   string
	BranchName string
}

// Names returns the bank's and the branch's names as the pages show them
// beside the codes ("" when neither is known).
func (v payeeView) Names() string {
	return strings.TrimSpace(v.BankName + " " + v.BranchName)
}

func (h *Handler) payeeOf(a banking.PayeeAccount) payeeView {
	bank, branch := h.c.Banking.PayeeNames(a)
	return payeeView{BankCode: a.BankCode, Branch: a.BranchCode, TypeKey: typeKeys[a.AccountType], Type: string(a.AccountType),
		Number: a.AccountNumber, Name: a.Name, Here: a.BankCode == h.c.Banking.BankCode(), BankName: bank, BranchName: branch}
}

// statusKeys are the catalogue keys of the statuses.
var statusKeys = map[banking.Status]string{
	banking.StatusAwaitingApproval: "banking.status.awaiting_approval",
	banking.StatusSentBack:         "banking.status.sent_back",
	banking.StatusRejected:         "banking.status.rejected",
	banking.StatusCancelled:        "banking.status.cancelled",
	banking.StatusScheduled:        "banking.status.scheduled",
	banking.StatusExecuted:         "banking.status.executed",
	banking.StatusFailed:           "banking.status.failed",
}

// statuses are the statuses in the order the list's filter offers them.
var statuses = []banking.Status{banking.StatusAwaitingApproval, banking.StatusSentBack, banking.StatusScheduled,
	banking.StatusExecuted, banking.StatusFailed, banking.StatusRejected, banking.StatusCancelled}

// transferView is a transfer as the pages show it.
type transferView struct {
	ID      int64
	BatchID int64
	From    accountView
	Payee   payeeView
	// Hidden: an item of a payroll batch shown to a user without payroll
	// inquiry; its name and amount are not shown.
	Hidden        bool
	Amount        money
	ExecutionDate time.Time
	Memo          string
	Status        string
	StatusKey     string
	RequestedBy   string // name (login ID)
	RequestedAt   time.Time
	ApprovedBy    string
	ApprovedAt    time.Time
	ExecutedAt    time.Time
	Failure       string
	// NewPayee: the payee's account is not one of the organization's
	// registered payees (新規振込先); set where the page needs it
	// (markNewPayees).
	NewPayee bool
	// Fees: its fee, who bears it, what the payee receives.
	Fees feeView
}

// directory gives the names of an organization's users and its accounts,
// for the lists and histories.
type directory struct {
	users    map[int64]identity.User
	accounts map[int64]banking.Account
}

// directoryOf reads the organization's users and accounts.
func (h *Handler) directoryOf(ctx context.Context, p auth.Principal) (directory, error) {
	d := directory{users: map[int64]identity.User{}, accounts: map[int64]banking.Account{}}
	us, err := h.c.Identity.ListUsers(ctx, p.Organization.ID)
	if err != nil {
		return d, err
	}
	for _, u := range us {
		d.users[u.ID] = u
	}
	as, err := h.c.Banking.OrganizationAccounts(ctx, p.Organization.Code)
	if err != nil {
		return d, err
	}
	for _, a := range as {
		d.accounts[a.ID] = a
	}
	return d, nil
}

// user names a user: "name (login ID)".
func (d directory) user(id int64) string {
	u, ok := d.users[id]
	if !ok {
		return ""
	}
	return u.Name + " (" + u.LoginID + ")"
}

// account is an account without its balance (for users who may not see
// balances).
func (d directory) account(id int64) accountView {
	a := accountOf(d.accounts[id])
	a.Balance = 0
	return a
}

func (h *Handler) transferOf(d directory, t banking.Transfer) transferView {
	v := transferView{ID: t.ID, BatchID: t.BatchID, From: d.account(t.FromAccountID), Payee: h.payeeOf(t.Payee), Hidden: t.Hidden,
		Amount: money(t.Amount), ExecutionDate: t.ExecutionDate.Time(), Memo: t.Memo, Status: string(t.Status),
		StatusKey: statusKeys[t.Status], RequestedBy: d.user(t.RequestedBy), RequestedAt: t.RequestedAt,
		ApprovedAt: t.ApprovedAt, ExecutedAt: t.ExecutedAt, Failure: t.FailureReason}
	if t.ApprovedBy != 0 {
		v.ApprovedBy = d.user(t.ApprovedBy)
	}
	v.Fees = feeOf(t)
	return v
}

// historyView is one step of a transfer's or batch's history.
type historyView struct {
	At        time.Time
	Who       string
	ActionKey string
	Comment   string
}

// historyKeys are the catalogue keys of the history's steps.
var historyKeys = map[string]string{
	banking.HistoryRequested:     "banking.history.requested",
	banking.HistoryResubmitted:   "banking.history.resubmitted",
	banking.HistoryApproved:      "banking.history.approved",
	banking.HistoryExecuted:      "banking.history.executed",
	banking.HistorySentBack:      "banking.history.sent_back",
	banking.HistoryRejected:      "banking.history.rejected",
	banking.HistoryCancelled:     "banking.history.cancelled",
	banking.HistoryFailed:        "banking.history.failed",
	banking.HistoryInterbankSent: "banking.history.interbank_sent",
}

func (h *Handler) historyOf(r *http.Request, d directory, hs []banking.HistoryEntry) []historyView {
	out := make([]historyView, 0, len(hs))
	for _, e := range hs {
		v := historyView{At: e.At, ActionKey: historyKeys[e.Action], Comment: e.Comment}
		switch {
		case e.UserID != 0:
			v.Who = d.user(e.UserID)
		case strings.HasPrefix(e.Actor, "operator:"):
			v.Who = h.cat.text(language(r), "banking.history.bank")
		default:
			v.Who = h.cat.text(language(r), "banking.history.system")
		}
		if v.ActionKey == "" {
			v.ActionKey = "banking.history.other"
		}
		out = append(out, v)
	}
	return out
}

// pager is the paging of a list.
type pager struct {
	Page, Pages int
	Prev, Next  string // URLs; empty when there is none
}

// newIdempotencyKey returns a random key for a form, so that the form sent
// twice records one transfer.
func (h *Handler) newIdempotencyKey() (string, error) {
	var raw [18]byte
	if _, err := io.ReadFull(h.c.Rand, raw[:]); err != nil {
		return "", err
	}
	return "web-" + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// checkFormToken compares the form token of a form that h.form did not
// parse (a file upload) with the cookie's.
func checkFormToken(r *http.Request, sent string) error {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validToken(c.Value) || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) != 1 {
		return httpedge.ErrFormToken
	}
	return nil
}

// bankingPage is a banking page that returns its refusal instead of
// showing it.
type bankingPage func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// bank turns a banking page into a page of the session: a refusal is shown
// by refuseBanking, with the menu.
func (h *Handler) bank(page bankingPage) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) {
		if err := page(w, r, p); err != nil {
			h.refuseBanking(w, r, p, err)
		}
	}
}
