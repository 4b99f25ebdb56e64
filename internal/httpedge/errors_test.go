package httpedge

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kinko/internal/auth"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/messages"
	"kinko/internal/pki"
)

// wantStatus is the error mapping of the API, written out independently of
// table: the codes and statuses that docs/api.md and clients rely on.
var wantStatus = []struct {
	err    error
	status int
	code   string
}{
	{certs.ErrInvalidCSR, 400, "invalid_csr"},
	{certs.ErrUnsupportedKey, 400, "unsupported_key"},
	{certs.ErrInvalidReason, 400, "invalid_reason"},
	{identity.ErrInvalidName, 400, "invalid_name"},
	{identity.ErrInvalidEmail, 400, "invalid_email"},
	{identity.ErrInvalidCredentials, 401, "invalid_credentials"},
	{auth.ErrNoSession, 401, "unauthenticated"},
	{identity.ErrInvalidConfirmation, 403, "invalid_confirmation_password"},
	{auth.ErrCertificateLoginRequired, 403, "certificate_login_required"},
	{certs.ErrCertificateLoginNotEnabled, 403, "certificate_login_not_enabled"},
	{auth.ErrCertificateRequired, 403, "certificate_required"},
	{auth.ErrCertificateMismatch, 403, "certificate_mismatch"},
	{auth.ErrUnknownCertificate, 403, "unknown_certificate"},
	{auth.ErrCertificateRevoked, 403, "certificate_revoked"},
	{auth.ErrCertificateExpired, 403, "certificate_expired"},
	{auth.ErrCertificateNotYetValid, 403, "certificate_not_yet_valid"},
	{auth.ErrUserUnavailable, 403, "user_unavailable"},
	{identity.ErrMasterUnlockByBank, 403, "master_unlock_by_bank"},
	{identity.ErrMasterResetByBank, 403, "master_reset_by_bank"},
	{identity.ErrForbidden, 403, "forbidden"},
	{ErrPasswordChangeRequired, 403, "password_change_required"},
	{ErrCrossOrigin, 403, "cross_origin"},
	{identity.ErrNotFound, 404, "not_found"},
	{certs.ErrNotFound, 404, "not_found"},
	{certs.ErrNoActiveCertificate, 404, "no_active_certificate"},
	{ErrNoRoute, 404, "not_found"},
	{certs.ErrActiveCertificateExists, 409, "active_certificate_exists"},
	{certs.ErrOrganizationLimit, 409, "organization_certificate_limit"},
	{identity.ErrOrganizationUserLimit, 409, "organization_user_limit"},
	{identity.ErrLoginIDTaken, 409, "login_id_taken"},
	{certs.ErrAlreadyRevoked, 409, "already_revoked"},
	{certs.ErrNotWithdrawable, 409, "certificate_not_withdrawable"},
	{certs.ErrRenewalNotDue, 409, "renewal_not_due"},
	{certs.ErrRenewalInProgress, 409, "renewal_in_progress"},
	{identity.ErrNotLocked, 409, "not_locked"},
	{ErrUnsupportedMediaType, 415, "unsupported_media_type"},
	{identity.ErrAccountLocked, 423, "account_locked"},
	{identity.ErrThrottled, 429, "too_many_attempts"},
	{banking.ErrTransferChanged, 412, "transfer_changed"},
	{banking.ErrVersionRequired, 428, "precondition_required"},
	{banking.ErrTooManyLookups, 429, "too_many_lookups"},

	{banking.ErrNotFound, 404, "not_found"},
	{banking.ErrUnknownBank, 404, "unknown_bank"},
	{banking.ErrForbidden, 403, "forbidden"},
	{ErrMasterPrivileges, 403, "forbidden"},
	{banking.ErrSelfApprovalForbidden, 403, "self_approval_forbidden"},
	{banking.ErrInsufficientFunds, 409, "insufficient_funds"},
	{banking.ErrLimitExceeded, 409, "limit_exceeded"},
	{banking.ErrInvalidState, 409, "invalid_state"},
	{banking.ErrExecutionDatePassed, 409, "execution_date_passed"},
	{banking.ErrPayrollDeadline, 409, "payroll_deadline"},
	{banking.ErrIdempotencyConflict, 409, "idempotency_conflict"},
	{banking.ErrBatchItem, 409, "batch_item"},
	{banking.ErrAccountExists, 409, "account_exists"},
	{banking.ErrPayeeExists, 409, "payee_exists"},
	{banking.ErrInterbankAlreadyWritten, 409, "interbank_already_sent"},
	{banking.ErrInvalidPayeeName, 400, "invalid_payee_name"},
	{banking.ErrInvalidPayee, 400, "invalid_payee"},
	{banking.ErrInvalidAccount, 400, "invalid_account"},
	{banking.ErrInvalidAmount, 400, "invalid_amount"},
	{banking.ErrAmountNotAboveFee, 400, "amount_not_above_fee"},
	{banking.ErrInvalidFeePayer, 400, "invalid_fee_payer"},
	{banking.ErrInvalidDate, 400, "invalid_date"},
	{banking.ErrInvalidExecutionDate, 400, "invalid_execution_date"},
	{banking.ErrInvalidIdempotencyKey, 400, "invalid_idempotency_key"},
	{banking.ErrInvalidMemo, 400, "invalid_memo"},
	{banking.ErrInvalidComment, 400, "invalid_comment"},
	{banking.ErrInvalidDescription, 400, "invalid_description"},
	{banking.ErrInvalidCustomerCode, 400, "invalid_customer_code"},
	{banking.ErrInvalidBatch, 400, "invalid_batch"},
	{banking.ErrRequestRefRequired, 400, "request_ref_required"},
	{banking.ErrUnknownEncoding, 400, "unknown_encoding"},
	{ErrInvalidZenginFile, 400, "invalid_zengin_file"},
	{banking.ErrOutsideServiceHours, 503, "outside_service_hours"},
	{identity.ErrBusy, 503, "server_busy"},

	// The pages' own refusals: their codes are never sent, their statuses
	// and messages are the pages'.
	{ErrNoPage, 404, "not_found"},
	{ErrFormToken, 403, "form_token"},
	{ErrRequired, 400, "required"},
	{ErrPasswordMismatch, 400, "password_mismatch"},
	{ErrBadForm, 400, "invalid_request"},
	{ErrWrongLoginPassword, 401, "invalid_credentials"},
	{ErrAmountRequired, 400, "invalid_amount"},
	{ErrAmountDecimal, 400, "invalid_amount"},
	{ErrAmountNegative, 400, "invalid_amount"},
	{ErrAmountInvalid, 400, "invalid_amount"},
	{ErrAmountTooLarge, 400, "invalid_amount"},
	{ErrDateInvalid, 400, "invalid_date"},
	{ErrDateRange, 400, "invalid_date"},
	{ErrDatePast, 400, "invalid_execution_date"},
	{ErrDateTooFar, 400, "invalid_execution_date"},
	{ErrDateMoved, 409, "execution_date_moved"},
	{ErrCommentNeeded, 400, "invalid_comment"},
	{ErrFileRequired, 400, "invalid_request"},
	{ErrFileTooLarge, 413, "request_too_large"},
	{ErrZenginFile, 400, "invalid_zengin_file"},
}

