package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/zengin"
)

// pathBatchUpload is the upload of a 総合振込 file.
const pathBatchUpload = "/transfers/batch"

// maxUpload is the largest 総合振込 file accepted (about 8,700 records).
const maxUpload = 1 << 20

// batchView is a batch as the pages show it.
type batchView struct {
	ID            int64
	From          accountView
	ExecutionDate time.Time
	SourceFile    string
	Kind          string // general, salary, bonus
	KindKey       string
	Status        string
	StatusKey     string
	Count         int
	Total         money
	Fees          money // the items' fees (当方負担)
	Debited       money // Total and Fees
	RequestedBy   string
	RequestedAt   time.Time
	ApprovedBy    string
	ApprovedAt    time.Time
	Failure       string
}

func batchOf(d directory, b banking.Batch) batchView {
	v := batchView{ID: b.ID, From: d.account(b.FromAccountID), ExecutionDate: b.ExecutionDate.Time(), SourceFile: b.SourceFile,
		Kind: string(b.Kind), KindKey: batchKindKeys[b.Kind], Status: string(b.Status), StatusKey: statusKeys[b.Status], Count: b.Count, Total: money(b.Total),
		RequestedBy: d.user(b.RequestedBy), RequestedAt: b.RequestedAt, ApprovedAt: b.ApprovedAt, Failure: b.FailureReason}
	if b.ApprovedBy != 0 {
		v.ApprovedBy = d.user(b.ApprovedBy)
	}
	v.Fees, v.Debited = money(b.Fees), money(b.Total+b.Fees)
	return v
}

// batchNewPage is the data of the upload form.
type batchNewPage struct {
	Accounts       []accountView
	FromAccount    string
	ExecutionDate  string
	Today          string
	IdempotencyKey string
	MaxKiB         int
	Error          string        // the form's error
	Problems       []fileProblem // every error of the file
	FileName       string
	Discarded      bool // an upload was just dropped on its confirmation page
}

// fileProblem is one error of an uploaded file.
type fileProblem struct {
	Line    int // record number; 0 for the file as a whole
	Field   string
	Message string
}

// batchForm is GET /transfers/batch (transfer-request privilege): the
// upload of a 総合振込 file.
func (h *Handler) batchForm(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	key, err := h.newIdempotencyKey()
	if err != nil {
		return err
	}
	// An empty date is the file's 振込指定日.
	h.renderBatchForm(w, r, p, http.StatusOK, batchNewPage{IdempotencyKey: key, Discarded: r.URL.Query().Get("done") == "discarded"})
	return nil
}

// upload wraps the POST of a form with a file: it reads the multipart form
// (at most maxUpload bytes of file) and refuses it unless its form token
// matches the cookie, like form.
func (h *Handler) upload(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload+maxForm)
		if err := r.ParseMultipartForm(maxUpload + maxForm); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				h.renderError(w, r, httpedge.ErrFileTooLarge)
				return
			}
			h.renderError(w, r, httpedge.ErrBadForm)
			return
		}
		if err := checkFormToken(r, r.PostForm.Get(csrfField)); err != nil {
			h.renderError(w, r, err)
			return
		}
		next(w, r)
	}
}

