package web

import (
	"errors"
	"net/http"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
)

// errorKey maps an error to an HTTP status and the catalogue key of its
// message: httpedge's one table, so that the pages and the API say the
// same thing.
func errorKey(err error) (int, string) {
	rf := httpedge.RefusalOf(err)
	return rf.Status, rf.Key
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
	rf := httpedge.RefusalOf(err)
	httpedge.LogRefusal(h.c.Logger, r, err, rf)
	return rf.Status, []message{{Key: rf.Key}}
}

// wrongLoginPassword turns identity.ErrInvalidCredentials into
// httpedge.ErrWrongLoginPassword, for the forms that ask for the login
// password only.
func wrongLoginPassword(err error) error {
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return httpedge.ErrWrongLoginPassword
	}
	return err
}
