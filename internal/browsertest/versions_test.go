//go:build linux

package browsertest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
)

// TestHardening_BrowserApprovalOfChangedTransferRefused: the master opens
// the approval page of a transfer of 1,000 yen; while it is open, another
// approver sends it back and the requester changes it to 990,000 yen. The
// approval sent from that page approves nothing: the browser shows the
// transfer as it is now and what changed; approving again from there
// approves what it shows.
func TestHardening_BrowserApprovalOfChangedTransferRefused(t *testing.T) {
	s := newSite(t)
	bank := s.bank
	bank.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.JST))
	ctx := context.Background()
	org := bank.NewOrg(t, "かわりめ労働組合", false)
	general, other := bank.NewGeneralUser(t, org), bank.NewGeneralUser(t, org)
	from, err := bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "1000011", "ｶﾜﾘﾒﾛｳｿ", "test", "REQ-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bank.Services.Banking.Deposit(ctx, from.ID, 2_000_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
		t.Fatal(err)
	}
	master := s.user(org.Master.LoginID)
	for login, p := range map[string]banking.Privileges{
		general.LoginID: {Inquiry: true, TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 1_000_000},
		other.LoginID:   {Approval: true},
	} {
		if err := bank.Services.Banking.SetPrivileges(ctx, master, login, p); err != nil {
			t.Fatal(err)
		}
	}
	payee := banking.PayeeAccount{BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "7654321", Name: "ﾀﾅｶ ﾊﾅｺ"}
	requester := s.user(general.LoginID)
	tr, err := bank.Services.Banking.RequestTransfer(ctx, requester, banking.TransferRequest{FromAccountID: from.ID, Payee: payee, Amount: 1_000})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(tr.ID, 10)

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.visit(bank.PortalURL + "/approvals/" + id)
	mb.wantText("#transfer-amount", "1,000円")

	if _, err := bank.Services.Banking.SendBack(ctx, s.user(other.LoginID), tr.ID, tr.Version, "金額を確認してください"); err != nil {
		t.Fatal(err)
	}
	if _, err := bank.Services.Banking.Resubmit(ctx, requester, tr.ID,
		banking.TransferRequest{FromAccountID: from.ID, Payee: payee, Amount: 990_000}); err != nil {
		t.Fatal(err)
	}

	mb.fill("#confirmation_password", org.Master.Confirmation)
	mb.submit("#approve-submit")
	mb.wantText("#form-error", msg(t, "error.transfer_changed"))
	mb.wantText("#changes", "1,000円", "990,000円")
	mb.wantText("#transfer-amount", "990,000円")
	mb.screenshot("approval-changed", "")
	if now, err := bank.Services.Banking.Transfer(ctx, master, tr.ID); err != nil || now.Status != banking.StatusAwaitingApproval {
		t.Fatalf("after the approval from the page that showed 1,000 yen: %+v, %v", now, err)
	}

	mb.fill("#confirmation_password", org.Master.Confirmation)
	mb.submit("#approve-submit")
	mb.wantAt(bank.PortalURL + "/approvals/" + id + "?done=approved")
	if now, err := bank.Services.Banking.Transfer(ctx, master, tr.ID); err != nil || now.Status != banking.StatusExecuted || now.Amount != 990_000 {
		t.Fatalf("after the approval of what the page showed: %+v, %v", now, err)
	}
}
