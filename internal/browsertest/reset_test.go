//go:build linux

package browsertest

import (
	"testing"

	"kinko/internal/messages"
	"kinko/internal/testutil"
)

// TestMasterResetsClerksPasswords: a clerk forgot the passwords; the
// master resets them on the users page (a wrong confirmation password
// first: the refusal comes after a redirect, so Back shows no
// resubmission), reads the new ones once, and the clerk logs in with them
// and must change both.
func TestMasterResetsClerksPasswords(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "みどり生活協同組合", false)
	clerk := s.bank.NewGeneralUser(t, org)

	cb := s.person(t, "clerk").open()
	cb.passwordLogin(clerk)
	cb.wantAt(s.bank.PortalURL + "/home")

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.wantAt(s.bank.PortalURL + "/home")
	mb.visit(s.bank.PortalURL + "/users")
	row := `table#users tr[data-login-id="` + clerk.LoginID + `"]`
	mb.submit(row + " a.reset-link")
	path := s.bank.PortalURL + "/users/" + clerk.LoginID + "/password-reset"
	mb.wantAt(path)
	mb.fill("#reset-form #confirmation_password", "Wrong-pass1")
	mb.submit("#reset-submit")
	mb.wantAt(path)
	mb.wantText("main", msg(t, "error.invalid_confirmation_password"))
	mb.fill("#reset-form #confirmation_password", org.Master.Confirmation)
	mb.submit("#reset-submit")
	mb.wantText("h1", msg(t, "page.users_reset_done.title"))
	password, confirmation := mb.text("#initial-password"), mb.text("#initial-confirmation-password")
	if password == "" || confirmation == "" || password == confirmation {
		mb.fatalf("new passwords %q and %q: want two different, non-empty passwords", password, confirmation)
	}
	mb.screenshot("users-reset", "")

	// The clerk's session ended.
	cb.visit(s.bank.PortalURL + "/home")
	if cb.location() == s.bank.PortalURL+"/home" {
		cb.errorf("the clerk's old session still shows the top screen")
	}
	nb := s.person(t, "clerk again").open()
	nb.passwordLogin(testutil.Creds{LoginID: clerk.LoginID, Password: password})
	nb.wantAt(s.bank.PortalURL + "/password/initial")
	nb.fill("#login-current", password)
	nb.fill("#login-new", "Clerk-new-login1")
	nb.fill("#login-again", "Clerk-new-login1")
	nb.fill("#confirmation-current", confirmation)
	nb.fill("#confirmation-new", "Clerk-new-conf1")
	nb.fill("#confirmation-again", "Clerk-new-conf1")
	nb.submit("main form button[type=submit]")
	nb.wantAt(s.bank.PortalURL + "/home")
}

// TestLanguageSwitchKeepsTheTypedForm: on the login page, the language
// switch brings the page back in English with the login ID typed, never
// the password; a refused login comes after a redirect and shows its
// error once.
func TestLanguageSwitchKeepsTheTypedForm(t *testing.T) {
	s := newSite(t)
	b := s.person(t, "visitor").open()
	b.visit(s.bank.PortalURL + "/login")
	before := eval[string](b, "document.documentElement.lang")
	other := "en"
	if before == "en" {
		other = "ja"
	}
	b.fill("#login_id", "typed0001")
	b.fill("#password", "Typed-secret-7")
	b.submit("button.lang-switch-form")
	b.wantAt(s.bank.PortalURL + "/login")
	if got := eval[string](b, "document.documentElement.lang"); got != other {
		b.fatalf("the page came back in %q, want %s", got, other)
	}
	if got := eval[string](b, "document.querySelector('#login_id').value"); got != "typed0001" {
		b.errorf("the login ID came back as %q", got)
	}
	if got := eval[string](b, "document.querySelector('#password').value"); got != "" {
		b.errorf("the password came back as %q", got)
	}
	b.fill("#password", "Typed-secret-7")
	b.submit("#login-form button[type=submit]")
	b.wantAt(s.bank.PortalURL + "/login")
	refusal, _ := messages.Text(other, "error.invalid_credentials")
	b.wantText("main", refusal)
	if got := eval[string](b, "document.querySelector('#login_id').value"); got != "typed0001" {
		b.errorf("after the refusal the login ID is %q", got)
	}
	// A reload is a GET: no resubmission, and the refusal is gone.
	b.visit(s.bank.PortalURL + "/login")
	if got := eval[string](b, "document.querySelector('#login_id').value"); got != "" {
		b.errorf("a second GET shows the login ID %q", got)
	}
}
