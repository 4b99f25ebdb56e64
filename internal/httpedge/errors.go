package httpedge

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/messages"
)

// Errors of the edges themselves: of reading a request, before any domain
// package sees it.
var (
	// ErrNoRoute is a path or method the API does not have.
	ErrNoRoute = errors.New("httpedge: no such endpoint")
	// ErrNoPage is a path the pages do not have.
	ErrNoPage = errors.New("httpedge: no such page")
	// ErrCrossOrigin is a non-GET request a browser sent from another site.
	ErrCrossOrigin          = errors.New("httpedge: cross-origin request refused")
	ErrUnsupportedMediaType = errors.New("httpedge: request body must be application/json")
	// ErrPasswordChangeRequired is a request of a user who must first
	// change the passwords that someone else set.
	ErrPasswordChangeRequired = errors.New("httpedge: password change required")
	// ErrInvalidZenginFile is an uploaded 総合振込 file with format errors.
	ErrInvalidZenginFile = errors.New("httpedge: invalid zengin file")
	// ErrMasterPrivileges is a change of the master user's own privileges:
	// the master has all of them.
	ErrMasterPrivileges = errors.New("httpedge: the master user's privileges cannot be changed")

	// Errors of the pages' forms.
	ErrFormToken        = errors.New("httpedge: form token missing or wrong")
	ErrRequired         = errors.New("httpedge: a required field is empty")
	ErrPasswordMismatch = errors.New("httpedge: the new password and its repetition differ")
	ErrBadForm          = errors.New("httpedge: malformed form")
	// ErrWrongLoginPassword is identity.ErrInvalidCredentials where the
	// login ID is not asked for (certificate login, password change).
	ErrWrongLoginPassword = fmt.Errorf("httpedge: wrong login password: %w", identity.ErrInvalidCredentials)

	// Errors of the banking pages' forms.
	ErrAmountRequired = errors.New("httpedge: amount is empty")
	ErrAmountDecimal  = errors.New("httpedge: amount has a decimal point")
	ErrAmountNegative = errors.New("httpedge: amount is negative")
	ErrAmountInvalid  = errors.New("httpedge: amount is not a number")
	ErrAmountTooLarge = errors.New("httpedge: amount is too large")
	ErrDateInvalid    = errors.New("httpedge: date is not a date")
	ErrDateRange      = errors.New("httpedge: the end of the period is before its start")
	ErrDatePast       = errors.New("httpedge: execution date is in the past")
	ErrDateTooFar     = errors.New("httpedge: execution date is too far ahead")
	ErrDateMoved      = errors.New("httpedge: the execution date changed since the confirmation page")
	ErrCommentNeeded  = errors.New("httpedge: a comment is required")
	ErrFileRequired   = errors.New("httpedge: no file chosen")
	ErrFileTooLarge   = errors.New("httpedge: the file is too large")
	ErrZenginFile     = errors.New("httpedge: the file has format errors")
)

// RequestError is a malformed request.
type RequestError struct{ Detail string }

func (e *RequestError) Error() string { return "httpedge: invalid request: " + e.Detail }

// Refusal is how an edge answers an error: the HTTP status, the stable
// error code of the API (docs/api.md) and the catalogue key of the message
// that tells the user what happened and what to do.
type Refusal struct {
	Status int
	Code   string
	Key    string
}

