package api

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/messages"
)

var (
	errNotFoundRoute          = errors.New("api: no such endpoint")
	errCrossOrigin            = errors.New("api: cross-origin request refused")
	errUnsupportedMediaType   = errors.New("api: request body must be application/json")
	errPasswordChangeRequired = errors.New("api: password change required")
	// errInvalidZenginFile is an uploaded 総合振込 file with format errors;
	// the answer lists each (zenginFileError).
	errInvalidZenginFile = errors.New("api: invalid zengin file")
	// errMasterPrivileges is a change of the master user's own privileges:
	// the master has all of them.
	errMasterPrivileges = errors.New("api: the master user's privileges cannot be changed")
)

// requestError is a malformed request.
type requestError struct{ detail string }

func (e *requestError) Error() string { return "api: invalid request: " + e.detail }

type errorInfo struct {
	status int
	code   string
}

// errorTable maps domain errors to status and code. The message that tells
// the user what happened and what to do is the catalogue's "error.<code>"
// (package messages), in Japanese and then English.
var errorTable = []struct {
	err error
	errorInfo
}{
	{certs.ErrInvalidCSR, errorInfo{400, "invalid_csr"}},
	{certs.ErrUnsupportedKey, errorInfo{400, "unsupported_key"}},
	{certs.ErrInvalidReason, errorInfo{400, "invalid_reason"}},
	{identity.ErrInvalidCredentials, errorInfo{401, "invalid_credentials"}},
	{auth.ErrNoSession, errorInfo{401, "unauthenticated"}},
	{identity.ErrInvalidConfirmation, errorInfo{403, "invalid_confirmation_password"}},
	{auth.ErrCertificateLoginRequired, errorInfo{403, "certificate_login_required"}},
	{certs.ErrCertificateLoginNotEnabled, errorInfo{403, "certificate_login_not_enabled"}},
	{auth.ErrCertificateRequired, errorInfo{403, "certificate_required"}},
	{auth.ErrCertificateMismatch, errorInfo{403, "certificate_mismatch"}},
	{auth.ErrUnknownCertificate, errorInfo{403, "unknown_certificate"}},
	{auth.ErrCertificateRevoked, errorInfo{403, "certificate_revoked"}},
	{auth.ErrCertificateExpired, errorInfo{403, "certificate_expired"}},
	{auth.ErrCertificateNotYetValid, errorInfo{403, "certificate_not_yet_valid"}},
	{auth.ErrUserUnavailable, errorInfo{403, "user_unavailable"}},
	{identity.ErrMasterUnlockByBank, errorInfo{403, "master_unlock_by_bank"}},
	{identity.ErrForbidden, errorInfo{403, "forbidden"}},
	{errPasswordChangeRequired, errorInfo{403, "password_change_required"}},
	{errCrossOrigin, errorInfo{403, "cross_origin"}},
	{identity.ErrNotFound, errorInfo{404, "not_found"}},
	{certs.ErrNotFound, errorInfo{404, "not_found"}},
	{certs.ErrNoActiveCertificate, errorInfo{404, "no_active_certificate"}},
	{errNotFoundRoute, errorInfo{404, "not_found"}},
	{certs.ErrActiveCertificateExists, errorInfo{409, "active_certificate_exists"}},
	{certs.ErrOrganizationLimit, errorInfo{409, "organization_certificate_limit"}},
	{identity.ErrOrganizationUserLimit, errorInfo{409, "organization_user_limit"}},
	{identity.ErrLoginIDTaken, errorInfo{409, "login_id_taken"}},
	{certs.ErrAlreadyRevoked, errorInfo{409, "already_revoked"}},
	{certs.ErrRenewalNotDue, errorInfo{409, "renewal_not_due"}},
	{certs.ErrRenewalInProgress, errorInfo{409, "renewal_in_progress"}},
	{identity.ErrNotLocked, errorInfo{409, "not_locked"}},
	{errUnsupportedMediaType, errorInfo{415, "unsupported_media_type"}},
	{identity.ErrAccountLocked, errorInfo{423, "account_locked"}},
	{identity.ErrInvalidName, errorInfo{400, "invalid_name"}},
	{identity.ErrInvalidEmail, errorInfo{400, "invalid_email"}},

	// Banking (docs/banking.md).
	{banking.ErrNotFound, errorInfo{404, "not_found"}},
	{banking.ErrForbidden, errorInfo{403, "forbidden"}},
	{errMasterPrivileges, errorInfo{403, "forbidden"}},
	{banking.ErrSelfApprovalForbidden, errorInfo{403, "self_approval_forbidden"}},
	{banking.ErrInsufficientFunds, errorInfo{409, "insufficient_funds"}},
	{banking.ErrLimitExceeded, errorInfo{409, "limit_exceeded"}},
	{banking.ErrInvalidState, errorInfo{409, "invalid_state"}},
	{banking.ErrExecutionDatePassed, errorInfo{409, "execution_date_passed"}},
	{banking.ErrIdempotencyConflict, errorInfo{409, "idempotency_conflict"}},
	{banking.ErrBatchItem, errorInfo{409, "batch_item"}},
	{banking.ErrAccountExists, errorInfo{409, "account_exists"}},
	{banking.ErrPayeeExists, errorInfo{409, "payee_exists"}},
	{banking.ErrInterbankAlreadyWritten, errorInfo{409, "interbank_already_sent"}},
	{banking.ErrInvalidPayeeName, errorInfo{400, "invalid_payee_name"}},
	{banking.ErrInvalidPayee, errorInfo{400, "invalid_payee"}},
	{banking.ErrInvalidAccount, errorInfo{400, "invalid_account"}},
	{banking.ErrInvalidAmount, errorInfo{400, "invalid_amount"}},
	{banking.ErrInvalidDate, errorInfo{400, "invalid_date"}},
	{banking.ErrInvalidExecutionDate, errorInfo{400, "invalid_execution_date"}},
	{banking.ErrInvalidIdempotencyKey, errorInfo{400, "invalid_idempotency_key"}},
	{banking.ErrInvalidMemo, errorInfo{400, "invalid_memo"}},
	{banking.ErrInvalidComment, errorInfo{400, "invalid_comment"}},
	{banking.ErrInvalidDescription, errorInfo{400, "invalid_description"}},
	{banking.ErrInvalidCustomerCode, errorInfo{400, "invalid_customer_code"}},
	{banking.ErrInvalidBatch, errorInfo{400, "invalid_batch"}},
	{banking.ErrRequestRefRequired, errorInfo{400, "request_ref_required"}},
	{banking.ErrUnknownEncoding, errorInfo{400, "unknown_encoding"}},
	{errInvalidZenginFile, errorInfo{400, "invalid_zengin_file"}},
	{banking.ErrOutsideServiceHours, errorInfo{503, "outside_service_hours"}},
}

