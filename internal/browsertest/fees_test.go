//go:build linux

package browsertest

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/testutil"
)

// newFeeSite is newSite with a bank that charges testutil.Fees.
func newFeeSite(t *testing.T) *site {
	t.Helper()
	requireBrowser(t)
	s := &site{t: t, bank: testutil.NewBankAt(t, testutil.OpenSQLite(t), time.Now(), testutil.WithFees), dir: t.TempDir()}
	s.root = filepath.Join(s.dir, "root.pem")
	if err := os.WriteFile(s.root, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.bank.Authority.Root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	writePolicy(t, s.bank.CertPortalURL)
	return s
}

// TestBankingFeeSeenOnConfirmation: a clerk transfers 30,000 yen to an
// account at another bank and sees, before requesting it, the fee of the
// bank's table (440 yen from 30,000 yen), that the organization bears it
// and what leaves the account; choosing 先方負担 shows what the payee
// receives instead; the approver sees the same fee.
func TestBankingFeeSeenOnConfirmation(t *testing.T) {
	s := newFeeSite(t)
	bank := s.bank
	bank.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.JST))
	ctx := context.Background()
	org := bank.NewOrg(t, "ひかり労働組合", false)
	clerk := bank.NewGeneralUser(t, org)
	from, err := bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "1000021", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ", "test", "REQ-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bank.Services.Banking.Deposit(ctx, from.ID, 1_000_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
		t.Fatal(err)
	}
	if err := bank.Services.Banking.SetPrivileges(ctx, s.user(org.Master.LoginID), clerk.LoginID,
		banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000}); err != nil {
		t.Fatal(err)
	}

	cb := s.person(t, "clerk").open()
	cb.passwordLogin(clerk)
	cb.wantAt(bank.PortalURL + "/home")
	cb.visit(bank.PortalURL + "/transfers/new")
	cb.fill("#bank_code", "0005")
	cb.fill("#branch_code", "123")
	cb.fill("#account_number", "7654321")
	cb.fill("#payee_name", "カ）トリヒキサキ")
	cb.fill("#amount", "30000")
	cb.submit("#transfer-confirm")
	cb.wantText("#confirm-amount", "30,000円")
	cb.wantText("#confirm-fee", "440円", msg(t, "fees.payer"))
	cb.wantText("#confirm-received", "30,000円")
	cb.wantText("#confirm-debited", "30,440円")
	cb.screenshot("transfer-confirm-fee", "#transfer-summary")

	// Back to the form: the payee bears the fee.
	cb.submit("#transfer-edit")
	cb.step("choose 先方負担", chromedp.SetValue(chromedp.CSS("select#fee_payer"), "payee"))
	cb.submit("#transfer-confirm")
	cb.wantText("#confirm-fee", "440円", msg(t, "fees.payee"))
	cb.wantText("#confirm-received", "29,560円")
	cb.wantText("#confirm-debited", "30,000円")
	cb.submit("#transfer-submit")
	cb.wantText("#transfer-done", msg(t, "page.transfer_done.awaiting"))
	id := cb.text("#transfer-number")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		cb.fatalf("transfer number %q: %v", id, err)
	}

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.visit(bank.PortalURL + "/approvals/" + id)
	mb.wantText("#transfer-fee", "440円", msg(t, "fees.payee"))
	mb.wantText("#transfer-received", "29,560円")
}