// table is the one mapping of errors to refusals, for the API and the
// pages alike; the first entry that the error is (errors.Is) wins. The
// message is the catalogue's (package messages), in Japanese and English.
var table = []struct {
	err error
	Refusal
}{
	// The edges' own errors; ErrWrongLoginPassword before the
	// identity.ErrInvalidCredentials it wraps.
	{ErrNoRoute, Refusal{404, "not_found", "error.not_found"}},
	{ErrNoPage, Refusal{404, "not_found", "error.page_not_found"}},
	{ErrCrossOrigin, Refusal{403, "cross_origin", "error.cross_origin"}},
	{ErrUnsupportedMediaType, Refusal{415, "unsupported_media_type", "error.unsupported_media_type"}},
	{ErrPasswordChangeRequired, Refusal{403, "password_change_required", "error.password_change_required"}},
	{ErrInvalidZenginFile, Refusal{400, "invalid_zengin_file", "error.invalid_zengin_file"}},
	{ErrMasterPrivileges, Refusal{403, "forbidden", "error.forbidden.master_privileges"}},
	{ErrFormToken, Refusal{403, "form_token", "error.form_token"}},
	{ErrRequired, Refusal{400, "required", "error.required"}},
	{ErrPasswordMismatch, Refusal{400, "password_mismatch", "error.password_mismatch"}},
	{ErrBadForm, Refusal{400, "invalid_request", "error.invalid_request"}},
	{ErrWrongLoginPassword, Refusal{401, "invalid_credentials", "error.invalid_login_password"}},
	{ErrAmountRequired, Refusal{400, "invalid_amount", "banking.error.amount_required"}},
	{ErrAmountDecimal, Refusal{400, "invalid_amount", "banking.error.amount_decimal"}},
	{ErrAmountNegative, Refusal{400, "invalid_amount", "banking.error.amount_negative"}},
	{ErrAmountInvalid, Refusal{400, "invalid_amount", "banking.error.amount_invalid"}},
	{ErrAmountTooLarge, Refusal{400, "invalid_amount", "banking.error.amount_too_large"}},
	{ErrDateInvalid, Refusal{400, "invalid_date", "banking.error.date_invalid"}},
	{ErrDateRange, Refusal{400, "invalid_date", "banking.error.date_range"}},
	{ErrDatePast, Refusal{400, "invalid_execution_date", "banking.error.date_past"}},
	{ErrDateTooFar, Refusal{400, "invalid_execution_date", "banking.error.date_too_far"}},
	{ErrDateMoved, Refusal{409, "execution_date_moved", "banking.error.date_moved"}},
	{ErrCommentNeeded, Refusal{400, "invalid_comment", "banking.error.comment_required"}},
	{ErrFileRequired, Refusal{400, "invalid_request", "banking.error.file_required"}},
	{ErrFileTooLarge, Refusal{413, "request_too_large", "banking.error.file_too_large"}},
	{ErrZenginFile, Refusal{400, "invalid_zengin_file", "banking.error.zengin_file"}},

	// Certificates, logins and users.
	{certs.ErrInvalidCSR, Refusal{400, "invalid_csr", "error.invalid_csr"}},
	{certs.ErrUnsupportedKey, Refusal{400, "unsupported_key", "error.unsupported_key"}},
	{certs.ErrInvalidReason, Refusal{400, "invalid_reason", "error.invalid_reason"}},
	{identity.ErrInvalidCredentials, Refusal{401, "invalid_credentials", "error.invalid_credentials"}},
	{auth.ErrNoSession, Refusal{401, "unauthenticated", "error.unauthenticated"}},
	{identity.ErrInvalidConfirmation, Refusal{403, "invalid_confirmation_password", "error.invalid_confirmation_password"}},
	{auth.ErrCertificateLoginRequired, Refusal{403, "certificate_login_required", "error.certificate_login_required"}},
	{certs.ErrCertificateLoginNotEnabled, Refusal{403, "certificate_login_not_enabled", "error.certificate_login_not_enabled"}},
	{auth.ErrCertificateRequired, Refusal{403, "certificate_required", "error.certificate_required"}},
	{auth.ErrCertificateMismatch, Refusal{403, "certificate_mismatch", "error.certificate_mismatch"}},
	{auth.ErrUnknownCertificate, Refusal{403, "unknown_certificate", "error.unknown_certificate"}},
	{auth.ErrCertificateRevoked, Refusal{403, "certificate_revoked", "error.certificate_revoked"}},
	{auth.ErrCertificateExpired, Refusal{403, "certificate_expired", "error.certificate_expired"}},
	{auth.ErrCertificateNotYetValid, Refusal{403, "certificate_not_yet_valid", "error.certificate_not_yet_valid"}},
	{auth.ErrUserUnavailable, Refusal{403, "user_unavailable", "error.user_unavailable"}},
	{identity.ErrMasterUnlockByBank, Refusal{403, "master_unlock_by_bank", "error.master_unlock_by_bank"}},
	{identity.ErrMasterResetByBank, Refusal{403, "master_reset_by_bank", "error.master_reset_by_bank"}},
	{identity.ErrForbidden, Refusal{403, "forbidden", "error.forbidden"}},
	{identity.ErrNotFound, Refusal{404, "not_found", "error.not_found"}},
	{certs.ErrNotFound, Refusal{404, "not_found", "error.not_found"}},
	{certs.ErrNoActiveCertificate, Refusal{404, "no_active_certificate", "error.no_active_certificate"}},
	{certs.ErrActiveCertificateExists, Refusal{409, "active_certificate_exists", "error.active_certificate_exists"}},
	{certs.ErrOrganizationLimit, Refusal{409, "organization_certificate_limit", "error.organization_certificate_limit"}},
	{identity.ErrOrganizationUserLimit, Refusal{409, "organization_user_limit", "error.organization_user_limit"}},
	{identity.ErrLoginIDTaken, Refusal{409, "login_id_taken", "error.login_id_taken"}},
	{certs.ErrAlreadyRevoked, Refusal{409, "already_revoked", "error.already_revoked"}},
	{certs.ErrNotWithdrawable, Refusal{409, "certificate_not_withdrawable", "error.certificate_not_withdrawable"}},
	{certs.ErrRenewalNotDue, Refusal{409, "renewal_not_due", "error.renewal_not_due"}},
	{certs.ErrRenewalInProgress, Refusal{409, "renewal_in_progress", "error.renewal_in_progress"}},
	{identity.ErrNotLocked, Refusal{409, "not_locked", "error.not_locked"}},
	{identity.ErrAccountLocked, Refusal{423, "account_locked", "error.account_locked"}},
	{identity.ErrThrottled, Refusal{429, "too_many_attempts", "error.too_many_attempts"}},
	{identity.ErrInvalidName, Refusal{400, "invalid_name", "error.invalid_name"}},
	{identity.ErrInvalidEmail, Refusal{400, "invalid_email", "error.invalid_email"}},

	// Banking (docs/banking.md). "forbidden" of banking is a missing
	// privilege, not "only the master user", and "not_found" an account,
	// payee or transfer, not a user or certificate.
	{banking.ErrNotFound, Refusal{404, "not_found", "error.not_found.banking"}},
	{banking.ErrUnknownBank, Refusal{404, "unknown_bank", "error.unknown_bank"}},
	{banking.ErrForbidden, Refusal{403, "forbidden", "error.forbidden.privilege"}},
	{banking.ErrSelfApprovalForbidden, Refusal{403, "self_approval_forbidden", "error.self_approval_forbidden"}},
	{banking.ErrInsufficientFunds, Refusal{409, "insufficient_funds", "error.insufficient_funds"}},
	{banking.ErrLimitExceeded, Refusal{409, "limit_exceeded", "error.limit_exceeded"}},
	{banking.ErrInvalidState, Refusal{409, "invalid_state", "error.invalid_state"}},
	{banking.ErrExecutionDatePassed, Refusal{409, "execution_date_passed", "error.execution_date_passed"}},
	{banking.ErrPayrollDeadline, Refusal{409, "payroll_deadline", "error.payroll_deadline"}},
	{banking.ErrIdempotencyConflict, Refusal{409, "idempotency_conflict", "error.idempotency_conflict"}},
	{banking.ErrBatchItem, Refusal{409, "batch_item", "error.batch_item"}},
	{banking.ErrAccountExists, Refusal{409, "account_exists", "error.account_exists"}},
	{banking.ErrPayeeExists, Refusal{409, "payee_exists", "error.payee_exists"}},
	{banking.ErrInterbankAlreadyWritten, Refusal{409, "interbank_already_sent", "error.interbank_already_sent"}},
	{banking.ErrVersionRequired, Refusal{428, "precondition_required", "error.precondition_required"}},
	{banking.ErrTransferChanged, Refusal{412, "transfer_changed", "error.transfer_changed"}},
	{banking.ErrTooManyLookups, Refusal{429, "too_many_lookups", "error.too_many_lookups"}},
	{banking.ErrInvalidPayeeName, Refusal{400, "invalid_payee_name", "error.invalid_payee_name"}},
	{banking.ErrInvalidPayee, Refusal{400, "invalid_payee", "error.invalid_payee"}},
	{banking.ErrInvalidAccount, Refusal{400, "invalid_account", "error.invalid_account"}},
	{banking.ErrInvalidAmount, Refusal{400, "invalid_amount", "error.invalid_amount"}},
	{banking.ErrAmountNotAboveFee, Refusal{400, "amount_not_above_fee", "error.amount_not_above_fee"}},
	{banking.ErrInvalidFeePayer, Refusal{400, "invalid_fee_payer", "error.invalid_fee_payer"}},
	{banking.ErrInvalidDate, Refusal{400, "invalid_date", "error.invalid_date"}},
	{banking.ErrInvalidExecutionDate, Refusal{400, "invalid_execution_date", "error.invalid_execution_date"}},
	{banking.ErrInvalidIdempotencyKey, Refusal{400, "invalid_idempotency_key", "error.invalid_idempotency_key"}},
	{banking.ErrInvalidMemo, Refusal{400, "invalid_memo", "error.invalid_memo"}},
	{banking.ErrInvalidComment, Refusal{400, "invalid_comment", "error.invalid_comment"}},
	{banking.ErrInvalidDescription, Refusal{400, "invalid_description", "error.invalid_description"}},
	{banking.ErrInvalidCustomerCode, Refusal{400, "invalid_customer_code", "error.invalid_customer_code"}},
	{banking.ErrInvalidBatch, Refusal{400, "invalid_batch", "error.invalid_batch"}},
	{banking.ErrRequestRefRequired, Refusal{400, "request_ref_required", "error.request_ref_required"}},
	{banking.ErrUnknownEncoding, Refusal{400, "unknown_encoding", "error.unknown_encoding"}},
	{banking.ErrOutsideServiceHours, Refusal{503, "outside_service_hours", "error.outside_service_hours"}},

	// Too many password checks at once, in the server or from one client
	// address: try again after the Retry-After header's seconds.
	{identity.ErrBusy, Refusal{503, "server_busy", "error.server_busy"}},
}

