package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/zengin"
)

// maxBatchBody bounds the body of a batch upload: a file of the most items
// a batch may have (banking.MaxBatchItems records of 122 bytes), in
// base64, with room to spare.
const maxBatchBody = 4 << 20

type batchJSON struct {
	ID            int64          `json:"id"`
	Kind          string         `json:"kind"` // general (総合振込), salary (給与振込), bonus (賞与振込)
	FromAccountID int64          `json:"from_account_id"`
	ExecutionDate string         `json:"execution_date"`
	FileName      string         `json:"file_name"`
	Status        string         `json:"status"`
	Count         int            `json:"count"`
	Total         int64          `json:"total"`
	Fees          int64          `json:"fees"`
	Interbank     bool           `json:"interbank"`
	RequestedBy   string         `json:"requested_by"`
	RequestedAt   string         `json:"requested_at"`
	ApprovedBy    string         `json:"approved_by,omitempty"`
	ApprovedAt    string         `json:"approved_at,omitempty"`
	ExecutedAt    string         `json:"executed_at,omitempty"`
	FailureReason string         `json:"failure_reason,omitempty"`
	UpdatedAt     string         `json:"updated_at"`
	Transfers     []transferJSON `json:"transfers,omitempty"`
	History       []historyJSON  `json:"history,omitempty"`
}

func (l *loginIDs) batch(b banking.Batch) batchJSON {
	return batchJSON{ID: b.ID, Kind: string(b.Kind), FromAccountID: b.FromAccountID, ExecutionDate: b.ExecutionDate.String(), FileName: b.SourceFile,
		Status: string(b.Status), Count: b.Count, Total: b.Total, Fees: b.Fees, Interbank: b.Interbank,
		RequestedBy: l.of(b.RequestedBy), RequestedAt: timeString(b.RequestedAt),
		ApprovedBy: l.of(b.ApprovedBy), ApprovedAt: optionalTime(b.ApprovedAt), ExecutedAt: optionalTime(b.ExecutedAt),
		FailureReason: b.FailureReason, UpdatedAt: timeString(b.UpdatedAt)}
}

// writeBatch answers a batch with its transfers (and its history when h is
// not nil), with its ETag.
func (a *API) writeBatch(w http.ResponseWriter, r *http.Request, status int, b banking.Batch, ts []banking.Transfer, h []banking.HistoryEntry) error {
	names := a.loginIDs(r.Context(), principal(r).User.OrganizationID)
	out := names.batch(b)
	if err := names.markNewPayees(ts...); err != nil {
		return err
	}
	for _, t := range ts {
		out.Transfers = append(out.Transfers, names.transfer(t))
	}
	if h != nil {
		out.History = historyOf(h)
	}
	if b.Version > 0 {
		w.Header().Set("ETag", etag(batchTag, b.ID, b.Version))
	}
	writeJSON(w, status, out)
	return nil
}

// fileErrorJSON is one problem of an uploaded file: the record (line) it is
// in, counting from 1, the field, a stable code and a message.
type fileErrorJSON struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// errorListBody is the error body of a refused upload: every problem.
type errorListBody struct {
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Errors  []fileErrorJSON `json:"errors"`
}

// problemsError is a refusal of an upload (invalid_zengin_file or
// invalid_batch) answered with every problem of the file.
type problemsError struct {
	err  error
	list []fileErrorJSON
}

func (e *problemsError) Error() string { return fmt.Sprintf("%v (%d problems)", e.err, len(e.list)) }

func (e *problemsError) Unwrap() error { return e.err }

// writeErrorList writes the answer of err (invalid_zengin_file or
// invalid_batch) with every problem of the file.
func (a *API) writeErrorList(w http.ResponseWriter, r *http.Request, err error, list []fileErrorJSON) {
	rf := httpedge.RefusalOf(err)
	a.c.Logger.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "code", rf.Code, "problems", len(list))
	writeJSON(w, rf.Status, errorListBody{Error: rf.Code, Message: httpedge.Message(rf.Key), Errors: list})
}

type batchUploadRequest struct {
	FromAccountID int64  `json:"from_account_id"`
	ExecutionDate string `json:"execution_date"`
	File          string `json:"file"` // base64 of the 総合振込 file
	FileName      string `json:"file_name"`
}

