//go:build linux

package browsertest

import (
	"testing"
	"time"

	"kinko/internal/certs"
)

// TestR9_RenewInBrowser: a certificate inside its renewal window shows the
// notice on the top screen; its 「更新」 button leads to the renewal page,
// which makes the new key in the page and downloads the new file; the old
// certificate keeps working until the new one, imported, is used to log
// in; from then on the old one is refused.
func TestR9_RenewInBrowser(t *testing.T) {
	// The bank was made about eleven months ago, when the old certificate
	// was issued, so that it is inside its window now. (The bank's clock
	// then comes to the browser's time: Chromium offers no certificate
	// that is not valid yet.)
	now := time.Now().UTC().Truncate(time.Second)
	s := newSiteAt(t, now.AddDate(0, -11, 0))
	org := s.bank.NewOrg(t, "ひかり労働組合 中央支部", true)
	user := s.bank.NewGeneralUser(t, org)
	const oldPassword, newPassword = "Old-File-2026", "New-File-2027"
	pc := s.person(t, "user")
	oldFile, _ := s.issueP12(user, oldPassword)
	s.bank.Clock.Set(now)
	pc.importP12(oldFile, oldPassword)
	old := s.currentCertificate(user.LoginID)
	if !s.bank.Services.Certs.InRenewalWindow(old, now) {
		t.Fatalf("the old certificate (until %s) is not inside its renewal window at %s", old.NotAfter, now)
	}

	b := pc.open()
	b.certificateLogin(user, "")
	b.wantText("#renewal-notice", dateTime(t, old.NotAfter), msg(t, "action.renew"))
	b.screenshot("renewal-notice", "")
	b.submit("a#renewal-button")
	b.wantAt(s.bank.CertPortalURL + "/renew")
	b.waitFor("#issue-submit enabled", "!document.querySelector('#issue-submit').disabled")
	b.screenshot("renew", "")
	b.step("renew", click("#issue-submit"))
	b.waitFor("the certificate (#p12-step) or an error (#issue-error)", visible("#p12-step")+" || "+visible("#issue-error"))
	if eval[bool](b, visible("#issue-error")) {
		b.fatalf("renewal refused: %s", b.text("#issue-error"))
	}
	b.fill("#p12-password", newPassword)
	b.fill("#p12-password-confirm", newPassword)
	b.step("download the file", click("#p12-download"))
	newFile := b.waitDownload(user.LoginID + ".p12")
	b.waitFor("the import instructions (#issue-done)", visible("#issue-done"))
	b.wantText("#issue-done", msg(t, "page.renew.done.next.delete_old"))
	b.screenshot("renew-done", "#issue-done")
	renewal := s.checkIssued(b, user, newFile, newPassword)
	if renewal.Serial == old.Serial || renewal.Renews != old.ID {
		b.fatalf("the downloaded certificate %s renews %d, want a new one renewing %s (%d)", renewal.Serial, renewal.Renews, old.Serial, old.ID)
	}
	// Not used yet: the old certificate still works.
	b.visit(s.bank.CertPortalURL + "/home")
	b.wantText("#renewal-notice", msg(t, "page.home.renewal.renewed_next"))
	b.close()

	// As the page says: import the new one, delete the old one.
	pc.deleteCertificates()
	pc.importP12(newFile, newPassword)
	b = pc.open()
	b.certificateLogin(user, "")
	if b.exists("#renewal-notice") {
		b.errorf("the renewed certificate still shows a renewal notice: %q", b.text("#renewal-notice"))
	}
	b.visit(s.bank.CertPortalURL + "/certificate")
	if got := b.text(".serial"); got != renewal.Serial {
		b.errorf("the certificate page shows serial %q, want the renewal's %q", got, renewal.Serial)
	}
	retired, err := s.bank.Services.Certs.ByID(t.Context(), old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if retired.Status != certs.StatusRevoked || retired.RevocationReason != "superseded" {
		t.Fatalf("the old certificate is %s (%q) after the first login with the new one, want revoked as superseded", retired.Status, retired.RevocationReason)
	}

	// A PC that still has the old certificate is refused, with the reason.
	other := s.person(t, "old pc")
	other.importP12(oldFile, oldPassword)
	ob := other.open()
	ob.visit(s.bank.CertPortalURL + "/home")
	ob.wantText("main", msg(t, "error.certificate_revoked"))
}
