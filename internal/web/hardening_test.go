package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"kinko/internal/identity"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestHardening_BusyLoginPages: while the password checks are all taken,
// the portal's login and the certificate portal's login answer 503 with
// Retry-After on the page the user came from, with the message in the
// user's language; the user then logs in once the server is free.
func TestHardening_BusyLoginPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gate := identity.NewGate(identity.GateConfig{Procs: 1, Queue: 4, Wait: time.Millisecond})
		b := testutil.NewBankWith(t, db, func(p *server.Parts) { p.PasswordGate = gate })
		org := b.NewOrg(t, "混雑画面労組", false)
		certOrg := b.NewOrg(t, "混雑画面証明書労組", true)
		cert := b.IssueCertificate(t, certOrg.Master)

		release, in, held := make(chan struct{}), make(chan struct{}), make(chan error)
		go func() { held <- gate.Run(func() { close(in); <-release }) }()
		<-in
		for _, lang := range []string{"ja", "en"} {
			t.Run("portal/"+lang, func(t *testing.T) {
				c := b.Client(nil)
				setLanguage(t, b, c, lang)
				p := passwordLogin(t, b, c, org.Master.LoginID, org.Master.Password)
				wantPage(t, p, http.StatusServiceUnavailable, "/login")
				wantTitle(t, p, lang, "page.login.title")
				wantText(t, p, msg(t, lang, "error.server_busy"))
				if got := p.Header.Get("Retry-After"); got != "1" {
					t.Errorf("Retry-After %q, want 1", got)
				}
			})
			t.Run("certificate portal/"+lang, func(t *testing.T) {
				c := b.Client(cert)
				setLanguage(t, b, c, lang)
				p := certificateLogin(t, b, c, certOrg.Master.Password)
				wantPage(t, p, http.StatusServiceUnavailable, "/")
				wantTitle(t, p, lang, "page.certlogin.title")
				wantText(t, p, msg(t, lang, "error.server_busy"))
				if got := p.Header.Get("Retry-After"); got != "1" {
					t.Errorf("Retry-After %q, want 1", got)
				}
			})
		}
		close(release)
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		wantPage(t, passwordLogin(t, b, b.Client(nil), org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
		wantPage(t, certificateLogin(t, b, b.Client(cert), certOrg.Master.Password), http.StatusOK, "/home")
	})
}

// TestHardening_PasswordChangePageEndsOtherSessions: a password changed on
// the password page, login or confirmation, ends the user's other
// sessions (another browser, the API) and keeps the page's own.
func TestHardening_PasswordChangePageEndsOtherSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "画面パスワード変更労組", false)
		current := map[string]string{"login": org.Master.Password, "confirmation": org.Master.Confirmation}
		for i, kind := range []string{"login", "confirmation"} {
			t.Run(kind, func(t *testing.T) {
				page := b.Client(nil)
				wantPage(t, passwordLogin(t, b, page, org.Master.LoginID, current["login"]), http.StatusOK, "/home")
				other := b.Client(nil)
				wantPage(t, passwordLogin(t, b, other, org.Master.LoginID, current["login"]), http.StatusOK, "/home")
				api := b.Client(nil)
				if r := api.Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": org.Master.LoginID, "password": current["login"]}); r.Status != http.StatusCreated {
					t.Fatalf("API login: %d %s", r.Status, r.Raw)
				}
				next := "Kawasemi-Sakura-482" + strconv.Itoa(i)
				form := get(t, page, b.PortalURL+"/password")
				p := post(t, page, b.PortalURL+"/password", url.Values{"csrf_token": {csrfToken(t, form)}, "kind": {kind},
					"current": {current[kind]}, "new": {next}, "again": {next}})
				wantPage(t, p, http.StatusOK, "/password")
				current[kind] = next
				if r := other.Portal(http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
					t.Errorf("the other browser's session: %d, want 401", r.Status)
				}
				if r := api.Portal(http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
					t.Errorf("the API's session: %d, want 401", r.Status)
				}
				wantPage(t, get(t, page, b.PortalURL+"/home"), http.StatusOK, "/home")
			})
		}
	})
}
