package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// TestBankingPagesRefuseWrongRoles: every banking page renders for the
// roles that may use it and refuses the others; an ID of another
// organization is 404, the same as one that does not exist.
func TestBankingPagesRefuseWrongRoles(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		ctx := context.Background()
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransactionLimit: 0, DailyLimit: 0})
		none := b.NewGeneralUser(t, s.org)
		requester := b.NewGeneralUser(t, s.org)
		master := bankingUser(t, b, s.org.Master.LoginID)
		if err := b.Services.Banking.SetPrivileges(ctx, master, requester.LoginID, banking.Privileges{TransferRequest: true,
			TransactionLimit: 100_000, DailyLimit: 100_000}); err != nil {
			t.Fatal(err)
		}
		tr, err := b.Services.Banking.RequestTransfer(ctx, bankingUser(t, b, requester.LoginID), banking.TransferRequest{
			FromAccountID: s.account.ID, Amount: 1000,
			Payee: banking.PayeeAccount{BankCode: "0005", BranchCode: "001", AccountType: banking.Ordinary, AccountNumber: "1111111", Name: "ﾃｽﾄ"}})
		if err != nil {
			t.Fatal(err)
		}
		py, err := b.Services.Banking.RegisterPayee(ctx, master, banking.Payee{PayeeAccount: banking.PayeeAccount{BankCode: "0005",
			BranchCode: "001", AccountType: banking.Ordinary, AccountNumber: "2222222", Name: "ﾃｽﾄ"}})
		if err != nil {
			t.Fatal(err)
		}
		acct, tid := "/accounts/"+itoa(s.account.ID), itoa(tr.ID)
		pages := []string{"/accounts", acct + "/statement", acct + "/statement.csv", "/transfers", "/transfers/new", "/transfers/" + tid,
			"/approvals", "/approvals/" + tid, "/payees", "/transfers/batch", "/users/" + s.general.LoginID + "/privileges"}
		for _, tt := range []struct {
			who  string
			cred testutil.Creds
			want []int // per page
		}{
			{"master", s.org.Master, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}},
			{"inquiry only", s.general, []int{200, 200, 200, 200, 403, 200, 403, 403, 403, 403, 403}},
			{"requester", requester, []int{403, 403, 403, 200, 200, 200, 403, 403, 200, 200, 403}},
			{"no privileges", none, []int{403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403}},
			{"other organization's master", s.other.Master, []int{200, 404, 404, 200, 200, 404, 200, 404, 200, 200, 404}},
		} {
			t.Run(tt.who, func(t *testing.T) {
				c := bankingLogin(t, b, tt.cred, "")
				for i, path := range pages {
					p := get(t, c, b.PortalURL+path)
					if p.Status != tt.want[i] {
						t.Errorf("GET %s: %d, want %d\n%.300s", path, p.Status, tt.want[i], p.Text)
					}
				}
				if tt.who == "other organization's master" {
					tok := csrfToken(t, get(t, c, b.PortalURL+"/payees"))
					for _, path := range []string{"/approvals/" + tid + "/approve", "/transfers/" + tid + "/cancel", "/payees/" + itoa(py.ID) + "/delete"} {
						p := post(t, c, b.PortalURL+path, url.Values{"csrf_token": {tok}, "confirmation_password": {s.other.Master.Confirmation}, "comment": {"x"}})
						if p.Status != http.StatusNotFound {
							t.Errorf("POST %s: %d, want 404", path, p.Status)
						}
					}
				}
				if tt.who == "no privileges" {
					p := get(t, c, b.PortalURL+"/accounts")
					wantText(t, p, msg(t, "ja", "page.banking_refused.ask_master"))
				}
			})
		}
		if got, err := b.Services.Banking.Transfer(ctx, master, tr.ID); err != nil || got.Status != banking.StatusAwaitingApproval {
			t.Errorf("after the other organization's tries: %+v, %v", got.Status, err)
		}
		if ps, err := b.Services.Banking.Payees(ctx, master); err != nil || len(ps) != 1 {
			t.Errorf("payees after the other organization's tries: %d, %v", len(ps), err)
		}
	})
}

