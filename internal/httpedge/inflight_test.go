package httpedge

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"kinko/internal/identity"
)

func requestFrom(addr string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/sessions", nil)
	r.RemoteAddr = addr
	return r
}

func mustEnter(t *testing.T, l *PasswordChecks, addr string) func() {
	t.Helper()
	release, err := l.Enter(requestFrom(addr))
	if err != nil {
		t.Fatalf("Enter from %s: %v", addr, err)
	}
	return release
}

func wantBusy(t *testing.T, l *PasswordChecks, addr string) {
	t.Helper()
	_, err := l.Enter(requestFrom(addr))
	if !errors.Is(err, identity.ErrBusy) {
		t.Fatalf("Enter from %s: %v, want identity.ErrBusy", addr, err)
	}
	if rf := RefusalOf(err); rf.Status != http.StatusServiceUnavailable || rf.Code != "server_busy" {
		t.Errorf("refusal %+v, want 503 server_busy", rf)
	}
	w := httptest.NewRecorder()
	SetRetryAfterOf(w, err)
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
}

// TestHardening_PasswordChecksPerClientInFlight: one address has at most
// its limit of password checks in flight; another address is not held up
// by it; a finished check frees its place, once however often released.
func TestHardening_PasswordChecksPerClientInFlight(t *testing.T) {
	l := NewPasswordChecks(2, 100)
	a1 := mustEnter(t, l, "192.0.2.1:5000")
	a2 := mustEnter(t, l, "192.0.2.1:5001")
	wantBusy(t, l, "192.0.2.1:5002")
	b := mustEnter(t, l, "192.0.2.2:5000")
	a1()
	a1() // a second release of the same check frees nothing more
	a3 := mustEnter(t, l, "192.0.2.1:5003")
	wantBusy(t, l, "192.0.2.1:5004")
	a2()
	a3()
	b()
	if n := len(l.inFlight); n != 0 {
		t.Errorf("%d addresses tracked after every check ended, want 0", n)
	}
}

// TestHardening_PasswordChecksIPv6CountsBySlash64: addresses of one /64
// share one limit.
func TestHardening_PasswordChecksIPv6CountsBySlash64(t *testing.T) {
	l := NewPasswordChecks(2, 100)
	defer mustEnter(t, l, "[2001:db8:1:2::1]:443")()
	defer mustEnter(t, l, "[2001:db8:1:2:ffff::9]:443")()
	wantBusy(t, l, "[2001:db8:1:2:abcd::1]:443")
	defer mustEnter(t, l, "[2001:db8:1:3::1]:443")()
}

// TestHardening_PasswordChecksBoundedInSize: no more addresses are
// tracked than the limit; a new address beyond it is refused as busy until
// one leaves.
func TestHardening_PasswordChecksBoundedInSize(t *testing.T) {
	l := NewPasswordChecks(2, 2)
	a := mustEnter(t, l, "192.0.2.1:1")
	defer mustEnter(t, l, "192.0.2.2:1")()
	defer mustEnter(t, l, "192.0.2.1:2")() // a tracked address still enters
	wantBusy(t, l, "192.0.2.3:1")
	a()
	if n := len(l.inFlight); n != 2 {
		t.Fatalf("%d addresses tracked, want 2", n)
	}
}

// TestSetRetryAfterOf_RoundsUp: the header is whole seconds, rounded up,
// and absent for an error that says nothing of retrying.
func TestSetRetryAfterOf_RoundsUp(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&identity.BusyError{After: 1500 * time.Millisecond}, "2"},
		{&identity.BusyError{After: 0}, "1"},
		{identity.ErrInvalidCredentials, ""},
	} {
		w := httptest.NewRecorder()
		SetRetryAfterOf(w, tc.err)
		if got := w.Header().Get("Retry-After"); got != tc.want {
			t.Errorf("%v: Retry-After %q, want %q", tc.err, got, tc.want)
		}
	}
}