// createBatch is POST /api/v1/transfer-batches: a 総合振込 (or 給与・賞与振込)
// file uploaded as a batch of transfers awaiting approval as one, at once.
// A file that does not follow the format is refused with every error
// (invalid_zengin_file); a file whose transfers cannot be made is refused
// with every item's problem (invalid_batch). POST /api/v1/batch-uploads
// shows the same file for a confirmation first.
func (a *API) createBatch(w http.ResponseWriter, r *http.Request) error {
	br, _, err := a.batchRequestOf(w, r)
	if err != nil {
		return a.batchRefusal(w, err)
	}
	u := principal(r).User
	b, err := a.c.Banking.CreateBatch(r.Context(), u, br)
	if err != nil {
		return a.batchRefusal(w, err)
	}
	_, ts, err := a.c.Banking.Batch(r.Context(), u, b.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/transfer-batches/"+strconv.FormatInt(b.ID, 10))
	return a.writeBatch(w, r, http.StatusCreated, b, ts, nil)
}

// batchRequestOf reads the body of an upload (batchUploadRequest) as a
// batch request: the file's transfers, its kind (種別コード), and its date:
// the request's execution_date, or the file's 振込指定日 when it has none.
func (a *API) batchRequestOf(w http.ResponseWriter, r *http.Request) (banking.BatchRequest, banking.DateSource, error) {
	var req batchUploadRequest
	if err := decodeLarge(w, r, &req, maxBatchBody); err != nil {
		return banking.BatchRequest{}, "", err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(req.File))
	if err != nil {
		return banking.BatchRequest{}, "", &httpedge.RequestError{Detail: "file is not base64"}
	}
	f, err := zengin.Parse(bytes.NewReader(raw))
	if err != nil {
		var list zengin.ErrorList
		if !errors.As(err, &list) {
			return banking.BatchRequest{}, "", err
		}
		out := make([]fileErrorJSON, 0, len(list))
		for _, e := range list {
			out = append(out, fileErrorJSON{Line: e.Line, Field: e.Field, Code: e.Code, Value: e.Value,
				Message: e.Message("ja") + " / " + e.Message("en")})
		}
		return banking.BatchRequest{}, "", &problemsError{err: httpedge.ErrInvalidZenginFile, list: out}
	}
	u := principal(r).User
	br := banking.BatchRequest{FromAccountID: req.FromAccountID, SourceFile: strings.TrimSpace(req.FileName),
		Kind: banking.BatchKindOf(f.Header.Kind), IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Items: make([]banking.BatchItem, 0, len(f.Records))}
	if br.ExecutionDate, err = parseDate(req.ExecutionDate); err != nil {
		return banking.BatchRequest{}, "", err
	}
	source := banking.DateFromPage
	if br.ExecutionDate.IsZero() {
		br.ExecutionDate, source = nextMonthDay(f.Header.Date, a.c.Now()), banking.DateFromFile
	}
	if br.FromAccountID == 0 {
		if br.FromAccountID, err = a.requesterAccount(r.Context(), u, f.Header); err != nil {
			return banking.BatchRequest{}, "", err
		}
	}
	for _, t := range f.Records {
		typ, _ := banking.AccountTypeFromZengin(strconv.Itoa(int(t.AccountType)))
		br.Items = append(br.Items, banking.BatchItem{Payee: banking.PayeeAccount{BankCode: t.BankCode, BranchCode: t.BranchCode,
			AccountType: typ, AccountNumber: zeroPad(t.AccountNumber, 7), Name: t.PayeeName},
			Amount: t.Amount, CustomerCode1: t.CustomerCode1, CustomerCode2: t.CustomerCode2})
	}
	return br, source, nil
}

// payrollDeadlineBody is the answer of a payroll file past its deadline:
// the code, the message naming the last day, and the day and time.
type payrollDeadlineBody struct {
	Error    string `json:"error"`
	Message  string `json:"message"`
	Payment  string `json:"payment_date"`
	LastDay  string `json:"last_day"`
	Deadline string `json:"deadline"`
}

// batchRefusal returns the refusal of an upload: every item's problem of a
// *banking.BatchError; a payroll file past its deadline is answered here
// with the last day it could have been requested.
func (a *API) batchRefusal(w http.ResponseWriter, err error) error {
	var be *banking.BatchError
	if errors.As(err, &be) {
		out := make([]fileErrorJSON, 0, len(be.Problems))
		for _, p := range be.Problems {
			_, code, msg := httpedge.ToStatus(p.Err)
			// Item n is the n-th data record: record n+1 after the header.
			out = append(out, fileErrorJSON{Line: p.Item + 1, Code: code, Message: msg})
		}
		return &problemsError{err: err, list: out}
	}
	var de *banking.PayrollDeadlineError
	if errors.As(err, &de) {
		rf := httpedge.RefusalOf(err)
		writeJSON(w, rf.Status, payrollDeadlineBody{Error: rf.Code, Message: de.Ja() + " / " + de.En(),
			Payment: de.Payment.String(), LastDay: de.LastDay.String(), Deadline: timeString(de.LastDay.At(de.Cutoff))})
		return nil
	}
	return err
}

// requesterAccount returns the account of u's organization that a file's
// header names (振込依頼人の支店・預金種目・口座番号); any other is not found.
func (a *API) requesterAccount(ctx context.Context, u identity.User, h zengin.Header) (int64, error) {
	typ, ok := banking.AccountTypeFromZengin(strconv.Itoa(int(h.AccountType)))
	if !ok {
		return 0, banking.ErrNotFound
	}
	ac, err := a.c.Banking.LookupAccount(ctx, h.BranchCode, typ, zeroPad(h.AccountNumber, 7))
	if errors.Is(err, banking.ErrNotFound) || errors.Is(err, banking.ErrInvalidAccount) || (err == nil && ac.OrganizationID != u.OrganizationID) {
		return 0, banking.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return ac.ID, nil
}

// nextMonthDay returns the first day on or after today (in Japan) with the
// month and day of a file's 振込指定日.
func nextMonthDay(md zengin.MonthDay, now time.Time) calendar.Date {
	today := calendar.DateOf(now)
	for year := today.Year; year <= today.Year+4; year++ {
		d := calendar.Date{Year: year, Month: md.Month, Day: md.Day}
		if calendar.NewDate(year, md.Month, md.Day) != d { // 29 February of another year
			continue
		}
		if !d.Before(today) {
			return d
		}
	}
	return calendar.Date{Year: today.Year, Month: md.Month, Day: md.Day}
}

// zeroPad pads a string of digits with zeros on the left to n.
func zeroPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}

// listBatches is GET /api/v1/transfer-batches?page=&per_page=: the
// organization's batches, newest first.
func (a *API) listBatches(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := queryInt(q, "page")
	if err != nil {
		return err
	}
	perPage, err := queryInt(q, "per_page")
	if err != nil {
		return err
	}
	u := principal(r).User
	p, err := a.c.Banking.Batches(r.Context(), u, page, perPage)
	if err != nil {
		return err
	}
	names := a.loginIDs(r.Context(), u.OrganizationID)
	out := make([]batchJSON, 0, len(p.Batches))
	for _, b := range p.Batches {
		out = append(out, names.batch(b))
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": out, "total": p.Total, "page": p.Page, "per_page": p.PerPage})
	return nil
}

// getBatch is GET /api/v1/transfer-batches/{id}: a batch with its
// transfers and history.
func (a *API) getBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u := principal(r).User
	b, ts, err := a.c.Banking.Batch(r.Context(), u, id)
	if err != nil {
		return err
	}
	h, err := a.c.Banking.BatchHistory(r.Context(), u, id)
	if err != nil {
		return err
	}
	return a.writeBatch(w, r, http.StatusOK, b, ts, h)
}

// approveBatch is POST /api/v1/transfer-batches/{id}/approval
// {"confirmation_password"}, with If-Match: the ETag of the batch the
// approver was shown.
func (a *API) approveBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	seen := seenVersion(r, batchTag, id)
	var req approvalRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	b, err := a.c.Banking.ApproveBatch(r.Context(), principal(r).User, id, seen, req.ConfirmationPassword)
	if err != nil {
		return err
	}
	return a.writeBatch(w, r, http.StatusOK, b, nil, nil)
}

// decideBatch serves send back and rejection of a batch, with If-Match as
// for the approval.
func (a *API) decideBatch(step func(ctx context.Context, u identity.User, id, seen int64, comment string) (banking.Batch, error)) httpedge.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		seen := seenVersion(r, batchTag, id)
		var req commentRequest
		if err := decodeOptional(w, r, &req); err != nil {
			return err
		}
		b, err := step(r.Context(), principal(r).User, id, seen, strings.TrimSpace(req.Comment))
		if err != nil {
			return err
		}
		return a.writeBatch(w, r, http.StatusOK, b, nil, nil)
	}
}

// cancelBatch is POST /api/v1/transfer-batches/{id}/cancellation: the
// requester withdraws a batch, with an optional comment.
func (a *API) cancelBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req commentRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	b, err := a.c.Banking.CancelBatch(r.Context(), principal(r).User, id, strings.TrimSpace(req.Comment))
	if err != nil {
		return err
	}
	return a.writeBatch(w, r, http.StatusOK, b, nil, nil)
}