// Refusals of the typed errors, and of anything else.
var (
	refuseLoginID      = Refusal{400, "invalid_login_id", "error.invalid_login_id"}
	refusePassword     = Refusal{400, "invalid_password", "error.invalid_password"}
	refuseSamePassword = Refusal{400, "invalid_password", "error.invalid_password_same"}
	refuseWeakPassword = Refusal{400, "password_too_guessable", "error.password_too_guessable"}
	refuseRequest      = Refusal{400, "invalid_request", "error.invalid_request"}
	refuseTooLarge     = Refusal{http.StatusRequestEntityTooLarge, "request_too_large", "error.request_too_large"}
	refuseInternal     = Refusal{500, "internal_error", "error.internal_error"}
)

// RefusalOf maps an error to its refusal. An error the table does not know
// is 500 internal_error, whose message says nothing of the error.
func RefusalOf(err error) Refusal {
	for _, e := range table {
		if errors.Is(err, e.err) {
			rf := e.Refusal
			var le *banking.LimitError
			if errors.As(err, &le) {
				switch le.Kind {
				case banking.LimitTransaction, banking.LimitUserDaily, banking.LimitOrganizationDaily:
					// The message says which limit the amount is over.
					rf.Key = "error.limit_exceeded." + string(le.Kind)
					if le.Master {
						// Only the bank raises the master's limits.
						rf.Key += ".master"
					}
				}
			}
			return rf
		}
	}
	var le *identity.LoginIDError
	var pe *identity.PasswordError
	var re *RequestError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &le):
		return refuseLoginID
	case errors.As(err, &pe) && (pe.Reason == "same_as_current" || pe.Reason == "same_as_other"):
		return refuseSamePassword
	case errors.As(err, &pe) && pe.Reason == "too_guessable":
		return refuseWeakPassword
	case errors.As(err, &pe):
		return refusePassword
	case errors.As(err, &mbe):
		return refuseTooLarge
	case errors.As(err, &re):
		return refuseRequest
	}
	return refuseInternal
}

