//go:build linux

package browsertest

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kinko/internal/certs"
	"kinko/internal/testutil"
)

// TestPasswordLogin: a user of an organization with ID + password login
// logs in on the login page, sees the top screen with the organization,
// and logs out.
func TestPasswordLogin(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "みどり生活協同組合", false)
	general := s.bank.NewGeneralUser(t, org)
	for _, tc := range []struct {
		name string
		user testutil.Creds
	}{
		{"master", org.Master},
		{"general", general},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := s.person(t, tc.name).open()
			b.visit(s.bank.PortalURL + "/login")
			if tc.name == "master" {
				b.screenshot("login", "")
			}
			b.passwordLogin(tc.user)
			b.wantAt(s.bank.PortalURL + "/home")
			b.wantText(".organization", org.Name, org.Code)
			b.wantText("main", tc.user.LoginID)

			b.submit("form.logout-form button[type=submit]")
			b.wantAt(s.bank.PortalURL + "/logged-out")
			b.wantText("main", msg(t, "page.logged_out.title"))
			// The session is gone: the top screen sends the user to the login.
			b.visit(s.bank.PortalURL + "/home")
			b.wantAt(s.bank.PortalURL + "/login")
		})
	}
}

// TestR4_R3_IssueInBrowserThenCertificateLogin is the whole certificate
// path of a user whose organization uses certificate login: 電子証明書発行
// in the browser (the key made in the page), the downloaded file imported
// into the PC's certificate store (NSS), 電子証明書ログイン with the login
// password, the top screen, and the certificate's expiry on 電子証明書情報.
func TestR4_R3_IssueInBrowserThenCertificateLogin(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "ひかり労働組合 中央支部", true)
	user := s.bank.NewGeneralUser(t, org)
	const filePassword = "File-Pass-2026"
	pc := s.person(t, "user")

	b := pc.open()
	b.visit(s.bank.PortalURL + "/login")
	b.submit("a#issue-link")
	file := b.issue(user, filePassword, true)
	stored := s.checkIssued(b, user, file, filePassword)
	b.close()

	// Chromium reads the NSS database when it starts: import, then start.
	pc.importP12(file, filePassword)
	b = pc.open()
	b.visit(s.bank.PortalURL + "/login")
	if got, want := b.href("a#cert-login-button"), s.bank.CertPortalURL+"/"; got != want {
		b.fatalf("a#cert-login-button goes to %s, want %s", got, want)
	}
	b.submit("a#cert-login-button")
	b.wantText(".expires", dateTime(t, stored.NotAfter))
	b.certificateLogin(user, "certlogin")
	b.wantText(".organization", org.Name, org.Code)
	b.screenshot("home", "")

	b.visit(s.bank.CertPortalURL + "/certificate")
	if got, want := b.text("#cert-not-after"), dateTime(t, stored.NotAfter); got != want {
		b.errorf("#cert-not-after = %q, want %q (the store's notAfter %s)", got, want, stored.NotAfter)
	}
	if got := b.text(".serial"); got != stored.Serial {
		b.errorf("serial on the certificate page = %q, want %q", got, stored.Serial)
	}
	b.screenshot("certificate", "")
}

// TestR8_PasswordLoginRefusedForCertificateLogin: a user of an organization
// that uses certificate login, with a certificate, cannot log in with ID +
// password; the login page says so and points at the certificate login
// button.
func TestR8_PasswordLoginRefusedForCertificateLogin(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "ひかり労働組合 中央支部", true)
	user := s.bank.NewGeneralUser(t, org)
	s.bank.IssueCertificate(t, user)
	b := s.person(t, "user").open()

	b.passwordLogin(user)
	b.wantAt(s.bank.PortalURL + "/login")
	b.wantText("[role=alert]", msg(t, "error.certificate_login_required"))
	for _, sel := range []string{"a#cert-login-button", "p.r8-action a"} {
		if got, want := b.href(sel), s.bank.CertPortalURL+"/"; got != want {
			b.errorf("%s goes to %s, want %s", sel, got, want)
		}
	}
	if got := b.text("a#cert-login-button"); got != msg(t, "action.certificate_login") {
		b.errorf("a#cert-login-button says %q, want %q", got, msg(t, "action.certificate_login"))
	}
	b.screenshot("login-r8", "")
	b.visit(s.bank.PortalURL + "/home")
	b.wantAt(s.bank.PortalURL + "/login")
}

