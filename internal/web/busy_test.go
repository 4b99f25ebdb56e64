package web_test

import (
	"net/http"
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
