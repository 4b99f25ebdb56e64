package api

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/web/messages"
)

var (
	errNotFoundRoute          = errors.New("api: no such endpoint")
	errCrossOrigin            = errors.New("api: cross-origin request refused")
	errUnsupportedMediaType   = errors.New("api: request body must be application/json")
	errPasswordChangeRequired = errors.New("api: password change required")
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
			return e.status, e.code, "error." + e.code
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