// Message returns the catalogue's message under key in Japanese, then in
// English: "ja / en", as the API's error answers carry it.
func Message(key string) string {
	ja, ok1 := messages.Text("ja", key)
	en, ok2 := messages.Text("en", key)
	if !ok1 || !ok2 {
		return key // a test makes sure that every key exists
	}
	return ja + " / " + en
}

// ToStatus maps an error to an HTTP status, a stable error code and a safe
// message for the user (Message of its key).
func ToStatus(err error) (int, string, string) {
	rf := RefusalOf(err)
	return rf.Status, rf.Code, Message(rf.Key)
}

// LogRefusal logs why a request was refused: a server error with its
// detail at level error, any other refusal at level debug.
func LogRefusal(l *slog.Logger, r *http.Request, err error, rf Refusal) {
	if rf.Status >= 500 {
		l.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	l.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "code", rf.Code, "key", rf.Key, "err", err)
}

// ErrorBody is the JSON body of every error answer of the API.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// WriteJSON writes v as the JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteJSONError logs err and answers it in JSON: its status, code and
// message (ErrorBody).
func WriteJSONError(l *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	rf := RefusalOf(err)
	LogRefusal(l, r, err, rf)
	SetRetryAfterOf(w, err)
	WriteJSON(w, rf.Status, ErrorBody{Error: rf.Code, Message: Message(rf.Key)})
}

// RetryError is an error that says when to try again, as
// *identity.BusyError and *identity.ThrottledError do.
type RetryError interface {
	error
	RetryAfter() time.Duration
}

// SetRetryAfterOf sets the Retry-After header, in whole seconds rounded up
// (at least 1), when err or an error it wraps is a RetryError.
func SetRetryAfterOf(w http.ResponseWriter, err error) {
	ra, ok := errors.AsType[RetryError](err)
	if !ok {
		return
	}
	secs := max(1, int64((ra.RetryAfter()+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}