// TestBankingApprovalDecisions: the master sends a transfer back with a
// comment (required), the requester corrects and resubmits it, the master
// rejects it; every step is in the history with who and the comment.
func TestBankingApprovalDecisions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 100_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		conf := transferEntry(t, s, gc, map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "1234567", "payee_name": "ﾀｺｳ ﾀﾛｳ", "amount": "3000"})
		v := hiddenFields(conf)
		v.Set("step", "submit")
		wantTitle(t, post(t, gc, b.PortalURL+"/transfers/new", v), "ja", "page.transfer_done.title")
		tp, err := b.Services.Banking.Transfers(context.Background(), bankingUser(t, b, s.general.LoginID), banking.TransferQuery{})
		if err != nil || tp.Total != 1 {
			t.Fatal(tp, err)
		}
		id := itoa(tp.Transfers[0].ID)

		mc := bankingLogin(t, b, s.org.Master, "")
		ap := get(t, mc, b.PortalURL+"/approvals/"+id)
		tok := csrfToken(t, ap)
		empty := post(t, mc, b.PortalURL+"/approvals/"+id+"/send-back", decision(t, ap, url.Values{"csrf_token": {tok}, "comment": {" "}}))
		if empty.Status != http.StatusBadRequest || !strings.Contains(empty.Raw, `id="send_back_error"`) {
			t.Errorf("send back without a comment: %d\n%s", empty.Status, empty.Text)
		}
		sb := post(t, mc, b.PortalURL+"/approvals/"+id+"/send-back", decision(t, ap, url.Values{"csrf_token": {tok}, "comment": {"金額を確認してください"}}))
		wantText(t, sb, msg(t, "ja", "banking.notice.sent_back"), msg(t, "ja", "banking.status.sent_back"))

		tpage := get(t, gc, b.PortalURL+"/transfers/"+id)
		wantText(t, tpage, "金額を確認してください", msg(t, "ja", "banking.history.sent_back"))
		edit := get(t, gc, b.PortalURL+"/transfers/"+id+"/edit")
		wantPage(t, edit, http.StatusOK, "/transfers/"+id+"/edit")
		ev := hiddenFields(edit)
		ev.Set("from_account", itoa(s.account.ID))
		for k, x := range map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "1234567", "payee_name": "ﾀｺｳ ﾀﾛｳ", "amount": "3,500", "execution_date": "2026-12-01"} {
			ev.Set(k, x)
		}
		econf := post(t, gc, b.PortalURL+"/transfers/"+id+"/edit", ev)
		wantTitle(t, econf, "ja", "page.transfer_confirm.title")
		ev = hiddenFields(econf)
		ev.Set("step", "submit")
		edone := post(t, gc, b.PortalURL+"/transfers/"+id+"/edit", ev)
		wantText(t, edone, msg(t, "ja", "page.transfer_done.resubmitted", id))

		ap = get(t, mc, b.PortalURL+"/approvals/"+id)
		wantText(t, ap, "3,500円")
		rj := post(t, mc, b.PortalURL+"/approvals/"+id+"/reject", decision(t, ap, url.Values{"csrf_token": {tok}, "comment": {"今月は不要"}}))
		wantText(t, rj, msg(t, "ja", "banking.notice.rejected"), msg(t, "ja", "banking.status.rejected"), "今月は不要",
			msg(t, "ja", "banking.history.resubmitted"))
		if strings.Contains(rj.Raw, `id="approve-form"`) {
			t.Error("a rejected transfer still offers the decisions")
		}
	})
}

