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

// TestBankingFees_ShownOnConfirmationAndApproval: the confirmation page of a
// transfer shows its fee by the bank's table, who bears it, what the payee
// receives and what leaves the account (29,999 yen to another bank 当方負担;
// 30,000 yen 先方負担); the fee payer chosen is what is requested; the
// approver's page and the transfer's page show the same; 先方負担 of no more
// than the fee is refused next to the amount.
func TestBankingFees_ShownOnConfirmationAndApproval(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, testutil.WithFees)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		elsewhere := map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "7654321", "payee_name": "ﾀﾅｶ ﾊﾅｺ"}
		entry := func(amount, feePayer string) page {
			fields := map[string]string{"amount": amount, "fee_payer": feePayer}
			for k, v := range elsewhere {
				fields[k] = v
			}
			return transferEntry(t, s, gc, fields)
		}

		payer := entry("29999", "payer")
		wantTitle(t, payer, "ja", "page.transfer_confirm.title")
		if !strings.Contains(payer.Raw, `id="confirm-fee"`) {
			t.Fatalf("the confirmation page has no fee:\n%s", payer.Text)
		}
		wantText(t, payer, msg(t, "ja", "fees.field.fee"), "330円", msg(t, "ja", "fees.payer"), "30,329円")

		cf := entry("30000", "payee")
		wantTitle(t, cf, "ja", "page.transfer_confirm.title")
		wantText(t, cf, "440円", msg(t, "ja", "fees.payee"), msg(t, "ja", "fees.field.received"), "29,560円")
		v := hiddenFields(cf)
		if v.Get("fee_payer") != "payee" {
			t.Fatalf("the confirmation page sends fee_payer %q, want payee", v.Get("fee_payer"))
		}
		v.Set("step", "submit")
		done := post(t, gc, b.PortalURL+"/transfers/new", v)
		wantTitle(t, done, "ja", "page.transfer_done.title")
		tp, err := b.Services.Banking.Transfers(context.Background(), bankingUser(t, b, s.general.LoginID), banking.TransferQuery{})
		if err != nil || tp.Total != 1 {
			t.Fatalf("transfers %+v, %v; want the one requested", tp, err)
		}
		tr := tp.Transfers[0]
		if tr.Fee != 440 || tr.FeePayer != banking.FeePayerPayee || tr.Sent() != 29_560 {
			t.Fatalf("transfer fee %d %s sent %d, want 440 payee 29560", tr.Fee, tr.FeePayer, tr.Sent())
		}

		mc := bankingLogin(t, b, s.org.Master, "")
		id := itoa(tr.ID)
		ap := get(t, mc, b.PortalURL+"/approvals/"+id)
		wantPage(t, ap, http.StatusOK, "/approvals/"+id)
		if !strings.Contains(ap.Raw, `id="transfer-fee"`) {
			t.Fatalf("the approval page has no fee:\n%s", ap.Text)
		}
		wantText(t, ap, msg(t, "ja", "fees.field.fee"), "440円", msg(t, "ja", "fees.payee"), "29,560円")
		tok := csrfToken(t, ap)
		ok := post(t, mc, b.PortalURL+"/approvals/"+id+"/approve", decision(t, ap, url.Values{"csrf_token": {tok}, "confirmation_password": {s.org.Master.Confirmation}}))
		wantText(t, ok, msg(t, "ja", "banking.status.executed"))
		if got := balance(t, b, s.org.Code, s.account.ID); got != 1_000_000-30_000 {
			t.Errorf("balance %d, want %d: 先方負担 takes the fee from the amount", got, 1_000_000-30_000)
		}
		st := get(t, gc, b.PortalURL+"/accounts/"+itoa(s.account.ID)+"/statement")
		wantText(t, st, banking.FeeDescription, "440円", "29,560円")

		// A batch's page shows its items' fees and what leaves the account.
		bt, err := b.Services.Banking.CreateBatch(context.Background(), bankingUser(t, b, s.general.LoginID), banking.BatchRequest{
			FromAccountID: s.account.ID, SourceFile: "sogo.txt", Items: []banking.BatchItem{
				{Payee: banking.PayeeAccount{BankCode: "2950", BranchCode: "002", AccountType: banking.Ordinary, AccountNumber: "2000002", Name: "ｳｹﾄﾘｼﾖｳﾃﾝｶｲ"}, Amount: 30_000},
				{Payee: banking.PayeeAccount{BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "7654321", Name: "ﾀﾅｶ ﾊﾅｺ"}, Amount: 1_000},
			}})
		if err != nil {
			t.Fatalf("create batch: %v", err)
		}
		bp := get(t, gc, b.PortalURL+"/batches/"+itoa(bt.ID))
		wantPage(t, bp, http.StatusOK, "/batches/"+itoa(bt.ID))
		if !strings.Contains(bp.Raw, `id="batch-fees"`) {
			t.Fatalf("the batch page has no fees:\n%s", bp.Text)
		}
		// Another branch 30,000 yen: 220; another bank 1,000 yen: 330.
		wantText(t, bp, msg(t, "ja", "fees.batch_total"), "550円", "31,550円")

		// A transfer sent back opens for correction with its fee payer.
		general := bankingUser(t, b, s.general.LoginID)
		back, err := b.Services.Banking.RequestTransfer(context.Background(), general, banking.TransferRequest{FromAccountID: s.account.ID,
			Payee:  banking.PayeeAccount{BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "7654321", Name: "ﾀﾅｶ ﾊﾅｺ"},
			Amount: 5_000, FeePayer: banking.FeePayerPayee})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Services.Banking.SendBack(context.Background(), bankingUser(t, b, s.org.Master.LoginID), back.ID, back.Version, "金額を確認"); err != nil {
			t.Fatal(err)
		}
		edit := get(t, gc, b.PortalURL+"/transfers/"+itoa(back.ID)+"/edit")
		if !strings.Contains(edit.Raw, `<option value="payee" selected>`) {
			t.Errorf("the correction form of a 先方負担 transfer does not keep 先方負担:\n%s", edit.Raw)
		}

		tooSmall := entry("330", "payee")
		wantText(t, tooSmall, msg(t, "ja", "error.amount_not_above_fee"))
		if strings.Contains(tooSmall.Raw, `id="transfer-submit"`) {
			t.Errorf("先方負担 of the fee itself reached the confirmation page")
		}
	})
}
