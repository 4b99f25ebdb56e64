//go:build linux

package browsertest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"kinko/internal/banking"
	"kinko/internal/calendar"
)

// TestBankingTransferRequestedAndApproved: a general user requests a
// transfer to an account at this bank in the browser (the name typed in
// full-width katakana and shown converted before the request), the master
// approves it with the confirmation password in another browser, both
// balances change, the statement shows it, and its CSV downloads in
// UTF-8 and Shift_JIS.
func TestBankingTransferRequestedAndApproved(t *testing.T) {
	s := newSite(t)
	bank := s.bank
	// A Tuesday at 10:00 in Japan: a business day, before the cut-off.
	bank.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.JST))
	ctx := context.Background()
	org := bank.NewOrg(t, "みどり生活協同組合", false)
	other := bank.NewOrg(t, "うけとり商店会", false)
	general := bank.NewGeneralUser(t, org)
	from, err := bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "1000001", "ﾐﾄﾞﾘｾｲｷﾖｳ", "test", "REQ-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bank.Services.Banking.Deposit(ctx, from.ID, 1_000_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
		t.Fatal(err)
	}
	to, err := bank.Services.Banking.OpenAccount(ctx, other.Code, banking.Ordinary, "002", "2000002", "ｳｹﾄﾘｼﾖｳﾃﾝｶｲ", "test", "REQ-3")
	if err != nil {
		t.Fatal(err)
	}
	if err := bank.Services.Banking.SetPrivileges(ctx, s.user(org.Master.LoginID), general.LoginID,
		banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000}); err != nil {
		t.Fatal(err)
	}

	gb := s.person(t, "general").open()
	gb.passwordLogin(general)
	gb.wantAt(bank.PortalURL + "/home")
	gb.visit(bank.PortalURL + "/transfers/new")
	gb.fill("#bank_code", "2950")
	gb.fill("#branch_code", "002")
	gb.fill("#account_number", "2000002")
	gb.fill("#payee_name", "ウケトリ ショウテンカイ")
	gb.fill("#amount", "12,345")
	gb.fill("#memo", "返金")
	gb.submit("#transfer-confirm")
	gb.wantText("#confirm-name", "ｳｹﾄﾘ ｼﾖｳﾃﾝｶｲ")
	gb.wantText("#confirm-amount", "12,345円")
	gb.screenshot("transfer-confirm", "")
	gb.submit("#transfer-submit")
	gb.wantText("#transfer-done", msg(t, "page.transfer_done.awaiting"))
	id := gb.text("#transfer-number")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		gb.fatalf("transfer number %q: %v", id, err)
	}

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.wantAt(bank.PortalURL + "/home")
	mb.wantText("#home-awaiting", "12,345円", "ｳｹﾄﾘ ｼﾖｳﾃﾝｶｲ")
	mb.submit(`#home-awaiting a[href="/approvals/` + id + `"]`)
	mb.wantAt(bank.PortalURL + "/approvals/" + id)
	mb.fill("#confirmation_password", org.Master.Confirmation)
	mb.screenshot("approval", "")
	mb.submit("#approve-submit")
	mb.wantAt(bank.PortalURL + "/approvals/" + id + "?done=approved")
	mb.wantText("#transfer-status", msg(t, "banking.status.executed"))

	mb.visit(bank.PortalURL + "/accounts")
	mb.wantText(`#accounts tr[data-account-id="`+strconv.FormatInt(from.ID, 10)+`"] .balance`, "987,655円")
	if a, err := bank.Services.Banking.OrganizationAccounts(ctx, other.Code); err != nil || len(a) != 1 || a[0].ID != to.ID || a[0].Balance != 12_345 {
		t.Errorf("the payee's account: %+v, %v; want 12,345 yen", a, err)
	}

	acct := strconv.FormatInt(from.ID, 10)
	gb.visit(bank.PortalURL + "/accounts/" + acct + "/statement")
	gb.wantText("#statement", "12,345円", "987,655円")
	gb.screenshot("statement", "")
	for _, tc := range []struct{ sel, name string }{
		{"#csv-utf-8", "statement-001-1000001-20261201-20261201.csv"},
		{"#csv-utf-8-bom", "statement-001-1000001-20261201-20261201-excel.csv"},
		{"#csv-shift_jis", "statement-001-1000001-20261201-20261201-sjis.csv"},
	} {
		gb.step("download "+tc.name, click(tc.sel))
		raw, err := os.ReadFile(gb.waitDownload(tc.name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		if strings.HasSuffix(tc.name, "-excel.csv") {
			// Excel reads UTF-8 only after a byte order mark.
			bom, ok := strings.CutPrefix(text, "\ufeff")
			if !ok {
				t.Errorf("%s has no byte order mark: %q", tc.name, text[:min(len(text), 8)])
			}
			text = bom
		}
		if strings.HasSuffix(tc.name, "-sjis.csv") {
			dec, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), raw)
			if err != nil {
				t.Fatal(err)
			}
			text = string(dec)
		}
		want := "日付,摘要,お支払金額,お預り金額,差引残高\r\n2026/12/01,ｸﾐｱｲﾋ,,1000000,1000000\r\n"
		if !strings.HasPrefix(text, want) || !strings.Contains(text, ",12345,,987655\r\n") {
			t.Errorf("%s holds:\n%q", tc.name, text)
		}
	}
}
