package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestHardening_LoginThrottle429Page: one client trying one login ID after
// another is refused on the login page after the address's free failures,
// with 429, Retry-After and the message in the user's language; while the
// throttle holds, the right password of a real user is refused too.
func TestHardening_LoginThrottle429Page(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "しめだし労働組合", false)
		c := b.Client(nil)
		setLanguage(t, b, c, "ja")
		free := identity.DefaultThrottle.PerAddress.Free
		var p page
		n := 0
		for n = 1; n <= 100; n++ {
			p = passwordLogin(t, b, c, "nobody"+strconv.Itoa(1000+n), "Wrong-password-1")
			if p.Status != http.StatusUnauthorized {
				break
			}
		}
		if n != free+2 || p.Status != http.StatusTooManyRequests {
			t.Fatalf("attempt %d answered %d, want 429 at attempt %d (%d free failures, the next one blocks)", n, p.Status, free+2, free)
		}
		if ra, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After %q, want a number of seconds", p.Header.Get("Retry-After"))
		}
		wantPage(t, p, http.StatusTooManyRequests, "/login")
		wantText(t, p, msg(t, "ja", "error.too_many_attempts"))
		setLanguage(t, b, c, "en")
		p = passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
		wantPage(t, p, http.StatusTooManyRequests, "/login")
		wantText(t, p, msg(t, "en", "error.too_many_attempts"))
		if p.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After")
		}
	})
}

// TestHardening_LoginPageSameAnswers: on the login page, an unknown login
// ID and a wrong password of a known user, of the master of a
// certificate-login organization and of a locked user get the same page,
// byte for byte but for the login ID typed and the form's token.
func TestHardening_LoginPageSameAnswers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "おなじ労働組合", false)
		certOrg := b.NewOrg(t, "おなじ証明書労働組合", true)
		locked := b.NewGeneralUser(t, org)
		b.LockUser(t, locked.LoginID)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				answer := func(loginID string) (int, string) {
					c := b.Client(nil)
					setLanguage(t, b, c, lang)
					p := passwordLogin(t, b, c, loginID, "Wrong-password-1")
					body := tokenField.ReplaceAllString(p.Raw, `name="csrf_token" value="TOKEN"`)
					return p.Status, strings.ReplaceAll(body, loginID, "LOGINID")
				}
				wantStatus, want := answer("u" + strconv.Itoa(9000000+len(lang)))
				if wantStatus != http.StatusUnauthorized {
					t.Fatalf("unknown login ID: %d, want 401", wantStatus)
				}
				for name, id := range map[string]string{"known": org.Master.LoginID, "certificate-login master": certOrg.Master.LoginID, "locked": locked.LoginID} {
					if status, got := answer(id); status != wantStatus || got != want {
						t.Errorf("%s: %d, want %d; the page differs from an unknown ID's:\n%s\n---\n%s", name, status, wantStatus, got, want)
					}
				}
			})
		}
	})
}

// TestHardening_HomeShowsFailedLogins: after logging in, on either
// listener and in either language, the top screen tells how many logins
// with the user's ID failed since the last login, and from where.
func TestHardening_HomeShowsFailedLogins(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ほうこく労働組合", false)
		certOrg := b.NewOrg(t, "ほうこく証明書労働組合", true)
		cert := b.IssueCertificate(t, certOrg.Master)
		for _, lang := range []string{"ja", "en"} {
			for _, listener := range []string{"portal", "certificate portal"} {
				t.Run(lang+"/"+listener, func(t *testing.T) {
					creds := org.Master
					if listener == "certificate portal" {
						creds = certOrg.Master
					}
					// Two wrong passwords on the portal, where anyone may try.
					for range 2 {
						c := b.Client(nil)
						setLanguage(t, b, c, lang)
						wantPage(t, passwordLogin(t, b, c, creds.LoginID, "Wrong-password-1"), http.StatusUnauthorized, "/login")
					}
					var home page
					if listener == "portal" {
						c := b.Client(nil)
						setLanguage(t, b, c, lang)
						home = passwordLogin(t, b, c, creds.LoginID, creds.Password)
					} else {
						c := b.Client(cert)
						setLanguage(t, b, c, lang)
						home = certificateLogin(t, b, c, creds.Password)
					}
					wantPage(t, home, http.StatusOK, "/home")
					if !strings.Contains(home.Raw, `id="home-failures" data-count="2"`) {
						t.Errorf("no report of 2 failures on the top screen:\n%s", home.Text)
					}
					wantText(t, home, msg(t, lang, "page.home.failures.heading"), msg(t, lang, "page.home.failures.count", 2), "127.0.0.1")
					// The next login has nothing to report.
					var again page
					if listener == "portal" {
						c := b.Client(nil)
						setLanguage(t, b, c, lang)
						again = passwordLogin(t, b, c, creds.LoginID, creds.Password)
					} else {
						c := b.Client(cert)
						setLanguage(t, b, c, lang)
						again = certificateLogin(t, b, c, creds.Password)
					}
					wantText(t, again, msg(t, lang, "page.home.failures.none"))
				})
			}
		}
	})
}
