//go:build linux

package browsertest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kinko/internal/operators"
)

// operatorP12 adds an operator to s's bank with a certificate of its
// operator CA, as "kinko operator staff add --out" does, and writes the
// PKCS#12 file; it returns the file and its password.
func (s *site) operatorP12(name, displayName string, role operators.Role) (string, string) {
	s.t.Helper()
	op := s.bank.NewOperator(s.t, name, displayName, role)
	file := filepath.Join(s.dir, name+"-operator.p12")
	if err := os.WriteFile(file, op.P12, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return file, op.Password
}

// TestConsoleFindsAnOrganizationByALoginID: an operator with the operator
// certificate in the PC's certificate store (NSS) opens the bank's
// console, searches a user's login ID and reaches the user's
// organization, shown by its code.
func TestConsoleFindsAnOrganizationByALoginID(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "みなと信用組合 事務センター", false)
	other := s.bank.NewOrg(t, "別の協同組合", false)
	user := s.bank.NewGeneralUser(t, org)
	p12, password := s.operatorP12("tanaka", "田中 一郎", operators.RoleClerk)

	p := s.person(t, "operator")
	p.importP12(p12, password)
	b := p.open()
	b.visit(s.bank.ConsoleURL + "/")
	b.wantText("#operator", "田中 一郎", "担当者")
	b.fill("#q", user.LoginID)
	b.submit("#search")
	b.wantText("#results", org.Code, org.Name)
	if b.exists(`a[href="/organizations/` + other.Code + `"]`) {
		b.errorf("the search for %s found %s too", user.LoginID, other.Code)
	}
	b.screenshot("console-search", "")
	b.submit(`a[href="/organizations/` + org.Code + `"]`)
	b.wantAt(s.bank.ConsoleURL + "/organizations/" + org.Code)
	b.wantText("#org-code", org.Code)
	b.wantText("#users", org.Master.LoginID, user.LoginID)
	b.screenshot("console-organization", "")

	// Without the operator certificate, the listener refuses the
	// connection in the handshake.
	stranger := s.person(t, "stranger").open()
	ctx, cancel := context.WithTimeout(stranger.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(s.bank.ConsoleURL+"/")); err == nil {
		if stranger.exists("#operator") {
			stranger.errorf("the console served a browser without an operator certificate")
		}
	}
}

// TestConsoleRevokesAMastersCertificateWithTwoOperators: the bank's clerk
// (担当者) finds an organization by a user's login ID and files the
// revocation of its master's certificate on the master's written
// request; it waits. The same clerk cannot approve it; a second operator,
// an approver (承認者), does, and the master's open session is refused on
// its next request.
func TestConsoleRevokesAMastersCertificateWithTwoOperators(t *testing.T) {
	s := newSite(t)
	org := s.bank.NewOrg(t, "さくら労働組合", true)
	clerkUser := s.bank.NewGeneralUser(t, org)
	masterCert := s.bank.IssueCertificate(t, org.Master)
	master := s.bank.Client(masterCert)
	if r := master.CertPortal(http.MethodPost, "/api/v1/sessions", map[string]string{"password": org.Master.Password}); r.Status != http.StatusCreated {
		t.Fatalf("the master's certificate login: %d %s", r.Status, r.Raw)
	}
	if r := master.CertPortal(http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusOK {
		t.Fatalf("the master's session: %d", r.Status)
	}
	serial := s.currentCertificate(org.Master.LoginID).Serial

	clerkP12, clerkPassword := s.operatorP12("yamada", "山田 太郎", operators.RoleClerk)
	approverP12, approverPassword := s.operatorP12("kimura", "木村 花子", operators.RoleApprover)

	clerk := s.person(t, "clerk")
	clerk.importP12(clerkP12, clerkPassword)
	cb := clerk.open()
	cb.visit(s.bank.ConsoleURL + "/")
	cb.fill("#q", clerkUser.LoginID)
	cb.submit("#search")
	cb.submit(`a[href="/organizations/` + org.Code + `"]`)
	cb.wantText("#org-code", org.Code)
	cb.submit(`a[href="/file/certificate_revoke?serial=` + serial + `"]`)
	cb.fill("#ref", "REV-2026-0042")
	cb.screenshot("console-revocation-filed", "")
	cb.submit("#file")
	cb.wantText("#request-status", "承認待ち")
	cb.wantText("#request-ref", "REV-2026-0042")
	requestURL := cb.location()
	if !strings.HasPrefix(requestURL, s.bank.ConsoleURL+"/requests/") {
		t.Fatalf("after filing, the clerk is at %s", requestURL)
	}
	if cb.exists("#approve") {
		cb.errorf("the clerk who filed the request is offered to approve it")
	}
	if r := master.CertPortal(http.MethodGet, "/api/v1/me", nil); r.Status != http.StatusOK {
		t.Fatalf("a revocation only filed already ended the master's session: %d", r.Status)
	}

	approver := s.person(t, "approver")
	approver.importP12(approverP12, approverPassword)
	ab := approver.open()
	ab.visit(requestURL)
	ab.wantText("#request-maker", "yamada")
	ab.submit("#approve")
	ab.wantText("#request-status", "承認済み")
	ab.wantText("#request-checker", "kimura")
	ab.screenshot("console-revocation-approved", "")

	// The master's open session: refused on its very next request (the
	// certificate is revoked; its connection or its request is refused).
	r := master.CertPortal(http.MethodGet, "/api/v1/me", nil)
	if r.Err == nil && r.Status == http.StatusOK {
		t.Fatalf("the master's session still works after the revocation: %d %s", r.Status, r.Raw)
	}
	if c, err := s.bank.Services.Certs.BySerial(context.Background(), serial); err != nil || c.Status != "revoked" || c.RequestRef != "REV-2026-0042" {
		t.Errorf("the master's certificate %s: %s, request %q, %v; want revoked on REV-2026-0042", serial, c.Status, c.RequestRef, err)
	}
}