// messageKeys are the catalogue keys of errors whose code is shared with
// other errors but whose message must say something else: "forbidden" of
// banking is a missing privilege, not "only the master user", and
// "not_found" of banking is an account, payee or transfer, not a user or
// certificate.
var messageKeys = map[error]string{
	banking.ErrForbidden: "error.forbidden.privilege",
	errMasterPrivileges:  "error.forbidden.master_privileges",
	banking.ErrNotFound:  "error.not_found.banking",
}

// limitKey returns the catalogue key of the message of a limit error: which
// limit the amount is over.
func limitKey(err error) (string, bool) {
	var le *banking.LimitError
	if !errors.As(err, &le) {
		return "", false
	}
	switch le.Kind {
	case banking.LimitTransaction, banking.LimitUserDaily, banking.LimitOrganizationDaily:
		return "error.limit_exceeded." + string(le.Kind), true
	}
	return "", false
}

var (
	loginIDMessage  = errorInfo{400, "invalid_login_id"}
	passwordMessage = errorInfo{400, "invalid_password"}
	samePassword    = errorInfo{400, "invalid_password"}
	badRequest      = errorInfo{400, "invalid_request"}
	tooLarge        = errorInfo{http.StatusRequestEntityTooLarge, "request_too_large"}
	internal        = errorInfo{500, "internal_error"}
)

// message returns the catalogue's message under key in Japanese, then in
// English: "ja / en".
func message(key string) string {
	ja, ok1 := messages.Text("ja", key)
	en, ok2 := messages.Text("en", key)
	if !ok1 || !ok2 {
		return key // a test makes sure that every key exists
	}
	return ja + " / " + en
}

// ToStatus maps an error to an HTTP status, a stable error code and a safe
// message for the user.
func ToStatus(err error) (int, string, string) {
	status, code, key := toStatus(err)
	return status, code, message(key)
}

// toStatus maps an error to status, code and the catalogue key of its
// message.
func toStatus(err error) (int, string, string) {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			key := "error." + e.code
			if k, ok := messageKeys[e.err]; ok {
				key = k
			} else if k, ok := limitKey(err); ok {
				key = k
			}
			return e.status, e.code, key
		}
	}
	var le *identity.LoginIDError
	var pe *identity.PasswordError
	var re *requestError
	var mbe *http.MaxBytesError
	var info errorInfo
	key := ""
	switch {
	case errors.As(err, &le):
		info = loginIDMessage
	case errors.As(err, &pe) && (pe.Reason == "same_as_current" || pe.Reason == "same_as_other"):
		info, key = samePassword, "error.invalid_password_same"
	case errors.As(err, &pe):
		info = passwordMessage
	case errors.As(err, &mbe):
		info = tooLarge
	case errors.As(err, &re):
		info = badRequest
	default:
		info = internal
	}
	if key == "" {
		key = "error." + info.code
	}
	return info.status, info.code, key
}