// TestR12_MasterRevokesInBrowserThenNewIssuance: the master revokes a
// general user's certificate on the users page; the user's next page load
// gets the page that explains it; the user deletes the old certificate,
// issues a new one in the browser and logs in with it.
func TestR12_MasterRevokesInBrowserThenNewIssuance(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "ひかり労働組合 中央支部", true)
	user := s.bank.NewGeneralUser(t, org)
	s.bank.NewGeneralUser(t, org) // a user without a certificate, also listed
	const masterFile, userFile, newFile = "Master-File-1", "User-File-1", "User-File-2"

	masterPC := s.person(t, "master")
	file, _ := s.issueP12(org.Master, masterFile)
	masterPC.importP12(file, masterFile)
	userPC := s.person(t, "user")
	file, _ = s.issueP12(user, userFile)
	userPC.importP12(file, userFile)
	old := s.currentCertificate(user.LoginID)

	ub := userPC.open()
	ub.certificateLogin(user, "")
	mb := masterPC.open()
	mb.certificateLogin(org.Master, "")

	mb.visit(s.bank.CertPortalURL + "/users")
	row := `table#users tr[data-login-id="` + user.LoginID + `"]`
	before := mb.text(row)
	if got, want := mb.href(row+" a.revoke-link"), s.bank.CertPortalURL+"/users/"+user.LoginID+"/revoke"; got != want {
		mb.fatalf("the revoke link goes to %s, want %s", got, want)
	}
	mb.screenshot("users", "")
	mb.submit(row + " a.revoke-link")
	mb.wantAt(s.bank.CertPortalURL + "/users/" + user.LoginID + "/revoke")
	reasons := eval[[]string](mb, `[...document.querySelectorAll("select#reason option")].map(o => o.value).filter(v => v !== "")`)
	if len(reasons) == 0 {
		mb.fatalf("select#reason offers no reason")
	}
	reason := reasons[0]
	if slices.Contains(reasons, "keyCompromise") {
		reason = "keyCompromise"
	}
	mb.step("choose the reason", chromedp.SetValue(chromedp.CSS("select#reason"), reason))
	mb.fill("#confirmation_password", org.Master.Confirmation)
	mb.screenshot("revoke", "")
	mb.submit("#revoke-submit")
	mb.wantAt(s.bank.CertPortalURL + "/users")
	if notice := mb.text("div#notice"); notice == "" {
		mb.errorf("div#notice is empty after the revocation")
	}
	if mb.exists(row + " a.revoke-link") {
		mb.errorf("the users page still offers to revoke %s", user.LoginID)
	}
	if after := mb.text(row); after == before {
		mb.errorf("the users page shows %s the same after the revocation: %q", user.LoginID, after)
	}
	revoked, err := s.bank.Services.Certs.ByID(t.Context(), old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if revoked.Status != certs.StatusRevoked || revoked.RevocationReason != reason {
		t.Errorf("the store has the certificate %s, reason %q; want revoked, %q", revoked.Status, revoked.RevocationReason, reason)
	}

	// The user's very next page load.
	ub.visit(s.bank.CertPortalURL + "/home")
	ub.wantText("main", msg(t, "error.certificate_revoked"), msg(t, "error.certificate_help.heading"))
	ub.screenshot("certificate-revoked", "")
	ub.submit(`main a[href="` + s.bank.PortalURL + `/issue"]`)
	file = ub.issue(user, newFile, false)
	renewed := s.checkIssued(ub, user, file, newFile)
	if renewed.Serial == old.Serial {
		t.Fatalf("the new certificate has the old serial %s", old.Serial)
	}
	ub.close()

	userPC.deleteCertificates()
	userPC.importP12(file, newFile)
	ub = userPC.open()
	ub.certificateLogin(user, "")
	ub.visit(s.bank.CertPortalURL + "/certificate")
	if got := ub.text(".serial"); got != renewed.Serial {
		ub.errorf("the certificate page shows serial %q, want the new %q", got, renewed.Serial)
	}
}