func TestToStatusErrorTable(t *testing.T) {
	// Every entry of the table is one of the expected mappings, and the
	// other way round.
	if len(table) != len(wantStatus) {
		t.Errorf("error table has %d entries, this test %d: keep them in step", len(table), len(wantStatus))
	}
	for _, e := range table {
		found := false
		for _, w := range wantStatus {
			if w.err == e.err {
				found = true
				if w.status != e.Status || w.code != e.Code {
					t.Errorf("table maps %v to %d %s, want %d %s", e.err, e.Status, e.Code, w.status, w.code)
				}
			}
		}
		if !found {
			t.Errorf("table entry %v (%d %s) is not tested", e.err, e.Status, e.Code)
		}
	}
	for _, w := range wantStatus {
		for name, err := range map[string]error{
			"bare":                  w.err,
			"wrapped":               fmt.Errorf("store: something: %w", w.err),
			"wrapped twice":         fmt.Errorf("certs: issue for %q: %w", "abc123", fmt.Errorf("inner: %w", w.err)),
			"joined":                errors.Join(errors.New("cleanup failed"), w.err),
			"wrapped with %w twice": fmt.Errorf("%w: %w", w.err, errors.New("detail")),
		} {
			t.Run(w.code+" "+name, func(t *testing.T) {
				status, code, msg := ToStatus(err)
				if status != w.status || code != w.code {
					t.Fatalf("ToStatus(%v) = %d %s, want %d %s", err, status, code, w.status, w.code)
				}
				if !strings.Contains(msg, " / ") || msg == Message("error.internal_error") {
					t.Errorf("message %q is not the entry's Japanese / English text", msg)
				}
				if strings.Contains(msg, err.Error()) {
					t.Errorf("message %q carries the error text", msg)
				}
			})
		}
	}
}