// TestBankingPayeesAndPrivileges: a requester registers a payee with a
// full-width name (stored half-width) and deletes it; the master sets a
// user's privileges with the confirmation password, and without it nothing
// changes.
func TestBankingPayeesAndPrivileges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 100_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "en")
		pp := get(t, gc, b.PortalURL+"/payees")
		wantTitle(t, pp, "en", "page.payees.title")
		reg := post(t, gc, b.PortalURL+"/payees", url.Values{"csrf_token": {csrfToken(t, pp)}, "nickname": {"家賃"},
			"bank_code": {"0005"}, "branch_code": {"１２３"}, "account_type": {"ordinary"}, "account_number": {"4567"}, "payee_name": {"やまだ　たろう"}})
		wantPage(t, reg, http.StatusOK, "/payees")
		wantText(t, reg, msg(t, "en", "page.payees.registered"), "ﾔﾏﾀﾞ ﾀﾛｳ", "0004567", "家賃")
		bad := post(t, gc, b.PortalURL+"/payees", url.Values{"csrf_token": {csrfToken(t, pp)}, "bank_code": {"2950"},
			"branch_code": {"999"}, "account_type": {"ordinary"}, "account_number": {"9999999"}, "payee_name": {"ﾅｲ"}})
		if bad.Status != http.StatusBadRequest {
			t.Errorf("a payee at this bank without an account: %d", bad.Status)
		}
		wantText(t, bad, msg(t, "en", "error.invalid_payee"))
		ps, err := b.Services.Banking.Payees(context.Background(), bankingUser(t, b, s.general.LoginID))
		if err != nil || len(ps) != 1 || ps[0].Name != "ﾔﾏﾀﾞ ﾀﾛｳ" {
			t.Fatalf("payees = %+v, %v", ps, err)
		}
		// The registered payee is offered by the transfer form.
		form := get(t, gc, b.PortalURL+"/transfers/new?payee="+itoa(ps[0].ID))
		if !strings.Contains(form.Raw, `<option value="`+itoa(ps[0].ID)+`" selected>`) {
			t.Errorf("the transfer form does not offer the registered payee")
		}
		del := post(t, gc, b.PortalURL+"/payees/"+itoa(ps[0].ID)+"/delete", url.Values{"csrf_token": {csrfToken(t, pp)}})
		wantText(t, del, msg(t, "en", "page.payees.deleted"))

		mc := bankingLogin(t, b, s.org.Master, "")
		users := get(t, mc, b.PortalURL+"/users")
		if !strings.Contains(users.Raw, `href="/users/`+s.general.LoginID+`/privileges"`) {
			t.Error("the users page has no link to the privileges")
		}
		path := b.PortalURL + "/users/" + s.general.LoginID + "/privileges"
		form = get(t, mc, path)
		wantTitle(t, form, "ja", "page.privileges.title")
		set := url.Values{"csrf_token": {csrfToken(t, form)}, "inquiry": {"1"}, "approval": {"1"},
			"transaction_limit": {"２０，０００"}, "daily_limit": {"50,000"}}
		set.Set("confirmation_password", "wrong")
		if p := post(t, mc, path, set); p.Status != http.StatusForbidden {
			t.Errorf("wrong confirmation password: %d", p.Status)
		}
		general := bankingUser(t, b, s.general.LoginID)
		if pr, _ := b.Services.Banking.Privileges(context.Background(), general, general.LoginID); pr.Inquiry || !pr.TransferRequest {
			t.Errorf("a wrong password changed the privileges: %+v", pr)
		}
		set.Set("confirmation_password", s.org.Master.Confirmation)
		saved := post(t, mc, path, set)
		wantText(t, saved, msg(t, "ja", "page.privileges.saved"))
		pr, err := b.Services.Banking.Privileges(context.Background(), general, general.LoginID)
		if err != nil || pr != (banking.Privileges{Inquiry: true, Approval: true, TransactionLimit: 20_000, DailyLimit: 50_000}) {
			t.Errorf("privileges = %+v, %v", pr, err)
		}
	})
}