// createBatch is POST /transfers/batch: the file is read as a 総合振込 file
// and every error is listed with its record and field; a good file becomes
// a batch awaiting approval, whose page is shown next.
func (h *Handler) createBatch(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f := r.PostForm
	d := batchNewPage{FromAccount: f.Get("from_account"), ExecutionDate: f.Get("execution_date"), IdempotencyKey: f.Get("idempotency_key")}
	fail := func(err error) {
		status, text := h.bankingText(r, err)
		d.Error = text
		h.renderBatchForm(w, r, p, status, d)
	}
	from, _ := strconv.ParseInt(d.FromAccount, 10, 64)
	date, err := parseDay(d.ExecutionDate)
	if err != nil {
		fail(err)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		fail(httpedge.ErrFileRequired)
		return
	}
	defer file.Close()
	d.FileName = path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	if hdr.Size > maxUpload {
		fail(httpedge.ErrFileTooLarge)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(file, maxUpload+1))
	if err != nil {
		fail(err)
		return
	}
	if len(raw) > maxUpload {
		fail(httpedge.ErrFileTooLarge)
		return
	}
	zf, err := zengin.Parse(bytes.NewReader(raw))
	var list zengin.ErrorList
	if errors.As(err, &list) {
		l := string(language(r))
		for _, fe := range list {
			d.Problems = append(d.Problems, fileProblem{Line: fe.Line, Field: fe.Field, Message: fe.Message(l)})
		}
		fail(httpedge.ErrZenginFile)
		return
	}
	if err != nil {
		fail(err)
		return
	}
	source := banking.DateFromPage
	if date.IsZero() {
		date, source = banking.FileDate(zf.Header.Date, h.c.Now()), banking.DateFromFile
	}
	req := banking.BatchRequest{FromAccountID: from, ExecutionDate: date, SourceFile: d.FileName, IdempotencyKey: d.IdempotencyKey,
		Kind: banking.BatchKindOf(zf.Header.Kind)}
	for _, rec := range zf.Records {
		typ, _ := banking.AccountTypeFromZengin(strconv.Itoa(int(rec.AccountType)))
		number := rec.AccountNumber
		if len(number) < 7 {
			number = strings.Repeat("0", 7-len(number)) + number
		}
		req.Items = append(req.Items, banking.BatchItem{Payee: banking.PayeeAccount{BankCode: rec.BankCode, BranchCode: rec.BranchCode,
			AccountType: typ, AccountNumber: number, Name: rec.PayeeName}, Amount: rec.Amount,
			CustomerCode1: rec.CustomerCode1, CustomerCode2: rec.CustomerCode2})
	}
	// Nothing is requested yet: the upload is kept for its confirmation
	// page (banking_batch_confirm.go).
	draft, err := h.c.Banking.StageBatch(r.Context(), p.User, req, source)
	var be *banking.BatchError
	if errors.As(err, &be) {
		for _, pr := range be.Problems {
			_, text := h.bankingText(r, pr.Err)
			// The header is record 1: item n is record n+1.
			d.Problems = append(d.Problems, fileProblem{Line: pr.Item + 1, Message: text})
		}
		fail(err)
		return
	}
	if err != nil {
		if errors.Is(err, banking.ErrForbidden) {
			h.refuseBanking(w, r, p, err)
			return
		}
		fail(err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d", pathBatchDraft, draft.ID), http.StatusSeeOther)
}

// renderBatchForm shows the upload form, after a refusal with every error.
func (h *Handler) renderBatchForm(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, d batchNewPage) {
	accounts, err := h.c.Banking.OrganizationAccounts(r.Context(), p.Organization.Code)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	for _, a := range accounts {
		v := accountOf(a)
		v.Balance = 0
		d.Accounts = append(d.Accounts, v)
	}
	d.Today, d.MaxKiB = calendar.DateOf(h.c.Now()).String(), maxUpload>>10
	h.render(w, r, status, "batch_new", &view{Member: memberOf(p), Page: "transfers", Data: d})
}

// batchPage is the data of a batch's page.
type batchPage struct {
	Batch      batchView
	Items      []transferView
	History    []historyView
	Approval   bool
	CanDecide  bool
	OwnRequest bool
	CanCancel  bool
	Notice     string
	Errors     map[string]string
	Comment    string
	Action     string
	DecideURL  string
	// Version, Shown and Changes are those of transferPage.
	Version int64
	Shown   string
	Changes []changeView
}

// batch is GET /batches/{id} (any banking privilege): a batch
// with its items and history.
func (h *Handler) batch(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderBatch(w, r, p, false, http.StatusOK, "", nil, false)
}

// batchApproval is GET /approvals/batches/{id} (approval privilege): a
// batch with the approver's decisions.
func (h *Handler) batchApproval(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	h.renderBatch(w, r, p, true, http.StatusOK, "", nil, false)
}

// renderBatch shows a batch's page, as renderTransfer a transfer's.
func (h *Handler) renderBatch(w http.ResponseWriter, r *http.Request, p auth.Principal, approval bool, status int,
	action string, errs map[string]string, changed bool) {
	id, err := pathID(r, "id")
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	b, items, err := h.c.Banking.Batch(r.Context(), p.User, id)
	if err != nil {
		h.refuseBanking(w, r, p, err)
		return
	}
	hs, err := h.c.Banking.BatchHistory(r.Context(), p.User, id)
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
	own := b.RequestedBy == p.User.ID
	d := batchPage{Batch: batchOf(dir, b), History: h.historyOf(r, dir, hs), Approval: approval, OwnRequest: own,
		CanDecide: pr.Approval && !own && b.Status == banking.StatusAwaitingApproval,
		CanCancel: own && (b.Status == banking.StatusAwaitingApproval || b.Status == banking.StatusSentBack),
		Errors:    errs, Action: action, DecideURL: fmt.Sprintf("/approvals/batches/%d", b.ID), Version: b.Version}
	fields := h.batchFields(dir, b)
	d.Shown = encodeShown(fields)
	if changed {
		d.Changes = changesOf(r, fields)
	}
	for _, t := range items {
		d.Items = append(d.Items, h.transferOf(dir, t))
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
	h.render(w, r, status, "batch", &view{Member: memberOf(p), Page: page, Data: d})
}

// cancelBatch is POST /batches/{id}/cancel: the requester
// withdraws a batch awaiting approval or sent back.
func (h *Handler) cancelBatch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := pathID(r, "id")
	if err == nil {
		_, err = h.c.Banking.CancelBatch(r.Context(), p.User, id, strings.TrimSpace(r.PostForm.Get("comment")))
	}
	if err != nil {
		if errors.Is(err, banking.ErrInvalidState) || errors.Is(err, banking.ErrInvalidComment) {
			status, text := h.bankingText(r, err)
			h.renderBatch(w, r, p, false, status, "cancel", map[string]string{"": text}, false)
			return nil
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/batches/%d?done=cancelled", id), http.StatusSeeOther)
	return nil
}
