package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestOps_JobRunsAreCountedByJobAndResult: each run of a job is counted
// with its result and timed; a run ended by the server's stop is not.
func TestOps_JobRunsAreCountedByJobAndResult(t *testing.T) {
	m := metrics.New()
	fail := errors.New("job failed")
	jobs := timedJobs(m, []Job{
		{Name: "good", Run: func(context.Context) error { return nil }},
		{Name: "bad", Run: func(context.Context) error { return fail }},
	})
	ctx := context.Background()
	for range 2 {
		if err := jobs[0].Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := jobs[1].Run(ctx); !errors.Is(err, fail) {
		t.Fatalf("bad job: %v, want its error", err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	_ = jobs[1].Run(stopped)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`kinko_job_runs_total{job="good",result="ok"} 2`,
		`kinko_job_runs_total{job="bad",result="error"} 1`,
		`kinko_job_duration_seconds_count{job="good"} 2`,
		`kinko_job_duration_seconds_count{job="bad"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}