// zenginFile returns a 総合振込 file with the given transfers.
func zenginFile(t *testing.T, recs []zengin.Transfer) []byte {
	t.Helper()
	var buf bytes.Buffer
	f := &zengin.File{Header: zengin.Header{RequesterCode: "1234567890", RequesterName: "ﾌﾘｺﾐﾛｳﾄﾞｳｸﾐｱｲ",
		Date: zengin.MonthDay{Month: 12, Day: 1}, BankCode: "2950", BranchCode: "001", AccountType: zengin.AccountOrdinary,
		AccountNumber: "1000001"}, Records: recs}
	if err := zengin.Write(&buf, f, zengin.WriteOptions{CRLF: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts the batch form with a file.
func upload(t *testing.T, b *testutil.Bank, c *testutil.Client, token string, fields map[string]string, name string, file []byte) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	_ = mw.WriteField("csrf_token", token)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, b.PortalURL+"/transfers/batch", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return do(t, c, req)
}

// TestBankingBatchUpload: a file with errors lists each with its record
// number and field; a good file becomes a batch awaiting approval, shown
// on its page and among the master's approvals.
func TestBankingBatchUpload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{TransferRequest: true, TransactionLimit: 100_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		form := get(t, gc, b.PortalURL+"/transfers/batch")
		wantTitle(t, form, "ja", "page.batch_new.title")
		tok := csrfToken(t, form)
		fields := map[string]string{"from_account": itoa(s.account.ID), "execution_date": "2026-12-01",
			"idempotency_key": hiddenFields(form).Get("idempotency_key")}
		good := zenginFile(t, []zengin.Transfer{
			{BankCode: "0005", BranchCode: "123", AccountType: zengin.AccountOrdinary, AccountNumber: "1234567", PayeeName: "ﾀｺｳ ﾀﾛｳ", Amount: 1000},
			{BankCode: "2950", BranchCode: "002", AccountType: zengin.AccountOrdinary, AccountNumber: "2000002", PayeeName: "ｳｹﾄﾘ", Amount: 2000},
		})
		// Record 3 (the second transfer): letters in the amount.
		bad := bytes.Clone(good)
		rec3 := 2 * 122
		amountAt := rec3 + 1 + 4 + 15 + 3 + 15 + 4 + 1 + 7 + 30
		copy(bad[amountAt:], "00000ABC00")
		p := upload(t, b, gc, tok, fields, "bad.txt", bad)
		if p.Status != http.StatusBadRequest {
			t.Fatalf("a bad file: %d\n%s", p.Status, p.Text)
		}
		wantText(t, p, msg(t, "ja", "banking.error.zengin_file"), "振込金額")
		if !strings.Contains(p.Raw, `<tr class="file-error" data-line="3">`) {
			t.Errorf("the error of record 3 is not listed with its line:\n%s", p.Text)
		}
		// A payee at this bank without an account is an item's error.
		noAcct := zenginFile(t, []zengin.Transfer{
			{BankCode: "2950", BranchCode: "009", AccountType: zengin.AccountOrdinary, AccountNumber: "9999999", PayeeName: "ﾅｲ", Amount: 10},
		})
		p = upload(t, b, gc, tok, fields, "noacct.txt", noAcct)
		if !strings.Contains(p.Raw, `data-line="2"`) {
			t.Errorf("the item's error is not listed with its line:\n%s", p.Text)
		}
		review := upload(t, b, gc, tok, fields, "good.txt", good)
		if review.Status != http.StatusOK || !strings.HasPrefix(review.URL.Path, "/batch-uploads/") {
			t.Fatalf("a good file: %d at %s\n%s", review.Status, review.URL, review.Text)
		}
		ok := post(t, gc, b.PortalURL+review.URL.Path+"/confirm", url.Values{"csrf_token": {csrfToken(t, review)}})
		if ok.Status != http.StatusOK || !strings.HasPrefix(ok.URL.Path, "/batches/") {
			t.Fatalf("the confirmation: %d at %s\n%s", ok.Status, ok.URL, ok.Text)
		}
		wantText(t, ok, msg(t, "ja", "banking.notice.batch_requested"), "3,000円", "good.txt", msg(t, "ja", "banking.status.awaiting_approval"))
		mc := bankingLogin(t, b, s.org.Master, "")
		ap := get(t, mc, b.PortalURL+"/approvals")
		if !strings.Contains(ap.Raw, `href="/approvals`+ok.URL.Path+`"`) {
			t.Errorf("the master's approvals do not list the batch:\n%s", ap.Text)
		}
	})
}
