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

// TestBankingBankSearchedByNameForANewPayee: a clerk finds the payee's bank
// by its name and the branch by its kana as they type on the transfer form,
// picks them, and transfers to an account that is not registered; the
// confirmation names the bank and branch; the approver sees the names and
// 新規振込先; the clerk registers the payee from the offer after the request.
func TestBankingBankSearchedByNameForANewPayee(t *testing.T) {
	s := newSite(t)
	bank := s.bank
	bank.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.JST))
	ctx := context.Background()
	org := bank.NewOrg(t, "ひかり労働組合", false)
	clerk := bank.NewGeneralUser(t, org)
	from, err := bank.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "1000011", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ", "test", "REQ-1")
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
	cb.fill("#bank_q", "三菱")
	cb.waitFor("the banks named 三菱", visible(`#bank_matches button[data-code="0005"]`))
	cb.screenshot("bank-search", "")
	cb.step("pick 三菱ＵＦＪ", click(`#bank_matches button[data-code="0005"]`))
	cb.waitFor("the bank code filled in", `document.querySelector("#bank_code").value === "0005"`)
	cb.wantText("#bank_name", "三菱ＵＦＪ")
	cb.fill("#branch_q", "よこはまなか")
	cb.waitFor("the branches of よこはまなか", visible(`#branch_matches button[data-code="123"]`))
	cb.step("pick 横浜中山", click(`#branch_matches button[data-code="123"]`))
	cb.waitFor("the branch code filled in", `document.querySelector("#branch_code").value === "123"`)
	cb.wantText("#branch_name", "横浜中山")
	cb.fill("#account_number", "7654321")
	cb.fill("#payee_name", "カ）トリヒキサキ")
	cb.fill("#amount", "30000")
	cb.submit("#transfer-confirm")
	cb.wantText("#confirm-payee", "0005", "三菱ＵＦＪ 横浜中山")
	cb.submit("#transfer-submit")
	cb.wantText("#transfer-done", msg(t, "page.transfer_done.awaiting"))
	id := cb.text("#transfer-number")
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		cb.fatalf("transfer number %q: %v", id, err)
	}
	if !cb.exists("#register-payee") {
		cb.fatalf("no offer to register the new payee after the request")
	}

	mb := s.person(t, "master").open()
	mb.passwordLogin(org.Master)
	mb.visit(bank.PortalURL + "/approvals")
	mb.wantText(`#approvals tr[data-transfer-id="`+id+`"]`, "新規振込先", "三菱ＵＦＪ 横浜中山")
	mb.visit(bank.PortalURL + "/approvals/" + id)
	mb.wantText("#transfer-facts", "三菱ＵＦＪ 横浜中山", "新規振込先")
	mb.wantText("#new-payee-note", msg(t, "banks.new_payee.note"))
	mb.screenshot("approval-new-payee", "")

	cb.submit("#register-payee")
	if got := eval[string](cb, `document.querySelector("#account_number").value`); got != "7654321" {
		cb.fatalf("the payee form is not filled with the transfer's payee: account %q", got)
	}
	cb.wantText("#bank_name", "三菱ＵＦＪ")
	cb.submit("#payee-submit")
	cb.wantText("#payees", "三菱ＵＦＪ 横浜中山", "ｶ)ﾄﾘﾋｷｻｷ")
}
