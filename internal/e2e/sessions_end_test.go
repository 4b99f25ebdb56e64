package e2e_test

// A password change ends the user's other sessions, the one that made the
// change stays; a lock ends all of them, on both listeners.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// strongPassword is a new password that every password rule accepts.
const strongPassword = "Kawasemi-Sakura-4821"

// sessionOf returns the stored ID hash of the session cl holds on a
// listener.
func sessionOf(t testing.TB, b *testutil.Bank, cl *testutil.Client, l httpedge.Listener) string {
	t.Helper()
	base := b.PortalURL
	if l == httpedge.CertPortal {
		base = b.CertPortalURL
	}
	h := sha256.Sum256([]byte(cookie(t, cl, base, l.SessionCookie())))
	return hex.EncodeToString(h[:])
}

// sessionStored reports whether the session of an ID hash is in the
// database.
func sessionStored(t testing.TB, b *testutil.Bank, idHash string) bool {
	t.Helper()
	_, err := b.DB.SessionPrincipal(context.Background(), idHash)
	if errors.Is(err, auth.ErrNoSession) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestHardening_PasswordChangeEndsOtherSessions: of two sessions of one
// user, the one that changes a password (login or confirmation) stays and
// the other is refused 401 on its next request, on the portal and on the
// certificate portal; another user's session is untouched.
func TestHardening_PasswordChangeEndsOtherSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "パスワード変更労組", false)
		colleague := b.NewGeneralUser(t, org)
		certOrg := b.NewOrg(t, "パスワード変更証明書労組", true)
		cert := b.IssueCertificate(t, certOrg.Master)
		for i, tc := range []struct {
			name     string
			listener httpedge.Listener
			path     string
			current  func() *string
		}{
			{"portal login password", httpedge.Portal, "/api/v1/me/password", func() *string { return &org.Master.Password }},
			{"portal confirmation password", httpedge.Portal, "/api/v1/me/confirmation-password", func() *string { return &org.Master.Confirmation }},
			{"certificate portal login password", httpedge.CertPortal, "/api/v1/me/password", func() *string { return &certOrg.Master.Password }},
			{"certificate portal confirmation password", httpedge.CertPortal, "/api/v1/me/confirmation-password", func() *string { return &certOrg.Master.Confirmation }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var changer, other *testutil.Client
				do := (*testutil.Client).Portal
				if tc.listener == httpedge.CertPortal {
					changer, other = certLogin(t, b, cert, certOrg.Master), certLogin(t, b, cert, certOrg.Master)
					do = (*testutil.Client).CertPortal
				} else {
					changer, other = passwordLogin(t, b, org.Master), passwordLogin(t, b, org.Master)
				}
				bystander := passwordLogin(t, b, colleague)
				next := strongPassword + strconv.Itoa(i)
				expect(t, "change", do(changer, http.MethodPost, tc.path, map[string]string{"current": *tc.current(), "new": next}), http.StatusOK, "")
				*tc.current() = next // the next case changes from the new password
				expect(t, "the other session", do(other, http.MethodGet, pathMe, nil), http.StatusUnauthorized, "unauthenticated")
				expect(t, "the changing session", do(changer, http.MethodGet, pathMe, nil), http.StatusOK, "")
				expect(t, "another user's session", bystander.Portal(http.MethodGet, pathMe, nil), http.StatusOK, "")
			})
		}
	})
}

// TestHardening_LockEndsEverySession: the wrong password that locks a
// user ends every session of the user in the same transaction: they are
// gone from the database, and after the bank unlocks the user none of them
// is valid again.
func TestHardening_LockEndsEverySession(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ロック労組", true)
		cert := b.IssueCertificate(t, org.Master)
		first, second := certLogin(t, b, cert, org.Master), certLogin(t, b, cert, org.Master)
		sessions := []string{sessionOf(t, b, first, httpedge.CertPortal), sessionOf(t, b, second, httpedge.CertPortal)}

		// Wrong passwords with the certificate until the lock (a
		// throttle's Retry-After is waited out on the bank's clock).
		locked := false
		for range 20 {
			r := b.Client(cert).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": wrongPassword})
			if r.Status == http.StatusLocked {
				locked = true
				break
			}
			if r.Status == http.StatusTooManyRequests {
				s, _ := strconv.Atoi(r.Header.Get("Retry-After"))
				b.Clock.Advance(time.Duration(s+1) * time.Second)
				continue
			}
			expect(t, "wrong password", r, http.StatusUnauthorized, "invalid_credentials")
		}
		if !locked {
			t.Fatal("the user was not locked by wrong passwords")
		}
		for i, s := range sessions {
			if sessionStored(t, b, s) {
				t.Errorf("session %d of the locked user is still stored", i)
			}
		}
		if err := b.Services.Identity.UnlockByBank(context.Background(), org.Master.LoginID, "test", "REQ-UNLOCK"); err != nil {
			t.Fatal(err)
		}
		expect(t, "first session after the unlock", first.CertPortal(http.MethodGet, pathMe, nil), http.StatusUnauthorized, "unauthenticated")
		expect(t, "second session after the unlock", second.CertPortal(http.MethodGet, pathMe, nil), http.StatusUnauthorized, "unauthenticated")
		certLogin(t, b, cert, org.Master)
	})
}
