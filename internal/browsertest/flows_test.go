//go:build linux

package browsertest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"

	"kinko/internal/certs"
	"kinko/internal/testutil"
)

// The steps a user takes, shared by the tests.

// passwordLogin logs in with ID + password on the portal's login page.
func (b *browser) passwordLogin(c testutil.Creds) {
	b.t.Helper()
	b.visit(b.p.s.bank.PortalURL + "/login")
	b.fill("#login_id", c.LoginID)
	b.fill("#password", c.Password)
	b.submit(`form[action="/login"] button[type=submit]`)
}

// certificateLogin logs in on the certificate portal with the certificate
// that the browser presents and the login password, and checks that the
// page showed whose certificate it was before asking for the password.
func (b *browser) certificateLogin(c testutil.Creds, shot string) {
	b.t.Helper()
	bank := b.p.s.bank
	b.visit(bank.CertPortalURL + "/")
	b.wantAt(bank.CertPortalURL + "/")
	if got := b.text(".login-id"); got != c.LoginID {
		b.fatalf("the certificate login shows the certificate of %q, want %q; the page says:\n%s", got, c.LoginID, b.mainText())
	}
	if shot != "" {
		b.screenshot(shot, "")
	}
	b.fill("#password", c.Password)
	b.submit("form:has(#password) button[type=submit]")
	b.wantAt(bank.CertPortalURL + "/home")
}

// issue goes through 電子証明書発行 in the browser from the issuance page
// (the browser must be on it): login ID and password, the certificate, the
// file's password, the download. It returns the downloaded file.
func (b *browser) issue(c testutil.Creds, filePassword string, shots bool) string {
	b.t.Helper()
	bank := b.p.s.bank
	b.wantAt(bank.PortalURL + "/issue")
	if !b.exists("form#issue-form") {
		b.fatalf("the issuance page has no form#issue-form; it says:\n%s", b.mainText())
	}
	b.fill("#issue-form #login_id", c.LoginID)
	b.fill("#issue-form #password", c.Password)
	if shots {
		b.screenshot("issue-form", "#issue-step")
	}
	// The button is enabled once the page's script is ready.
	b.waitFor("#issue-submit enabled", "!document.querySelector('#issue-submit').disabled")
	b.step("send the request", click("#issue-submit"))
	b.waitFor("the certificate (#p12-step) or an error (#issue-error)", visible("#p12-step")+" || "+visible("#issue-error"))
	if eval[bool](b, visible("#issue-error")) {
		b.fatalf("issuance refused: %s", b.text("#issue-error"))
	}
	b.fill("#p12-password", filePassword)
	b.fill("#p12-password-confirm", filePassword)
	b.step("download the file", click("#p12-download"))
	file := b.waitDownload(c.LoginID + ".p12")
	b.waitFor("the import instructions (#issue-done)", visible("#issue-done"))
	if shots {
		b.screenshot("issue-done", "#issue-done")
	}
	if got, want := b.href("a#issue-cert-login"), bank.CertPortalURL+"/"; got != want {
		b.errorf("a#issue-cert-login goes to %s, want %s", got, want)
	}
	return file
}

// checkIssued checks that the downloaded file holds the user's current
// certificate in the bank's store, with a P-256 key, and returns it.
func (s *site) checkIssued(b *browser, c testutil.Creds, file, filePassword string) certs.Certificate {
	b.t.Helper()
	stored := s.currentCertificate(c.LoginID)
	if stored.Status != certs.StatusIssued {
		b.fatalf("the certificate of %s in the store is %s, want issued", c.LoginID, stored.Status)
	}
	inFile := s.p12Certificate(file, filePassword)
	if !bytes.Equal(inFile.Raw, stored.DER) {
		b.fatalf("the downloaded file holds certificate %x, the store has %s for %s", inFile.SerialNumber, stored.Serial, c.LoginID)
	}
	if k, ok := inFile.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		b.errorf("the certificate's key is %T, want ECDSA P-256", inFile.PublicKey)
	}
	return stored
}
