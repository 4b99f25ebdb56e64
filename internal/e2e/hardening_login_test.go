package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

const commonPassword = "Password-2024!"

func wantRetryAfter(t *testing.T, what string, r testutil.Response) {
	t.Helper()
	expect(t, what, r, http.StatusTooManyRequests, "too_many_attempts")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds", what, r.Header.Get("Retry-After"))
	}
}

// TestHardening_LoginThrottle429ManyIDsOneAddress is the issue's scenario:
// one client tries one common password with login ID after login ID. It
// is refused with 429 and Retry-After after the address's free failures,
// long before request 251; the right password of a real user, at login
// and at issuance, is refused too while the throttle holds.
func TestHardening_LoginThrottle429ManyIDsOneAddress(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ねらわれ労組", true)
		victim := b.NewGeneralUser(t, org)
		cl := b.Client(nil)
		free := identity.DefaultThrottle.PerAddress.Free
		first := 0
		for i := 1; i <= 300; i++ {
			r := cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": fmt.Sprintf("ito%05d", i), "password": commonPassword})
			if r.Status == http.StatusTooManyRequests {
				first = i
				wantRetryAfter(t, fmt.Sprintf("request %d", i), r)
				break
			}
			expect(t, fmt.Sprintf("request %d", i), r, http.StatusUnauthorized, "invalid_credentials")
		}
		if first != free+2 {
			t.Fatalf("first 429 at request %d, want %d (%d free failures, then one that blocks)", first, free+2, free)
		}
		wantRetryAfter(t, "the right password", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": victim.LoginID, "password": victim.Password}))
		wantRetryAfter(t, "issuance with the right password", cl.Portal(http.MethodPost, pathCertificates,
			map[string]string{"login_id": victim.LoginID, "password": victim.Password, "csr": testutil.NewCSR(t, newKey(t))}))
		// Once the wait is over, the user gets in.
		b.Clock.Advance(time.Minute)
		r, _ := issue(t, b, victim)
		expect(t, "issuance after the wait", r, http.StatusCreated, "")
	})
}

// TestHardening_LoginThrottlePerLoginIDAcrossAddresses: failures for one
// login ID from many addresses, one each, throttle that login ID on every
// address, the right password included.
func TestHardening_LoginThrottlePerLoginIDAcrossAddresses(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ぶんさん労組", false)
		g := b.NewGeneralUser(t, org)
		free := identity.DefaultThrottle.PerLoginID.Free
		for i := range free + 1 {
			cl := clientFrom(b, nil, fmt.Sprintf("127.0.1.%d", i+1))
			expect(t, fmt.Sprintf("failure %d", i+1), cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": wrongPassword}),
				http.StatusUnauthorized, "invalid_credentials")
		}
		cl := clientFrom(b, nil, "127.0.2.1")
		wantRetryAfter(t, "the right password from a new address", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password}))
		expect(t, "another login ID from that address", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password}),
			http.StatusCreated, "")
		b.Clock.Advance(time.Second)
		expect(t, "the right password after the wait", cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password}),
			http.StatusCreated, "")
	})
}

// TestHardening_LoginThrottleHoldsAcrossServers: two servers on one
// database share the throttle: failures on one are refused on the other.
func TestHardening_LoginThrottleHoldsAcrossServers(t *testing.T) {
	open := func(t *testing.T, dsn string) *store.DB {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMailRules(notify.Rules{})
		t.Cleanup(func() { db.Close() })
		return db
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "kinko.db")
			if engine == "postgres" {
				dsn = testutil.PostgresDSN(t)
			}
			one := testutil.NewBank(t, open(t, dsn))
			two := testutil.NewBank(t, open(t, dsn))
			// One time for both (the later: each bank's certificates are
			// valid from its own start).
			one.Clock.Set(two.Clock.Now())
			org := one.NewOrg(t, "ふたつ労組", false)
			for i := range identity.DefaultThrottle.PerLoginID.Free + 3 {
				r := one.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": wrongPassword})
				if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
					t.Fatalf("failure %d on the first server: %d %s", i+1, r.Status, r.Raw)
				}
			}
			wantRetryAfter(t, "the right password on the second server",
				two.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password}))
		})
	}
}

