package testutil

import (
	"testing"

	"kinko/internal/testutil/zlint"
)

// LintCertificate fails the test on any error, warning or fatal result of
// zlint's RFC 5280 lints for the DER certificate der.
func LintCertificate(t testing.TB, der []byte) {
	t.Helper()
	zlint.LintCertificate(t, der)
}