// TestR3_NoCertificateExplained: a browser without any certificate gets,
// on every page of the certificate portal, the page that says a
// certificate is needed and how to get one, not a browser error.
func TestR3_NoCertificateExplained(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"/", "/home", "/certificate"} {
		t.Run(path, func(t *testing.T) {
			b := s.person(t, "nocert").open()
			b.visit(s.bank.CertPortalURL + path)
			b.wantText("main", msg(t, "error.certificate_required"), msg(t, "error.certificate_help.heading"))
			if !b.exists(`main a[href="` + s.bank.PortalURL + `/issue"]`) {
				b.errorf("the page has no link to the issuance page %s/issue", s.bank.PortalURL)
			}
			if path == "/" {
				b.screenshot("certificate-required", "")
			}
		})
	}
}

// TestMasterAddsAndUnlocksGeneralUser: the master adds a general user on
// the users page and hands over the initial passwords shown once, with
// which the new user logs in (and must change them); the user is locked
// out, and the master unlocks them on the users page.
func TestMasterAddsAndUnlocksGeneralUser(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "みどり生活協同組合", false)
	const newID = "tsuika01"

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.wantAt(s.bank.PortalURL + "/home")
	mb.visit(s.bank.PortalURL + "/users")
	mb.submit("a#add-user")
	mb.wantAt(s.bank.PortalURL + "/users/new")
	mb.fill("#new_login_id", newID)
	mb.fill("#new_name", "追加 花子")
	mb.fill("#new_email", "hanako@example.org")
	// Not in the pages' contract, but asked for as on every sensitive form.
	mb.fill("#add-user-form #confirmation_password", org.Master.Confirmation)
	mb.submit("#add-user-submit")
	password, confirmation := mb.text("#initial-password"), mb.text("#initial-confirmation-password")
	if password == "" || confirmation == "" || password == confirmation {
		mb.fatalf("initial passwords %q and %q: want two different, non-empty passwords", password, confirmation)
	}
	mb.screenshot("users-added", "")
	if u := s.user(newID); u.Name != "追加 花子" || u.Email != "hanako@example.org" || !u.PasswordChangeRequired {
		t.Errorf("the store has the new user as %q <%s>, password change required %v", u.Name, u.Email, u.PasswordChangeRequired)
	}

	// The new user logs in with the initial password and must change it.
	newUser := testutil.Creds{LoginID: newID, Password: password, Confirmation: confirmation}
	ub := s.person(t, "new user").open()
	ub.passwordLogin(newUser)
	ub.wantAt(s.bank.PortalURL + "/password/initial")

	// The user is locked out by six wrong passwords where they count (on
	// the certificate portal or as the confirmation password; wrong
	// passwords on the portal's login are throttled and never lock).
	s.bank.LockUser(t, newID)
	row := `table#users tr[data-login-id="` + newID + `"]`
	mb.visit(s.bank.PortalURL + "/users")
	if !mb.exists(row + " form.unlock-form") {
		mb.fatalf("the users page offers no unlock for the locked %s: %q", newID, mb.text(row))
	}
	mb.fill(row+" input.unlock-confirmation", org.Master.Confirmation)
	mb.submit(row + " button.unlock-button")
	mb.wantAt(s.bank.PortalURL + "/users")
	if notice := mb.text("div#notice"); !strings.Contains(notice, newID) {
		mb.errorf("div#notice after the unlock says %q, want it to name %s", notice, newID)
	}
	if mb.exists(row + " form.unlock-form") {
		mb.errorf("the users page still offers to unlock %s", newID)
	}
	if s.user(newID).Locked() {
		t.Fatalf("%s is still locked in the store", newID)
	}
	ub.passwordLogin(newUser)
	ub.wantAt(s.bank.PortalURL + "/password/initial")
}