func TestToStatusSharedErrors(t *testing.T) {
	// certs re-exports some errors; they map the same.
	for _, tc := range []struct {
		a, b error
	}{
		{certs.ErrForbidden, identity.ErrForbidden},
		{certs.ErrInvalidCSR, pki.ErrInvalidCSR},
		{certs.ErrUnsupportedKey, pki.ErrUnsupportedKey},
	} {
		sa, ca, _ := ToStatus(tc.a)
		sb, cb, _ := ToStatus(tc.b)
		if sa != sb || ca != cb {
			t.Errorf("%v -> %d %s but %v -> %d %s", tc.a, sa, ca, tc.b, sb, cb)
		}
	}
	// A CSR error from pki carries its cause after the sentinel.
	if s, c, _ := ToStatus(fmt.Errorf("%w: %w", pki.ErrInvalidCSR, errors.New("asn1: structure error"))); s != 400 || c != "invalid_csr" {
		t.Errorf("pki CSR error -> %d %s, want 400 invalid_csr", s, c)
	}
}

func TestToStatusTypedErrors(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"login ID", &identity.LoginIDError{Reason: "length"}, 400, "invalid_login_id", Message("error.invalid_login_id")},
		{"password length", &identity.PasswordError{Reason: "length"}, 400, "invalid_password", Message("error.invalid_password")},
		{"password characters", fmt.Errorf("x: %w", &identity.PasswordError{Reason: "characters"}), 400, "invalid_password", Message("error.invalid_password")},
		{"password same as login ID", &identity.PasswordError{Reason: "same_as_login_id"}, 400, "invalid_password", Message("error.invalid_password")},
		{"password same as current", &identity.PasswordError{Reason: "same_as_current"}, 400, "invalid_password", Message("error.invalid_password_same")},
		{"password same as other", fmt.Errorf("x: %w", &identity.PasswordError{Reason: "same_as_other"}), 400, "invalid_password", Message("error.invalid_password_same")},
		{"malformed request", &RequestError{Detail: "bad JSON"}, 400, "invalid_request", Message("error.invalid_request")},
		{"body too large", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 1 << 16}), 413, "request_too_large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := ToStatus(tc.err)
			if status != tc.status || code != tc.code {
				t.Fatalf("ToStatus(%v) = %d %s, want %d %s", tc.err, status, code, tc.status, tc.code)
			}
			if tc.message != "" && msg != tc.message {
				t.Errorf("message %q, want %q", msg, tc.message)
			}
			if msg == "" || strings.Contains(msg, tc.err.Error()) {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestToStatusUnknownErrorLeaksNothing(t *testing.T) {
	secrets := []string{"kinko_prod", "10.0.3.7", "hunter2", "certificates_one_active", "/var/lib/kinko"}
	cases := []error{
		errors.New("failed to connect to `host=10.0.3.7 user=kinko_prod database=kinko`: password hunter2 rejected"),
		fmt.Errorf("store: record certificate: %w", errors.New(`duplicate key value violates unique constraint "certificates_one_active"`)),
		fmt.Errorf("pki: load: open /var/lib/kinko/client-ca.key: permission denied"),
		errors.New(""),
	}
	for _, err := range cases {
		t.Run(err.Error(), func(t *testing.T) {
			status, code, msg := ToStatus(err)
			if status != 500 || code != "internal_error" {
				t.Fatalf("ToStatus = %d %s, want 500 internal_error", status, code)
			}
			if msg != Message("error.internal_error") {
				t.Errorf("message %q, want the fixed internal message", msg)
			}
			for _, s := range secrets {
				if strings.Contains(msg, s) {
					t.Errorf("message %q leaks %q", msg, s)
				}
			}
		})
	}
	if status, code, _ := ToStatus(nil); status != 500 || code != "internal_error" {
		t.Errorf("ToStatus(nil) = %d %s, want 500 internal_error", status, code)
	}
}

// TestEveryErrorHasACatalogueMessage: the message of every code comes from
// the catalogue, in Japanese and English.
func TestEveryErrorHasACatalogueMessage(t *testing.T) {
	errs := []error{&identity.LoginIDError{Reason: "length"}, &identity.PasswordError{Reason: "length"},
		&identity.PasswordError{Reason: "same_as_other"}, &RequestError{Detail: "x"}, &http.MaxBytesError{Limit: 1},
		errors.New("anything else")}
	for _, e := range table {
		errs = append(errs, e.err)
	}
	for _, err := range errs {
		rf := RefusalOf(err)
		code, key := rf.Code, rf.Key
		ja, okJA := messages.Text("ja", key)
		en, okEN := messages.Text("en", key)
		if !okJA || !okEN || ja == "" || en == "" {
			t.Errorf("%v (%s): no catalogue message %q in both languages", err, code, key)
			continue
		}
		if _, _, msg := ToStatus(err); msg != ja+" / "+en {
			t.Errorf("%v: message %q, want %q", err, msg, ja+" / "+en)
		}
	}
}

// TestToStatusBankingErrors: banking's typed and wrapped errors map to
// their code, and the messages say which limit, which privilege, what was
// not found.
func TestToStatusBankingErrors(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"transaction limit", &banking.LimitError{Kind: banking.LimitTransaction, Limit: 100, Amount: 200}, 409, "limit_exceeded", Message("error.limit_exceeded.transaction")},
		{"user daily limit", fmt.Errorf("store: %w", &banking.LimitError{Kind: banking.LimitUserDaily, Limit: 100, Used: 90, Amount: 20}), 409, "limit_exceeded", Message("error.limit_exceeded.user_daily")},
		{"organization daily limit", &banking.LimitError{Kind: banking.LimitOrganizationDaily, Limit: 100, Used: 90, Amount: 20}, 409, "limit_exceeded", Message("error.limit_exceeded.organization_daily")},
		{"the master's transaction limit", &banking.LimitError{Kind: banking.LimitTransaction, Limit: 100, Amount: 200, Master: true}, 409, "limit_exceeded", Message("error.limit_exceeded.transaction.master")},
		{"the master's organization daily limit", &banking.LimitError{Kind: banking.LimitOrganizationDaily, Limit: 100, Used: 90, Amount: 20, Master: true}, 409, "limit_exceeded", Message("error.limit_exceeded.organization_daily.master")},
		{"unknown limit kind", &banking.LimitError{Kind: "weekly"}, 409, "limit_exceeded", Message("error.limit_exceeded")},
		{"batch", &banking.BatchError{Problems: []banking.BatchProblem{{Item: 1, Err: banking.ErrInvalidPayeeName}}}, 400, "invalid_batch", Message("error.invalid_batch")},
		{"execution date from the calendar", fmt.Errorf("%w: %w", banking.ErrInvalidExecutionDate, errors.New("calendar: the date is in the past")), 400, "invalid_execution_date", Message("error.invalid_execution_date")},
		{"missing privilege", banking.ErrForbidden, 403, "forbidden", Message("error.forbidden.privilege")},
		{"master's own privileges", ErrMasterPrivileges, 403, "forbidden", Message("error.forbidden.master_privileges")},
		{"banking not found", fmt.Errorf("x: %w", banking.ErrNotFound), 404, "not_found", Message("error.not_found.banking")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, code, msg := ToStatus(tc.err)
			if status != tc.status || code != tc.code {
				t.Fatalf("ToStatus(%v) = %d %s, want %d %s", tc.err, status, code, tc.status, tc.code)
			}
			if msg != tc.message || !strings.Contains(msg, " / ") {
				t.Errorf("message %q, want %q", msg, tc.message)
			}
		})
	}
	// The same code, other messages: a general user without a privilege is
	// not told that only the master may.
	_, _, a := ToStatus(banking.ErrForbidden)
	_, _, b := ToStatus(identity.ErrForbidden)
	if a == b {
		t.Errorf("banking and identity forbidden share the message %q", a)
	}
}

// TestWriteJSONErrorRetryAfter: a throttled attempt's answer says when to
// try again, in whole seconds rounded up.
func TestWriteJSONErrorRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("login: %w", &identity.ThrottledError{Wait: 1500 * time.Millisecond}), "2"},
		{&identity.ThrottledError{Wait: time.Millisecond}, "1"},
		{identity.ErrInvalidCredentials, ""},
	} {
		w := httptest.NewRecorder()
		WriteJSONError(slog.New(slog.DiscardHandler), w, httptest.NewRequest(http.MethodPost, "/api/v1/sessions", nil), tc.err)
		if got := w.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("%v: Retry-After %q, want %q", tc.err, got, tc.want)
		}
		if tc.want != "" && (w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), `"too_many_attempts"`)) {
			t.Errorf("%v: %d %s, want 429 too_many_attempts", tc.err, w.Code, w.Body)
		}
	}
}
