package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

var shownPassword = regexp.MustCompile(`<dd class="serial" id="(initial-password|initial-confirmation-password)">([^<]+)</dd>`)

// TestMasterResetsGeneralUsersPasswordsOnThePage: the master resets a
// clerk's forgotten passwords from the users page with the confirmation
// password; the new ones are shown once; the clerk's old session ends, and
// the clerk logs in with the new password and must change both.
func TestMasterResetsGeneralUsersPasswordsOnThePage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "さいせってい労働組合", false)
		clerk := b.NewGeneralUser(t, org)
		other := b.NewOrg(t, "となりの労働組合", false)
		og := b.NewGeneralUser(t, other)
		for _, lang := range []string{"ja", "en"} {
			t.Run(lang, func(t *testing.T) {
				old := b.Client(nil)
				wantPage(t, passwordLogin(t, b, old, clerk.LoginID, clerk.Password), http.StatusOK, "/home")
				mc := b.Client(nil)
				setLanguage(t, b, mc, lang)
				wantPage(t, passwordLogin(t, b, mc, org.Master.LoginID, org.Master.Password), http.StatusOK, "/home")
				list := get(t, mc, b.PortalURL+"/users")
				path := "/users/" + clerk.LoginID + "/password-reset"
				if !strings.Contains(usersRowOf(t, list, clerk.LoginID).Raw, `href="`+path+`"`) {
					t.Fatalf("no reset link in the clerk's row")
				}
				if strings.Contains(usersRowOf(t, list, org.Master.LoginID).Raw, "password-reset") {
					t.Error("the master's own row offers a reset")
				}
				wantText(t, list, msg(t, lang, "page.users.bank.master_reset"))
				form := get(t, mc, b.PortalURL+path)
				wantTitle(t, form, lang, "page.users_reset.title")

				p := post(t, mc, b.PortalURL+path, url.Values{"csrf_token": {csrfToken(t, form)}, "confirmation_password": {"Wrong-pass1"}})
				wantPage(t, p, http.StatusForbidden, path)
				wantText(t, p, msg(t, lang, "error.invalid_confirmation_password"))

				done := post(t, mc, b.PortalURL+path, url.Values{"csrf_token": {csrfToken(t, form)}, "confirmation_password": {org.Master.Confirmation}})
				wantPage(t, done, http.StatusOK, path)
				wantTitle(t, done, lang, "page.users_reset_done.title")
				if done.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("the page of the new passwords may be stored: %q", done.Header.Get("Cache-Control"))
				}
				m := shownPassword.FindAllStringSubmatch(done.Raw, -1)
				if len(m) != 2 {
					t.Fatalf("new passwords shown: %v\n%s", m, done.Text)
				}
				pw, conf := htmlUnescape(m[0][2]), htmlUnescape(m[1][2])
				if again := get(t, mc, b.PortalURL+path); strings.Contains(again.Raw, pw) {
					t.Error("the new password is shown again")
				}

				if p := get(t, old, b.PortalURL+"/home"); p.URL.Path == "/home" && p.Status == http.StatusOK {
					t.Error("the clerk's old session still reaches the top page")
				}
				wantPage(t, passwordLogin(t, b, b.Client(nil), clerk.LoginID, clerk.Password), http.StatusUnauthorized, "/login")
				nc := b.Client(nil)
				wantPage(t, passwordLogin(t, b, nc, clerk.LoginID, pw), http.StatusOK, "/password/initial")
				if p := get(t, nc, b.PortalURL+"/home"); p.URL.Path == "/home" && p.Status == http.StatusOK {
					t.Error("the clerk reaches the top page before changing the passwords")
				}
				initial := get(t, nc, b.PortalURL+"/password/initial")
				clerk.Password, clerk.Confirmation = "Clerk-login-"+lang+"9", "Clerk-conf-"+lang+"9"
				p = post(t, nc, b.PortalURL+"/password/initial", url.Values{"csrf_token": {csrfToken(t, initial)},
					"login_current": {pw}, "login_new": {clerk.Password}, "login_again": {clerk.Password},
					"confirmation_current": {conf}, "confirmation_new": {clerk.Confirmation}, "confirmation_again": {clerk.Confirmation}})
				wantPage(t, p, http.StatusOK, "/home")

				// Another organization's user is not found; a general user
				// cannot reset anyone.
				wantPage(t, get(t, mc, b.PortalURL+"/users/"+og.LoginID+"/password-reset"), http.StatusNotFound, "/users/"+og.LoginID+"/password-reset")
				wantPage(t, get(t, mc, b.PortalURL+"/users/"+org.Master.LoginID+"/password-reset"), http.StatusForbidden, "/users/"+org.Master.LoginID+"/password-reset")
				gc := b.Client(nil)
				wantPage(t, passwordLogin(t, b, gc, og.LoginID, og.Password), http.StatusOK, "/home")
				gp := get(t, gc, b.PortalURL+"/users/"+og.LoginID+"/password-reset")
				wantPage(t, gp, http.StatusForbidden, "/users/"+og.LoginID+"/password-reset")
				p = post(t, gc, b.PortalURL+"/users/"+og.LoginID+"/password-reset", url.Values{"csrf_token": {csrfToken(t, gp)}, "confirmation_password": {og.Confirmation}})
				if p.Status != http.StatusForbidden {
					t.Errorf("a general user's reset: %d, want 403", p.Status)
				}
				wantPage(t, passwordLogin(t, b, b.Client(nil), og.LoginID, og.Password), http.StatusOK, "/home")
			})
		}
	})
}
