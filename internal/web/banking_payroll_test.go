package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// payrollFile returns a 給与振込 (種別コード 11) file paid on 4 December
// (bankingDay is Tuesday 1 December 2026, its deadline day): one employee
// at another bank, one here.
func payrollFile(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	f := &zengin.File{Header: zengin.Header{Kind: zengin.KindSalary, RequesterCode: "1234567890", RequesterName: "ﾌﾘｺﾐﾛｳﾄﾞｳｸﾐｱｲ",
		Date: zengin.MonthDay{Month: 12, Day: 4}, BankCode: "2950", BranchCode: "001", AccountType: zengin.AccountOrdinary,
		AccountNumber: "1000001"}, Records: []zengin.Transfer{
		{BankCode: "0005", BranchCode: "123", AccountType: zengin.AccountOrdinary, AccountNumber: "1234567", PayeeName: "ﾔﾏﾀﾞ ﾀﾛｳ", Amount: 251_000},
		{BankCode: "2950", BranchCode: "002", AccountType: zengin.AccountOrdinary, AccountNumber: "2000002", PayeeName: "ｽｽﾞｷ ﾊﾅｺ", Amount: 183_000},
	}}
	if err := zengin.Write(&buf, f, zengin.WriteOptions{CRLF: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPayrollUploadConfirmedOnItsPage: a 給与振込 file uploaded with no
// date on the page shows a confirmation with every item and its bank's and
// branch's names, the count, the total, the file's date and the payroll
// deadline; nothing is requested until 「依頼する」, and 「取り消す」 drops
// it. The payee's names and amounts are shown only with payroll inquiry,
// on the confirmation, the batch's page and the approval page, where an
// approver without it sees the count and total only.
func TestPayrollUploadConfirmedOnItsPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, Approval: true, Inquiry: true,
			TransactionLimit: 1_000_000, DailyLimit: 5_000_000})
		mc := bankingLogin(t, b, s.org.Master, "")
		form := get(t, mc, b.PortalURL+"/transfers/batch")
		fields := map[string]string{"from_account": itoa(s.account.ID), "execution_date": "",
			"idempotency_key": hiddenFields(form).Get("idempotency_key")}
		review := upload(t, b, mc, csrfToken(t, form), fields, "kyuyo.txt", payrollFile(t))
		if review.Status != http.StatusOK || !strings.HasPrefix(review.URL.Path, "/batch-uploads/") {
			t.Fatalf("upload: %d at %s\n%s", review.Status, review.URL, review.Text)
		}
		wantTitle(t, review, "ja", "page.batch_confirm.title")
		wantText(t, review, "給与振込", "三菱ＵＦＪ", "横浜中山", "ﾔﾏﾀﾞ ﾀﾛｳ", "251,000円", "434,000円",
			msg(t, "ja", "page.batch_confirm.date_from_file", "2026年12月4日"), msg(t, "ja", "page.batch_confirm.payroll_deadline"))
		// No fee table in this bank: the fees are shown as none.
		if !strings.Contains(review.Raw, `id="draft-fees">`+msg(t, "ja", "fees.none")+`<`) {
			t.Errorf("the confirmation does not show the fees:\n%s", review.Text)
		}
		if !strings.Contains(review.Raw, `id="draft-count">2<`) {
			t.Errorf("the count is not 2:\n%s", review.Text)
		}
		ctx := context.Background()
		if bp, _ := b.Services.Banking.Batches(ctx, bankingUser(t, b, s.org.Master.LoginID), 1, 10); bp.Total != 0 {
			t.Fatalf("%d batches before 「依頼する」", bp.Total)
		}

		// 取り消す drops the upload.
		gone := post(t, mc, b.PortalURL+review.URL.Path+"/discard", url.Values{"csrf_token": {csrfToken(t, review)}})
		wantText(t, gone, msg(t, "ja", "page.batch_new.discarded"))
		if again := get(t, mc, b.PortalURL+review.URL.Path); again.Status != http.StatusNotFound {
			t.Errorf("the dropped upload: %d, want 404", again.Status)
		}

		// Uploaded again, and requested.
		form = get(t, mc, b.PortalURL+"/transfers/batch")
		fields["idempotency_key"] = hiddenFields(form).Get("idempotency_key")
		review = upload(t, b, mc, csrfToken(t, form), fields, "kyuyo.txt", payrollFile(t))
		done := post(t, mc, b.PortalURL+review.URL.Path+"/confirm", url.Values{"csrf_token": {csrfToken(t, review)}})
		if done.Status != http.StatusOK || !strings.HasPrefix(done.URL.Path, "/batches/") {
			t.Fatalf("confirm: %d at %s\n%s", done.Status, done.URL, done.Text)
		}
		wantText(t, done, msg(t, "ja", "banking.notice.batch_requested"), "給与振込", "ﾔﾏﾀﾞ ﾀﾛｳ")

		// The general user approves without payroll inquiry: count and
		// total, no names, no amounts.
		gc := bankingLogin(t, b, s.general, "")
		ap := get(t, gc, b.PortalURL+"/approvals"+done.URL.Path)
		if ap.Status != http.StatusOK {
			t.Fatalf("approval page: %d\n%s", ap.Status, ap.Text)
		}
		wantText(t, ap, "434,000円", msg(t, "ja", "banking.payroll_hidden"))
		for _, secret := range []string{"ﾔﾏﾀﾞ", "ｽｽﾞｷ", "251,000", "183,000"} {
			if strings.Contains(ap.Raw, secret) {
				t.Errorf("the approval page shows %q to a user without payroll inquiry", secret)
			}
		}
		approved := post(t, gc, b.PortalURL+"/approvals"+done.URL.Path+"/approve", url.Values{"csrf_token": {csrfToken(t, ap)},
			"version": {hiddenFields(ap).Get("version")}, "shown": {hiddenFields(ap).Get("shown")},
			"confirmation_password": {s.general.Confirmation}})
		if approved.Status != http.StatusOK {
			t.Fatalf("approve: %d\n%s", approved.Status, approved.Text)
		}
		if strings.Contains(approved.Raw, "ﾔﾏﾀﾞ") {
			t.Error("the page after the approval shows a payroll name")
		}
		got, _, err := b.Services.Banking.Batch(ctx, bankingUser(t, b, s.org.Master.LoginID), batchIDOf(t, done.URL.Path))
		if err != nil || got.Status != banking.StatusScheduled || got.Kind != banking.BatchSalary {
			t.Errorf("batch after the approval: %+v %v, want a scheduled 給与振込", got, err)
		}

		// The master gives payroll inquiry on the privileges page: the
		// general user then sees the names and amounts.
		path := b.PortalURL + "/users/" + s.general.LoginID + "/privileges"
		pf := get(t, mc, path)
		wantText(t, pf, msg(t, "ja", "page.privileges.payroll_inquiry"))
		saved := post(t, mc, path, url.Values{"csrf_token": {csrfToken(t, pf)}, "inquiry": {"1"}, "transfer_request": {"1"},
			"approval": {"1"}, "payroll_inquiry": {"1"}, "transaction_limit": {"1,000,000"}, "daily_limit": {"5,000,000"},
			"confirmation_password": {s.org.Master.Confirmation}})
		wantText(t, saved, msg(t, "ja", "page.privileges.saved"))
		if !strings.Contains(saved.Raw, `id="payroll_inquiry" name="payroll_inquiry" type="checkbox" value="1" checked`) {
			t.Errorf("payroll inquiry is not shown as given:\n%s", saved.Text)
		}
		shown := get(t, gc, b.PortalURL+done.URL.Path)
		wantText(t, shown, "ﾔﾏﾀﾞ ﾀﾛｳ", "251,000円")
	})
}

// TestPayrollUploadRefusedAfterItsDeadline: on the day after the deadline
// the upload is refused with the last day it could have been requested.
func TestPayrollUploadRefusedAfterItsDeadline(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay.AddDate(0, 0, 1), nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 5_000_000})
		gc := bankingLogin(t, b, s.general, "")
		form := get(t, gc, b.PortalURL+"/transfers/batch")
		fields := map[string]string{"from_account": itoa(s.account.ID), "idempotency_key": hiddenFields(form).Get("idempotency_key")}
		p := upload(t, b, gc, csrfToken(t, form), fields, "kyuyo.txt", payrollFile(t))
		if p.Status != http.StatusConflict {
			t.Fatalf("a payroll file after its deadline: %d\n%s", p.Status, p.Text)
		}
		wantText(t, p, "給与・賞与振込の受付期限を過ぎています", "2026年12月1日(火) 15時")
	})
}

// batchIDOf reads the ID of a batch's path, /batches/{id}.
func batchIDOf(t *testing.T, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/batches/"), 10, 64)
	if err != nil {
		t.Fatalf("batch path %q: %v", path, err)
	}
	return id
}