// TestHardening_SameAnswersUnknownKnownLocked: at login and at issuance,
// an unknown login ID and a wrong password of a known user, of the master
// of a certificate-login organization and of a locked user get the same
// status and body, byte for byte.
func TestHardening_SameAnswersUnknownKnownLocked(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "みわけ労組", false)
		certOrg := b.NewOrg(t, "みわけ証明書労組", true)
		locked := b.NewGeneralUser(t, certOrg)
		b.LockUser(t, locked.LoginID)
		csr := testutil.NewCSR(t, newKey(t))
		for _, path := range []string{pathSessions, pathCertificates} {
			t.Run(strings.TrimPrefix(path, "/api/v1/"), func(t *testing.T) {
				answer := func(loginID string) testutil.Response {
					body := map[string]string{"login_id": loginID, "password": wrongPassword}
					if path == pathCertificates {
						body["csr"] = csr
					}
					return b.Client(nil).Portal(http.MethodPost, path, body)
				}
				want := answer("nobody" + strconv.Itoa(len(path)))
				expect(t, "unknown login ID", want, http.StatusUnauthorized, "invalid_credentials")
				for _, c := range []struct{ name, loginID string }{
					{"known", org.Master.LoginID},
					{"certificate-login master", certOrg.Master.LoginID},
					{"locked", locked.LoginID},
				} {
					got := answer(c.loginID)
					if got.Status != want.Status || string(got.Raw) != string(want.Raw) || got.Header.Get("Retry-After") != "" {
						t.Errorf("%s: %d %s, want %d %s as for an unknown ID", c.name, got.Status, got.Raw, want.Status, want.Raw)
					}
				}
			})
		}
	})
}

// TestHardening_CertificateLoginMasterSurvivesPortalFailures: ten wrong
// passwords on the portal for the master of a certificate-login
// organization neither lock the master nor end the master's session; the
// master logs in with certificate and password, and learns of the
// failures and where they came from, in the login's answer and in
// GET /api/v1/me.
func TestHardening_CertificateLoginMasterSurvivesPortalFailures(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "まもられ労組", true)
		cert := b.IssueCertificate(t, org.Master)
		session := certLogin(t, b, cert, org.Master)
		attacker := b.Client(nil)
		refused := 0
		for i := range 10 {
			r := attacker.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": org.Master.LoginID, "password": fmt.Sprintf("Guess-%d-password", i)})
			switch {
			case r.Status == http.StatusUnauthorized && r.ErrorCode() == "invalid_credentials":
				refused++
			case r.Status == http.StatusTooManyRequests:
			default:
				t.Fatalf("wrong password %d: %d %s", i+1, r.Status, r.Raw)
			}
		}
		if want := identity.DefaultThrottle.PerLoginID.Free + 1; refused != want {
			t.Errorf("%d wrong passwords reached the check, want %d (the rest throttled)", refused, want)
		}
		expect(t, "the open session", session.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")
		if u := user(t, b, org.Master.LoginID); u.Locked() || u.FailedLogins != 0 {
			t.Fatalf("master locked %v with %d failures counted towards the lock", u.Locked(), u.FailedLogins)
		}
		cl := b.Client(cert)
		r := cl.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": org.Master.Password})
		expect(t, "certificate login", r, http.StatusCreated, "")
		for what, body := range map[string]map[string]any{"login": r.Body, "GET /api/v1/me": cl.CertPortal(http.MethodGet, pathMe, nil).Body} {
			fl, _ := body["failed_logins"].(map[string]any)
			recent, _ := fl["recent"].([]any)
			if fl["count"] != float64(refused) || len(recent) != 1 {
				t.Fatalf("%s: failed_logins %v, want %d failures from one address", what, fl, refused)
			}
			src, _ := recent[0].(map[string]any)
			if src["address"] != "127.0.0.1" || src["channel"] != "password_login" || src["at"] == "" {
				t.Errorf("%s: source %v, want 127.0.0.1 by password_login", what, src)
			}
		}
	})
}
