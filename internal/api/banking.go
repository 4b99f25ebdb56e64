package api

// The banking endpoints: accounts and statements (残高照会, 入出金明細),
// payees, the master's privileges and limits. Transfers and batches are in
// banking_transfers.go and banking_batches.go. Every rule is the banking
// package's; the handlers only read requests and write answers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// bank wraps a banking handler: it needs a session, and the banking to be
// configured (without it the endpoints do not exist).
func (a *API) bank(h httpedge.HandlerFunc) http.HandlerFunc {
	if a.c.Banking == nil {
		return a.handle(func(http.ResponseWriter, *http.Request) error { return httpedge.ErrNoRoute })
	}
	return a.session(h, httpedge.Ordinary)
}

// pathID returns the positive integer ID in the path segment name. Anything
// else names nothing: banking.ErrNotFound.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, banking.ErrNotFound
	}
	return id, nil
}

// queryDate returns the date in query parameter name ("" is the zero
// Date); a malformed one is banking.ErrInvalidDate.
func queryDate(q url.Values, name string) (calendar.Date, error) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return calendar.Date{}, nil
	}
	return parseDate(s)
}

// queryInt returns the non-negative integer in query parameter name (0
// when absent).
func queryInt(q url.Values, name string) (int, error) {
	s := strings.TrimSpace(q.Get(name))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, &httpedge.RequestError{Detail: "query parameter " + name + " is not a number"}
	}
	return n, nil
}

// parseDate parses an optional "YYYY-MM-DD" of a request body ("" is the
// zero Date); a malformed one is banking.ErrInvalidDate.
func parseDate(s string) (calendar.Date, error) {
	if s = strings.TrimSpace(s); s == "" {
		return calendar.Date{}, nil
	}
	d, err := calendar.ParseDate(s)
	if err != nil {
		return calendar.Date{}, fmt.Errorf("%w: %q", banking.ErrInvalidDate, s)
	}
	return d, nil
}

// decodeOptional is decode for a body that may be left out altogether: no
// body leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return nil
	}
	return decode(w, r, v)
}

// decodeLarge is decode with a larger limit, for uploaded files.
func decodeLarge(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return httpedge.ErrUnsupportedMediaType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("api: body: %w", err)
		}
		return &httpedge.RequestError{Detail: err.Error()}
	}
	if dec.More() {
		return &httpedge.RequestError{Detail: "trailing data after the JSON object"}
	}
	return nil
}

// optionalTime is timeString, or "" for the zero time.
func optionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timeString(t)
}

// ---- accounts and statements ----

type accountJSON struct {
	ID         int64  `json:"id"`
	Type       string `json:"type"`
	BranchCode string `json:"branch_code"`
	Number     string `json:"number"`
	HolderName string `json:"holder_name"`
	Balance    int64  `json:"balance"`
	OpenedAt   string `json:"opened_at"`
}

func accountOf(ac banking.Account) accountJSON {
	return accountJSON{ID: ac.ID, Type: string(ac.Type), BranchCode: ac.BranchCode, Number: ac.Number,
		HolderName: ac.HolderName, Balance: ac.Balance, OpenedAt: timeString(ac.OpenedAt)}
}

// listAccounts is GET /api/v1/accounts (残高照会): the organization's
// accounts with their balances.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	list, err := a.c.Banking.Accounts(r.Context(), principal(r).User)
	if err != nil {
		return err
	}
	out := make([]accountJSON, 0, len(list))
	for _, ac := range list {
		out = append(out, accountOf(ac))
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
	return nil
}

// getAccount is GET /api/v1/accounts/{id}.
func (a *API) getAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err == nil {
		var ac banking.Account
		if ac, err = a.c.Banking.Account(r.Context(), principal(r).User, id); err == nil {
			writeJSON(w, http.StatusOK, accountOf(ac))
			return nil
		}
	}
	return err
}

type postingJSON struct {
	ID           int64  `json:"id"`
	Date         string `json:"date"`
	Kind         string `json:"kind"`
	Description  string `json:"description"`
	Amount       int64  `json:"amount"`
	BalanceAfter int64  `json:"balance_after"`
	TransferID   int64  `json:"transfer_id,omitempty"`
}

type transactionsResponse struct {
	Account      accountJSON   `json:"account"`
	From         string        `json:"from"`
	To           string        `json:"to"`
	Page         int           `json:"page"`
	PerPage      int           `json:"per_page"`
	Total        int           `json:"total"`
	Pages        int           `json:"pages"`
	Transactions []postingJSON `json:"transactions"`
}

