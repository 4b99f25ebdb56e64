package server

import (
	"crypto/x509"
	"errors"
	"fmt"
	"testing"

	"kinko/internal/auth"
	"kinko/internal/metrics"
)

// TestOps_RefusalReasonsAreBounded: a refused handshake is counted by the
// chain's fault or the API code of the database check's refusal, never by
// the text of an error.
func TestOps_RefusalReasonsAreBounded(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("server: client certificate: %w", err) }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{wrap(x509.UnknownAuthorityError{}), "unknown_authority"},
		{wrap(x509.CertificateInvalidError{Reason: x509.IncompatibleUsage}), "incompatible_usage"},
		{wrap(x509.CertificateInvalidError{Reason: x509.Expired}), "chain_expired"},
		{wrap(x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}), "invalid_chain"},
		{auth.ErrUnknownCertificate, "unknown_certificate"},
		{errors.New("store: connection reset at 10.1.2.3"), "internal_error"},
	} {
		if got := refusalReason(tc.err); got != tc.want {
			t.Errorf("refusalReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got := result(nil); got != metrics.OK {
		t.Errorf("result(nil) = %q, want %q", got, metrics.OK)
	}
}
