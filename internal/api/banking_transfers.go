package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"kinko/internal/banking"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// transferJSON is a transfer in answers. Users are named by login ID.
type transferJSON struct {
	ID             int64            `json:"id"`
	BatchID        int64            `json:"batch_id,omitempty"`
	FromAccountID  int64            `json:"from_account_id"`
	Payee          payeeAccountJSON `json:"payee"`
	NewPayee       bool             `json:"new_payee"`
	Interbank      bool             `json:"interbank"`
	Amount         int64            `json:"amount"`
	Fee            int64            `json:"fee"`
	FeePayer       string           `json:"fee_payer"`
	AmountReceived int64            `json:"amount_received"`
	// PayrollHidden: an item of a payroll batch answered to a user
	// without payroll inquiry; payee.name is "" and amount 0.
	PayrollHidden   bool          `json:"payroll_hidden,omitempty"`
	ExecutionDate   string        `json:"execution_date"`
	Memo            string        `json:"memo"`
	CustomerCode1   string        `json:"customer_code1,omitempty"`
	CustomerCode2   string        `json:"customer_code2,omitempty"`
	Status          string        `json:"status"`
	RequestedBy     string        `json:"requested_by"`
	RequestedAt     string        `json:"requested_at"`
	ApprovedBy      string        `json:"approved_by,omitempty"`
	ApprovedAt      string        `json:"approved_at,omitempty"`
	ExecutedAt      string        `json:"executed_at,omitempty"`
	FailureReason   string        `json:"failure_reason,omitempty"`
	InterbankSentAt string        `json:"interbank_sent_at,omitempty"`
	UpdatedAt       string        `json:"updated_at"`
	History         []historyJSON `json:"history,omitempty"`
}

