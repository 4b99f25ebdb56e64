//go:build linux

package browsertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/zengin"
)

// TestPayrollFileUploadedConfirmedApproved: a general user without payroll
// inquiry uploads a 給与振込 file, sees the confirmation (the kind, count,
// total, the file's date, the deadline; no names, no amounts) and
// requests it; the master, who sees the names, approves it.
func TestPayrollFileUploadedConfirmedApproved(t *testing.T) {
	s := newSite(t)
	bank := s.bank
	// Tuesday 1 December 2026 at 10:00: the last day (by 15:00) of a
	// payroll paid on Friday 4 December.
	bank.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.JST))
	ctx := context.Background()
	org := bank.NewOrg(t, "ひかり労働組合", false)
	general := bank.NewGeneralUser(t, org)
	from, err := bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "1000001", "ﾋｶﾘﾛｳｿ", "test", "REQ-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bank.Services.Banking.Deposit(ctx, from.ID, 2_000_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
		t.Fatal(err)
	}
	if err := bank.Services.Banking.SetPrivileges(ctx, s.user(org.Master.LoginID), general.LoginID,
		banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 5_000_000}); err != nil {
		t.Fatal(err)
	}
	f := &zengin.File{Header: zengin.Header{Kind: zengin.KindSalary, RequesterCode: "1", RequesterName: "ﾋｶﾘﾛｳｿ",
		Date: zengin.MonthDay{Month: 12, Day: 4}, BankCode: "2950", BranchCode: "001", AccountType: zengin.AccountOrdinary,
		AccountNumber: "1000001"}, Records: []zengin.Transfer{
		{BankCode: "0005", BranchCode: "123", AccountType: zengin.AccountOrdinary, AccountNumber: "3141592", PayeeName: "ﾔﾏﾀﾞ ﾀﾛｳ", Amount: 285_000},
		{BankCode: "0009", BranchCode: "001", AccountType: zengin.AccountOrdinary, AccountNumber: "2718281", PayeeName: "ｽｽﾞｷ ﾊﾅｺ", Amount: 243_500},
	}}
	var buf bytes.Buffer
	if err := zengin.Write(&buf, f, zengin.WriteOptions{CRLF: true}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "kyuyo1204.txt")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	gb := s.person(t, "general").open()
	gb.passwordLogin(general)
	gb.wantAt(bank.PortalURL + "/home")
	gb.visit(bank.PortalURL + "/transfers/batch")
	gb.step("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}))
	gb.submit("#batch-submit")
	if !strings.HasPrefix(gb.location(), bank.PortalURL+"/batch-uploads/") {
		gb.fatalf("after the upload at %s:\n%s", gb.location(), gb.mainText())
	}
	gb.wantText("#draft-kind", "給与振込")
	gb.wantText("#draft-count", "2")
	gb.wantText("#draft-total", "528,500円")
	gb.wantText("#draft-date-source", "2026年12月4日")
	gb.wantText("#draft-items", "三菱ＵＦＪ", msg(t, "banking.payroll_hidden"))
	if text := gb.mainText(); strings.Contains(text, "ﾔﾏﾀﾞ") || strings.Contains(text, "285,000") {
		gb.errorf("a payroll name or amount shown without payroll inquiry:\n%s", text)
	}
	gb.screenshot("batch-confirm", "")
	gb.submit("#draft-confirm-submit")
	if !strings.HasPrefix(gb.location(), bank.PortalURL+"/batches/") {
		gb.fatalf("after 「依頼する」 at %s:\n%s", gb.location(), gb.mainText())
	}
	gb.wantText("#batch-status", msg(t, "banking.status.awaiting_approval"))
	id := strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(gb.location(), bank.PortalURL+"/batches/"), "?", 2)[0], "/")

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.wantAt(bank.PortalURL + "/home")
	mb.visit(bank.PortalURL + "/approvals/batches/" + id)
	mb.wantText("#batch-items", "ﾔﾏﾀﾞ ﾀﾛｳ", "285,000円")
	mb.fill("#confirmation_password", org.Master.Confirmation)
	mb.submit("#approve-submit")
	mb.wantText("#batch-status", msg(t, "banking.status.scheduled"))
}