// transactions is GET /api/v1/accounts/{id}/transactions (入出金明細照会):
// the postings from..to, oldest first; with format=csv, the download.
func (a *API) transactions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	from, err := queryDate(q, "from")
	if err != nil {
		return err
	}
	to, err := queryDate(q, "to")
	if err != nil {
		return err
	}
	u := principal(r).User
	switch q.Get("format") {
	case "", "json":
	case "csv":
		return a.statementCSV(w, r, u, id, from, to, q.Get("encoding"))
	default:
		return &httpedge.RequestError{Detail: "format must be json or csv"}
	}
	page, err := queryInt(q, "page")
	if err != nil {
		return err
	}
	perPage, err := queryInt(q, "per_page")
	if err != nil {
		return err
	}
	p, err := a.c.Banking.Transactions(r.Context(), u, id, from, to, page, perPage)
	if err != nil {
		return err
	}
	resp := transactionsResponse{Account: accountOf(p.Account), From: from.String(), To: to.String(),
		Page: p.Page, PerPage: p.PerPage, Total: p.Total, Pages: p.Pages(), Transactions: make([]postingJSON, 0, len(p.Postings))}
	for _, ps := range p.Postings {
		resp.Transactions = append(resp.Transactions, postingJSON{ID: ps.ID, Date: ps.Date.String(), Kind: string(ps.Kind),
			Description: ps.Description, Amount: ps.Amount, BalanceAfter: ps.BalanceAfter, TransferID: ps.TransferID})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// statementCSV writes the statement of an account from..to as a CSV file
// in enc (default UTF-8).
func (a *API) statementCSV(w http.ResponseWriter, r *http.Request, u identity.User, id int64, from, to calendar.Date, enc string) error {
	enc = strings.ToLower(strings.TrimSpace(enc))
	switch enc {
	case "":
		enc = banking.EncodingUTF8
	case banking.EncodingUTF8, banking.EncodingUTF8BOM, banking.EncodingShiftJIS:
	default:
		return banking.ErrUnknownEncoding
	}
	charset := banking.StatementCharset(enc)
	ac, postings, err := a.c.Banking.AllTransactions(r.Context(), u, id, from, to)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := banking.StatementCSV(&buf, postings, enc); err != nil {
		return err
	}
	name := banking.StatementFileName(ac, from, to, calendar.DateOf(a.c.Now()), enc)
	w.Header().Set("Content-Type", "text/csv; charset="+charset)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// ---- payees ----

// payeeAccountJSON is a payee's account, in requests and answers.
type payeeAccountJSON struct {
	BankCode      string `json:"bank_code"`
	BranchCode    string `json:"branch_code"`
	AccountType   string `json:"account_type"`
	AccountNumber string `json:"account_number"`
	Name          string `json:"name"`
	// BankName and BranchName are answers only: the names of the codes
	// ("" for a code the names of banks do not know).
	BankName   string `json:"bank_name"`
	BranchName string `json:"branch_name"`
}

func (p payeeAccountJSON) account() banking.PayeeAccount {
	return banking.PayeeAccount{BankCode: strings.TrimSpace(p.BankCode), BranchCode: strings.TrimSpace(p.BranchCode),
		AccountType: banking.AccountType(strings.TrimSpace(p.AccountType)), AccountNumber: strings.TrimSpace(p.AccountNumber),
		Name: p.Name}
}

func (a *API) payeeAccountOf(p banking.PayeeAccount) payeeAccountJSON {
	bank, branch := a.c.Banking.PayeeNames(p)
	return payeeAccountJSON{BankCode: p.BankCode, BranchCode: p.BranchCode, AccountType: string(p.AccountType),
		AccountNumber: p.AccountNumber, Name: p.Name, BankName: bank, BranchName: branch}
}

type payeeJSON struct {
	ID int64 `json:"id"`
	payeeAccountJSON
	Nickname  string `json:"nickname"`
	CreatedAt string `json:"created_at"`
}

type payeeRequest struct {
	payeeAccountJSON
	Nickname string `json:"nickname"`
}

func (a *API) payeeOf(p banking.Payee) payeeJSON {
	return payeeJSON{ID: p.ID, payeeAccountJSON: a.payeeAccountOf(p.PayeeAccount), Nickname: p.Nickname, CreatedAt: timeString(p.CreatedAt)}
}

// listPayees is GET /api/v1/payees: the organization's registered payees.
func (a *API) listPayees(w http.ResponseWriter, r *http.Request) error {
	list, err := a.c.Banking.Payees(r.Context(), principal(r).User)
	if err != nil {
		return err
	}
	out := make([]payeeJSON, 0, len(list))
	for _, p := range list {
		out = append(out, a.payeeOf(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"payees": out})
	return nil
}

// registerPayee is POST /api/v1/payees (事前登録).
func (a *API) registerPayee(w http.ResponseWriter, r *http.Request) error {
	var req payeeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p, err := a.c.Banking.RegisterPayee(r.Context(), principal(r).User,
		banking.Payee{PayeeAccount: req.account(), Nickname: strings.TrimSpace(req.Nickname)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.payeeOf(p))
	return nil
}

// deletePayee is DELETE /api/v1/payees/{id}.
func (a *API) deletePayee(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err == nil {
		err = a.c.Banking.DeletePayee(r.Context(), principal(r).User, id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- privileges ----

type privilegesJSON struct {
	LoginID          string `json:"login_id"`
	Role             string `json:"role"`
	Inquiry          bool   `json:"inquiry"`
	TransferRequest  bool   `json:"transfer_request"`
	Approval         bool   `json:"approval"`
	PayrollInquiry   bool   `json:"payroll_inquiry"`
	TransactionLimit int64  `json:"transaction_limit"`
	DailyLimit       int64  `json:"daily_limit"`
}

// privilegesRequest is the body of PUT .../privileges. Every field is
// required: a field left out must not quietly take away a privilege.
type privilegesRequest struct {
	Inquiry         *bool `json:"inquiry"`
	TransferRequest *bool `json:"transfer_request"`
	Approval        *bool `json:"approval"`
	// PayrollInquiry may be left out: the user keeps what they have.
	PayrollInquiry       *bool   `json:"payroll_inquiry"`
	TransactionLimit     *int64  `json:"transaction_limit"`
	DailyLimit           *int64  `json:"daily_limit"`
	ConfirmationPassword *string `json:"confirmation_password"`
}

// privilegesOf answers the privileges in force for loginID, as actor may
// see them.
func (a *API) privilegesOf(ctx context.Context, actor identity.User, loginID string) (privilegesJSON, error) {
	p, err := a.c.Banking.Privileges(ctx, actor, loginID)
	if err != nil {
		return privilegesJSON{}, err
	}
	role := identity.RoleGeneral
	if loginID == actor.LoginID {
		role = actor.Role
	} else if u, _, err := a.c.Identity.UserByLoginID(ctx, loginID); err == nil {
		role = u.Role
	}
	return privilegesJSON{LoginID: loginID, Role: string(role), Inquiry: p.Inquiry, TransferRequest: p.TransferRequest,
		Approval: p.Approval, PayrollInquiry: p.PayrollInquiry, TransactionLimit: p.TransactionLimit, DailyLimit: p.DailyLimit}, nil
}

// getPrivileges is GET /api/v1/users/{login_id}/privileges: the master
// sees anyone's of the organization, a general user their own.
func (a *API) getPrivileges(w http.ResponseWriter, r *http.Request) error {
	out, err := a.privilegesOf(r.Context(), principal(r).User, r.PathValue("login_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setPrivileges is PUT /api/v1/users/{login_id}/privileges (master only):
// a general user's privileges and limits, with the master's confirmation
// password.
func (a *API) setPrivileges(w http.ResponseWriter, r *http.Request) error {
	master := principal(r).User
	if master.Role != identity.RoleMaster {
		return identity.ErrForbidden
	}
	var req privilegesRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Inquiry == nil || req.TransferRequest == nil || req.Approval == nil || req.TransactionLimit == nil ||
		req.DailyLimit == nil || req.ConfirmationPassword == nil {
		return &httpedge.RequestError{Detail: "every field is required"}
	}
	ctx, loginID := r.Context(), r.PathValue("login_id")
	if loginID == master.LoginID {
		return httpedge.ErrMasterPrivileges
	}
	// The user must be of the master's organization before the password
	// is asked: not_found costs no attempt.
	current, err := a.c.Banking.Privileges(ctx, master, loginID)
	if err != nil {
		return err
	}
	if err := a.c.Identity.CheckPassword(ctx, master, identity.ConfirmationPassword, *req.ConfirmationPassword, "privilege change"); err != nil {
		return err
	}
	p := banking.Privileges{Inquiry: *req.Inquiry, TransferRequest: *req.TransferRequest, Approval: *req.Approval,
		PayrollInquiry: current.PayrollInquiry, TransactionLimit: *req.TransactionLimit, DailyLimit: *req.DailyLimit}
	if req.PayrollInquiry != nil {
		p.PayrollInquiry = *req.PayrollInquiry
	}
	if err := a.c.Banking.SetPrivileges(ctx, master, loginID, p); err != nil {
		return err
	}
	out, err := a.privilegesOf(ctx, master, loginID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
