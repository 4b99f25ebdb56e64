package web

import (
	"errors"
	"fmt"
	"net/http"

	"kinko/internal/api"
	"kinko/internal/auth"
	"kinko/internal/identity"
)

// Errors of the pages themselves.
var (
	errCrossOrigin      = errors.New("web: cross-origin request refused")
	errFormToken        = errors.New("web: form token missing or wrong")
	errRequired         = errors.New("web: a required field is empty")
	errPasswordMismatch = errors.New("web: the new password and its repetition differ")
	errNotFound         = errors.New("web: no such page")
	errBadForm          = errors.New("web: malformed form")
	// errWrongLoginPassword is identity.ErrInvalidCredentials where the
	// login ID is not asked for (certificate login, password change).
	errWrongLoginPassword = fmt.Errorf("web: wrong login password: %w", identity.ErrInvalidCredentials)
)

// webErrors are the pages' own errors with status and catalogue key.
var webErrors = []struct {
	err    error
	status int
	key    string
}{
	{errCrossOrigin, http.StatusForbidden, "error.cross_origin"},
	{errFormToken, http.StatusForbidden, "error.form_token"},
	{errRequired, http.StatusBadRequest, "error.required"},
	{errPasswordMismatch, http.StatusBadRequest, "error.password_mismatch"},
	{errNotFound, http.StatusNotFound, "error.page_not_found"},
	{errBadForm, http.StatusBadRequest, "error.invalid_request"},
	{errWrongLoginPassword, http.StatusUnauthorized, "error.invalid_login_password"},
}

// errorKey maps an error to an HTTP status and the catalogue key of its
// message. Domain errors use the API's error codes ("error." + code), so
// that the pages and the API say the same thing.
func errorKey(err error) (int, string) {
	for _, e := range webErrors {
		if errors.Is(err, e.err) {
			return e.status, e.key
		}
	}
	var pe *identity.PasswordError
	if errors.As(err, &pe) && (pe.Reason == "same_as_current" || pe.Reason == "same_as_other") {
		return http.StatusBadRequest, "error.invalid_password_same"
	}
	status, code, _ := api.ToStatus(err)
	return status, "error." + code
}

// certificateProblem reports whether err means that the presented
// certificate cannot be used, so that a new one must be issued.
func certificateProblem(err error) bool {
	for _, e := range []error{auth.ErrCertificateRevoked, auth.ErrCertificateExpired, auth.ErrUnknownCertificate,
		auth.ErrCertificateRequired, auth.ErrCertificateNotYetValid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// refusal logs why a form was refused and returns the status and message
// to show on the form.
func (h *Handler) refusal(r *http.Request, err error) (int, []message) {
	status, key := errorKey(err)
	if status >= 500 {
		h.c.Logger.ErrorContext(r.Context(), "web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		h.c.Logger.DebugContext(r.Context(), "web: form refused", "method", r.Method, "path", r.URL.Path, "key", key, "err", err)
	}
	return status, []message{{Key: key}}
}

// wrongLoginPassword turns identity.ErrInvalidCredentials into
// errWrongLoginPassword, for the forms that ask for the login password
// only.
func wrongLoginPassword(err error) error {
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return errWrongLoginPassword
	}
	return err
}
