package api

import (
	"net/http"
	"strconv"

	"kinko/internal/banking"
)

// batchUploadJSON is an upload awaiting its confirmation: what will be
// requested, the date that will be used and why.
type batchUploadJSON struct {
	ID            int64  `json:"id"`
	Kind          string `json:"kind"`
	FromAccountID int64  `json:"from_account_id"`
	FileName      string `json:"file_name"`
	Count         int    `json:"count"`
	Total         int64  `json:"total"`
	// Fees is the total of the items' fees (振込手数料, each 当方負担,
	// each item's in its transfer's fee).
	Fees      int64 `json:"fees"`
	Interbank bool  `json:"interbank"`
	// ExecutionDate is the date that will be used; RequestedDate the date
	// asked for, from the file's 振込指定日 (date_source "file") or the
	// request's execution_date ("page"); DateReason why they differ.
	ExecutionDate string          `json:"execution_date"`
	RequestedDate string          `json:"requested_date"`
	DateSource    string          `json:"date_source"`
	DateReason    *dateReasonJSON `json:"date_reason,omitempty"`
	// PayrollDeadline is the last moment a payroll batch may be requested.
	PayrollDeadline string         `json:"payroll_deadline,omitempty"`
	ExpiresAt       string         `json:"expires_at"`
	Transfers       []transferJSON `json:"transfers"`
}

// dateReasonJSON is why an execution date moved: holiday or after_cutoff,
// with the sentences of the confirmation page.
type dateReasonJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeUpload answers an upload awaiting confirmation.
func (a *API) writeUpload(w http.ResponseWriter, r *http.Request, status int, d banking.BatchDraft) error {
	names := a.loginIDs(r.Context(), principal(r).User.OrganizationID)
	out := batchUploadJSON{ID: d.ID, Kind: string(d.Batch.Kind), FromAccountID: d.Batch.FromAccountID, FileName: d.Batch.SourceFile,
		Count: d.Batch.Count, Total: d.Batch.Total, Fees: banking.TotalFees(d.Items), Interbank: d.Batch.Interbank, ExecutionDate: d.Batch.ExecutionDate.String(),
		RequestedDate: d.Requested.String(), DateSource: string(d.Source), ExpiresAt: timeString(d.ExpiresAt),
		Transfers: make([]transferJSON, 0, len(d.Items))}
	if d.Reason.Moved() {
		out.DateReason = &dateReasonJSON{Code: string(d.Reason.Code), Message: d.Reason.Ja() + " / " + d.Reason.En()}
	}
	if d.Batch.Kind.Payroll() {
		out.PayrollDeadline = timeString(d.PayrollDeadline)
	}
	for _, t := range d.Items {
		out.Transfers = append(out.Transfers, names.transfer(t))
	}
	writeJSON(w, status, out)
	return nil
}

// uploadBatch is POST /api/v1/batch-uploads: a 総合振込 or 給与・賞与振込
// file (the body of POST /api/v1/transfer-batches) checked and kept for its
// confirmation, for an hour; nothing is requested yet.
func (a *API) uploadBatch(w http.ResponseWriter, r *http.Request) error {
	br, source, err := a.batchRequestOf(w, r)
	if err != nil {
		return a.batchRefusal(w, err)
	}
	d, err := a.c.Banking.StageBatch(r.Context(), principal(r).User, br, source)
	if err != nil {
		return a.batchRefusal(w, err)
	}
	w.Header().Set("Location", "/api/v1/batch-uploads/"+strconv.FormatInt(d.ID, 10))
	return a.writeUpload(w, r, http.StatusCreated, d)
}

// getUpload is GET /api/v1/batch-uploads/{id}: the requester's upload, as
// it would be requested now.
func (a *API) getUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := a.c.Banking.BatchDraft(r.Context(), principal(r).User, id)
	if err != nil {
		return a.batchRefusal(w, err)
	}
	return a.writeUpload(w, r, http.StatusOK, d)
}

// confirmUpload is POST /api/v1/batch-uploads/{id}/confirmation
// (「依頼する」): the upload becomes a batch awaiting approval.
func (a *API) confirmUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u := principal(r).User
	b, err := a.c.Banking.ConfirmBatch(r.Context(), u, id)
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

// discardUpload is DELETE /api/v1/batch-uploads/{id}: the upload is
// dropped, nothing is requested.
func (a *API) discardUpload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.c.Banking.DiscardBatch(r.Context(), principal(r).User, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
