package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestBankingOnTheCertificatePortal: an organization that uses certificate
// login does its banking on the certificate portal, every page behind the
// certificate: a general user sees the balance and requests a transfer,
// the master approves it with the confirmation password, and the money
// moves. Without the certificate, or on the portal with ID and password,
// nothing of it is reachable.
func TestBankingOnTheCertificatePortal(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		org := b.NewOrg(t, "証明書銀行労組", true)
		other := b.NewOrg(t, "受取協同組合", false)
		general := b.NewGeneralUser(t, org)
		acct, err := b.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "003", "3000003", "ｼﾖｳﾒｲｼﾖﾛｳｸﾐ", "test", "REQ-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Services.Banking.Deposit(ctx, acct.ID, 500_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
			t.Fatal(err)
		}
		payee, err := b.Services.Banking.OpenAccount(ctx, other.Code, banking.Ordinary, "004", "4000004", "ｳｹﾄﾘｷﾖｳﾄﾞｳｸﾐｱｲ", "test", "REQ-3")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Services.Banking.SetPrivileges(ctx, bankingUser(t, b, org.Master.LoginID), general.LoginID,
			banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 1_000_000}); err != nil {
			t.Fatal(err)
		}
		gc := b.IssueCertificate(t, general)
		mc := b.IssueCertificate(t, org.Master)

		// The general user, with the certificate.
		g := b.Client(gc)
		wantPage(t, certificateLogin(t, b, g, general.Password), http.StatusOK, "/home")
		accounts := get(t, g, b.CertPortalURL+"/accounts")
		wantPage(t, accounts, http.StatusOK, "/accounts")
		wantText(t, accounts, "3000003", "500,000")
		r := g.CertPortal(http.MethodPost, "/api/v1/transfers", map[string]any{
			"from_account_id": acct.ID, "payee": map[string]any{"bank_code": b.Services.Banking.BankCode(), "branch_code": "004",
				"account_type": "ordinary", "account_number": "4000004", "name": "ｳｹﾄﾘｷﾖｳﾄﾞｳｸﾐｱｲ"},
			"amount": 120_000, "execution_date": "2026-12-01"})
		if r.Status != http.StatusCreated {
			t.Fatalf("transfer request on the certificate portal: %d %s", r.Status, r.Raw)
		}
		id := int64(r.Body["id"].(float64))

		// The master approves it on the approvals page, with the certificate.
		m := b.Client(mc)
		wantPage(t, certificateLogin(t, b, m, org.Master.Password), http.StatusOK, "/home")
		detail := get(t, m, b.CertPortalURL+"/approvals/"+itoa(id))
		wantPage(t, detail, http.StatusOK, "/approvals/"+itoa(id))
		done := post(t, m, b.CertPortalURL+"/approvals/"+itoa(id)+"/approve",
			decision(t, detail, url.Values{"csrf_token": {csrfToken(t, detail)}, "confirmation_password": {org.Master.Confirmation}}))
		if done.Status != http.StatusOK {
			t.Fatalf("approval: %d\n%s", done.Status, done.Text)
		}
		if got := balance(t, b, org.Code, acct.ID); got != 380_000 {
			t.Errorf("balance after the approval: %d, want 380,000", got)
		}
		if got := balance(t, b, other.Code, payee.ID); got != 120_000 {
			t.Errorf("the payee's balance: %d, want 120,000", got)
		}

		// Not without the certificate, not on the portal.
		for _, c := range []struct {
			name string
			url  string
			cl   *testutil.Client
		}{
			{"certificate portal without a certificate", b.CertPortalURL + "/accounts", b.Client(nil)},
			{"portal", b.PortalURL + "/accounts", b.Client(nil)},
		} {
			p := get(t, c.cl, c.url)
			if strings.Contains(p.Text, "3000003") || strings.Contains(p.Text, "380,000") {
				t.Errorf("%s shows the account: %d %s", c.name, p.Status, p.URL)
			}
		}
		if p := passwordLogin(t, b, b.Client(nil), general.LoginID, general.Password); p.URL.Path == "/home" {
			t.Error("ID and password logged in a user of a certificate-login organization")
		}
	})
}
