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

// TestBankSearchWithoutScriptKeepsTheForm: on the transfer form without
// JavaScript, a bank and a branch are found by name and kana and picked;
// what was typed elsewhere stays; the confirmation and the approval pages
// show the names; the approver sees 新規振込先 and the requester is offered
// to register the payee, with the payee form filled in.
func TestBankSearchWithoutScriptKeepsTheForm(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingDay, nil)
		s := newBankingSetup(t, b, banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: 500_000, DailyLimit: 1_000_000})
		gc := bankingLogin(t, b, s.general, "")
		form := get(t, gc, b.PortalURL+"/transfers/new")
		v := hiddenFields(form)
		v.Set("from_account", itoa(s.account.ID))
		v.Set("execution_date", "")
		v.Set("account_type", "ordinary")
		v.Set("account_number", "7777777")
		v.Set("payee_name", "ﾄﾘﾋｷｻｷ")
		v.Set("amount", "5000")
		v.Set("bank_code", "")
		step := func(extra url.Values) page {
			t.Helper()
			w := url.Values{}
			for k, x := range v {
				w[k] = x
			}
			for k, x := range extra {
				w[k] = x
			}
			p := post(t, gc, b.PortalURL+"/transfers/new", w)
			return p
		}

		found := step(url.Values{"bank_q": {"みつびしゆ"}, "bank_search": {"1"}})
		wantPage(t, found, http.StatusOK, "/transfers/new")
		wantText(t, found, "0005 三菱ＵＦＪ")
		if !strings.Contains(found.Raw, `name="pick_bank" value="0005"`) || !strings.Contains(found.Raw, `value="5000"`) {
			t.Fatalf("the search does not offer 0005 or lost the amount:\n%s", found.Text)
		}
		picked := step(url.Values{"pick_bank": {"0005"}})
		if !strings.Contains(picked.Raw, `id="bank_code" name="bank_code" type="text" inputmode="numeric" maxlength="4" autocomplete="off" value="0005"`) {
			t.Fatalf("the picked bank is not in the form:\n%s", picked.Text)
		}
		wantText(t, picked, "三菱ＵＦＪ")
		v.Set("bank_code", "0005")
		branches := step(url.Values{"branch_q": {"よこはまなかやま"}, "branch_search": {"1"}})
		wantText(t, branches, "123 横浜中山")
		v.Set("branch_code", "123")

		unknown := step(url.Values{"bank_code": {"9998"}, "branch_q": {"本店"}, "branch_search": {"1"}})
		if unknown.Status != http.StatusBadRequest {
			t.Errorf("a branch search of an unknown bank: %d", unknown.Status)
		}
		wantText(t, unknown, msg(t, "ja", "error.unknown_bank"))

		conf := step(nil)
		wantTitle(t, conf, "ja", "page.transfer_confirm.title")
		wantText(t, conf, "三菱ＵＦＪ 横浜中山")
		w := hiddenFields(conf)
		w.Set("step", "submit")
		done := post(t, gc, b.PortalURL+"/transfers/new", w)
		wantTitle(t, done, "ja", "page.transfer_done.title")
		wantText(t, done, "この振込先を登録する")
		general := bankingUser(t, b, s.general.LoginID)
		tp, err := b.Services.Banking.Transfers(context.Background(), general, banking.TransferQuery{})
		if err != nil || tp.Total != 1 {
			t.Fatalf("transfers: %v %v", tp.Total, err)
		}
		id := itoa(tp.Transfers[0].ID)

		mc := bankingLogin(t, b, s.org.Master, "")
		ap := get(t, mc, b.PortalURL+"/approvals/"+id)
		wantText(t, ap, "新規振込先", "三菱ＵＦＪ 横浜中山")
		list := get(t, mc, b.PortalURL+"/approvals")
		wantText(t, list, "新規振込先")

		// Registered from the offer, the payee is no longer new.
		offer := get(t, gc, b.PortalURL+"/payees?bank_code=0005&branch_code=123&account_type=ordinary&account_number=7777777&payee_name="+url.QueryEscape("ﾄﾘﾋｷｻｷ"))
		if !strings.Contains(offer.Raw, `value="7777777"`) {
			t.Fatalf("the payee form is not filled in:\n%s", offer.Text)
		}
		reg := hiddenFields(offer)
		for k, x := range map[string]string{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "7777777", "payee_name": "ﾄﾘﾋｷｻｷ"} {
			reg.Set(k, x)
		}
		registered := post(t, gc, b.PortalURL+"/payees", reg)
		wantText(t, registered, "三菱ＵＦＪ 横浜中山")
		ap = get(t, mc, b.PortalURL+"/approvals/"+id)
		if strings.Contains(ap.Text, "新規振込先") {
			t.Errorf("a registered payee is still shown new")
		}
	})
}