type historyJSON struct {
	At      string `json:"at"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Comment string `json:"comment,omitempty"`
}

// loginIDs names the users of one organization by ID, looked up once per
// request.
type loginIDs struct {
	a     *API
	ctx   context.Context
	orgID int64
	ids   map[int64]string
	// fresh holds the transfers whose payee is not registered (see
	// markNewPayees).
	fresh map[int64]bool
}

// markNewPayees finds the transfers whose payee is not a registered payee of
// the organization, for their new_payee.
func (l *loginIDs) markNewPayees(ts ...banking.Transfer) error {
	fresh, err := l.a.c.Banking.NewPayees(l.ctx, identity.User{OrganizationID: l.orgID}, ts...)
	if err != nil {
		return err
	}
	l.fresh = fresh
	return nil
}

func (a *API) loginIDs(ctx context.Context, orgID int64) *loginIDs {
	return &loginIDs{a: a, ctx: ctx, orgID: orgID}
}

// of returns the login ID of user id ("" for 0 or a user of another
// organization).
func (l *loginIDs) of(id int64) string {
	if id == 0 {
		return ""
	}
	if l.ids == nil {
		l.ids = map[int64]string{}
		if users, err := l.a.c.Identity.ListUsers(l.ctx, l.orgID); err == nil {
			for _, u := range users {
				l.ids[u.ID] = u.LoginID
			}
		}
	}
	if s, ok := l.ids[id]; ok {
		return s
	}
	u, _, err := l.a.c.Identity.UserByID(l.ctx, id)
	if err != nil || u.OrganizationID != l.orgID {
		l.ids[id] = ""
		return ""
	}
	l.ids[id] = u.LoginID
	return u.LoginID
}

func (l *loginIDs) transfer(t banking.Transfer) transferJSON {
	out := transferJSON{ID: t.ID, BatchID: t.BatchID, FromAccountID: t.FromAccountID, Payee: l.a.payeeAccountOf(t.Payee),
		NewPayee:  l.fresh[t.ID],
		Interbank: t.Interbank, Amount: t.Amount, Fee: t.Fee, FeePayer: string(t.FeePayer), AmountReceived: t.Sent(),
		ExecutionDate: t.ExecutionDate.String(), Memo: t.Memo,
		CustomerCode1: t.CustomerCode1, CustomerCode2: t.CustomerCode2, Status: string(t.Status),
		RequestedBy: l.of(t.RequestedBy), RequestedAt: timeString(t.RequestedAt),
		ApprovedBy: l.of(t.ApprovedBy), ApprovedAt: optionalTime(t.ApprovedAt), ExecutedAt: optionalTime(t.ExecutedAt),
		FailureReason: t.FailureReason, InterbankSentAt: optionalTime(t.InterbankSentAt), UpdatedAt: timeString(t.UpdatedAt),
		PayrollHidden: t.Hidden}
	if t.Hidden {
		out.Payee.Name, out.Amount = "", 0
	}
	return out
}

func historyOf(h []banking.HistoryEntry) []historyJSON {
	out := make([]historyJSON, 0, len(h))
	for _, e := range h {
		out = append(out, historyJSON{At: timeString(e.At), Actor: e.Actor, Action: e.Action, Comment: e.Comment})
	}
	return out
}

// transferRequest is the body of POST /api/v1/transfers and of the
// resubmission: a registered payee (payee_id) or a payee given in full.
type transferRequest struct {
	FromAccountID int64             `json:"from_account_id"`
	PayeeID       int64             `json:"payee_id"`
	Payee         *payeeAccountJSON `json:"payee"`
	Amount        int64             `json:"amount"`
	ExecutionDate string            `json:"execution_date"`
	Memo          string            `json:"memo"`
	// FeePayer is "payer" (当方負担, also when left out) or "payee"
	// (先方負担).
	FeePayer string `json:"fee_payer"`
}

func (t transferRequest) request() (banking.TransferRequest, error) {
	d, err := parseDate(t.ExecutionDate)
	if err != nil {
		return banking.TransferRequest{}, err
	}
	r := banking.TransferRequest{FromAccountID: t.FromAccountID, PayeeID: t.PayeeID, Amount: t.Amount, ExecutionDate: d, Memo: t.Memo,
		FeePayer: banking.FeePayer(t.FeePayer)}
	if t.Payee != nil {
		r.Payee = t.Payee.account()
	}
	return r, nil
}

// writeTransfer answers a transfer of the request's user's organization,
// with its ETag.
func (a *API) writeTransfer(w http.ResponseWriter, r *http.Request, status int, t banking.Transfer, h []banking.HistoryEntry) error {
	u := principal(r).User
	names := a.loginIDs(r.Context(), u.OrganizationID)
	if err := names.markNewPayees(t); err != nil {
		return err
	}
	out := names.transfer(t)
	if h != nil {
		out.History = historyOf(h)
	}
	if t.Version > 0 {
		w.Header().Set("ETag", etag(transferTag, t.ID, t.Version))
	}
	writeJSON(w, status, out)
	return nil
}

// requestTransfer is POST /api/v1/transfers: a transfer awaiting approval.
// An Idempotency-Key header makes a repeat return the first transfer.
func (a *API) requestTransfer(w http.ResponseWriter, r *http.Request) error {
	var body transferRequest
	if err := decode(w, r, &body); err != nil {
		return err
	}
	req, err := body.request()
	if err != nil {
		return err
	}
	req.IdempotencyKey = r.Header.Get("Idempotency-Key")
	t, err := a.c.Banking.RequestTransfer(r.Context(), principal(r).User, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/transfers/"+strconv.FormatInt(t.ID, 10))
	return a.writeTransfer(w, r, http.StatusCreated, t, nil)
}

// resubmitTransfer is PUT /api/v1/transfers/{id}: the requester's new
// request for a transfer that was sent back.
func (a *API) resubmitTransfer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body transferRequest
	if err := decode(w, r, &body); err != nil {
		return err
	}
	req, err := body.request()
	if err != nil {
		return err
	}
	t, err := a.c.Banking.Resubmit(r.Context(), principal(r).User, id, req)
	if err != nil {
		return err
	}
	return a.writeTransfer(w, r, http.StatusOK, t, nil)
}

// statusesOf parses a comma-separated list of statuses.
func statusesOf(s string) ([]banking.Status, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []banking.Status
	for _, f := range strings.Split(s, ",") {
		st := banking.Status(strings.TrimSpace(f))
		switch st {
		case banking.StatusAwaitingApproval, banking.StatusSentBack, banking.StatusRejected, banking.StatusCancelled,
			banking.StatusScheduled, banking.StatusExecuted, banking.StatusFailed:
			out = append(out, st)
		default:
			return nil, &httpedge.RequestError{Detail: "unknown status " + string(st)}
		}
	}
	return out, nil
}

// listTransfers is GET /api/v1/transfers?status=&from=&to=&mine=&page=&per_page=:
// the organization's single transfers, newest first.
func (a *API) listTransfers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var tq banking.TransferQuery
	var err error
	if tq.Statuses, err = statusesOf(q.Get("status")); err == nil {
		if tq.From, err = queryDate(q, "from"); err == nil {
			if tq.To, err = queryDate(q, "to"); err == nil {
				if tq.Page, err = queryInt(q, "page"); err == nil {
					tq.PerPage, err = queryInt(q, "per_page")
				}
			}
		}
	}
	if err != nil {
		return err
	}
	switch q.Get("mine") {
	case "", "false", "0":
	case "true", "1":
		tq.MineOnly = true
	default:
		return &httpedge.RequestError{Detail: "mine must be true or false"}
	}
	u := principal(r).User
	p, err := a.c.Banking.Transfers(r.Context(), u, tq)
	if err != nil {
		return err
	}
	names := a.loginIDs(r.Context(), u.OrganizationID)
	if err := names.markNewPayees(p.Transfers...); err != nil {
		return err
	}
	out := make([]transferJSON, 0, len(p.Transfers))
	for _, t := range p.Transfers {
		out = append(out, names.transfer(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"transfers": out, "total": p.Total, "page": p.Page, "per_page": p.PerPage})
	return nil
}

// getTransfer is GET /api/v1/transfers/{id}: a transfer with its history.
func (a *API) getTransfer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u := principal(r).User
	t, err := a.c.Banking.Transfer(r.Context(), u, id)
	if err != nil {
		return err
	}
	h, err := a.c.Banking.TransferHistory(r.Context(), u, id)
	if err != nil {
		return err
	}
	return a.writeTransfer(w, r, http.StatusOK, t, h)
}

type approvalRequest struct {
	ConfirmationPassword string `json:"confirmation_password"`
}

type commentRequest struct {
	Comment string `json:"comment"`
}

// approveTransfer is POST /api/v1/transfers/{id}/approval
// {"confirmation_password"}, with If-Match: the ETag of the transfer the
// approver was shown.
func (a *API) approveTransfer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	seen := seenVersion(r, transferTag, id)
	var req approvalRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	t, err := a.c.Banking.Approve(r.Context(), principal(r).User, id, seen, req.ConfirmationPassword)
	if err != nil {
		return err
	}
	return a.writeTransfer(w, r, http.StatusOK, t, nil)
}

// decideTransfer serves the approver's steps that take a comment: send back
// (差戻し; the comment is required there) and rejection, with If-Match as
// for the approval.
func (a *API) decideTransfer(step func(ctx context.Context, u identity.User, id, seen int64, comment string) (banking.Transfer, error)) httpedge.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		seen := seenVersion(r, transferTag, id)
		var req commentRequest
		if err := decodeOptional(w, r, &req); err != nil {
			return err
		}
		t, err := step(r.Context(), principal(r).User, id, seen, strings.TrimSpace(req.Comment))
		if err != nil {
			return err
		}
		return a.writeTransfer(w, r, http.StatusOK, t, nil)
	}
}

// cancelTransfer is POST /api/v1/transfers/{id}/cancellation: the
// requester withdraws a transfer, with an optional comment.
func (a *API) cancelTransfer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req commentRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	t, err := a.c.Banking.Cancel(r.Context(), principal(r).User, id, strings.TrimSpace(req.Comment))
	if err != nil {
		return err
	}
	return a.writeTransfer(w, r, http.StatusOK, t, nil)
}
