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
	"kinko/internal/testutil"
)

// FuzzPageForms posts arbitrary form bodies, with a valid form token, to
// every form of the pages through the real portal, as a logged-in master
// user (the login form as a visitor), and an arbitrary file to the 総合振込
// upload. Whatever the body, the answer is a page and never a server error,
// and no page shows a message missing from the catalogue (do checks that).
func FuzzPageForms(f *testing.F) {
	b := testutil.NewBank(f, testutil.OpenSQLite(f))
	ctx := context.Background()
	org := b.NewOrg(f, "フォーム労働組合", false)
	general := b.NewGeneralUser(f, org)
	acct, err := b.Services.Banking.OpenAccount(ctx, org.Code, banking.Ordinary, "001", "7000001", "ﾌｵｰﾑﾛｳｿ", "test", "REQ-1")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := b.Services.Banking.Deposit(ctx, acct.ID, 1_000_000, "ｸﾐｱｲﾋ", "test", "REQ-2"); err != nil {
		f.Fatal(err)
	}
	visitor := b.Client(nil)
	visitorToken := csrfToken(f, get(f, visitor, b.PortalURL+"/login"))
	login := func(t testing.TB) (*testutil.Client, string) {
		cl := bankingLogin(t, b, org.Master, "")
		return cl, csrfToken(t, get(t, cl, b.PortalURL+"/home"))
	}
	master, token := login(f)

	g := general.LoginID
	routes := []struct {
		path  string
		seeds []url.Values
	}{
		{"/login", []url.Values{{"login_id": {"nobody01"}, "password": {"wrong-password"}}}},
		{"/password", []url.Values{{"kind": {"login"}, "login_current": {"x"}, "login_new": {"Another-Pass-93"}, "login_repeat": {"Another-Pass-93"}}}},
		{"/users/new", []url.Values{{"login_id": {"fz0000001"}, "name": {"一般\u202eユーザ"}, "email": {"fz@example.org"}, "confirmation_password": {"x"}}}},
		{"/users/" + g + "/unlock", []url.Values{{"confirmation_password": {"x"}}}},
		{"/users/" + g + "/revoke", []url.Values{{"reason": {"keyCompromise"}, "confirmation_password": {"x"}}}},
		{"/users/" + g + "/privileges", []url.Values{{"inquiry": {"on"}, "transaction_limit": {"１０，０００"}, "daily_limit": {"-1"}, "confirmation_password": {"x"}}}},
		{"/transfers/new", []url.Values{
			{"step": {"confirm"}, "from_account": {"1"}, "bank_code": {"2950"}, "branch_code": {"001"}, "account_type": {"ordinary"},
				"account_number": {"7000001"}, "payee_name": {"ﾌｵｰﾑﾛｳｿ"}, "amount": {"1,000"}, "execution_date": {"2026/12/09"}, "memo": {"備品"}},
			{"step": {"record"}, "amount": {"1.5"}, "execution_date": {"２０２６-１３-０１"}, "idempotency_key": {"x"}}}},
		{"/transfers/1/edit", []url.Values{{"amount": {"99999999999999999999"}}}},
		{"/transfers/1/cancel", []url.Values{{"comment": {"取消"}}}},
		{"/approvals/1/approve", []url.Values{{"confirmation_password": {"x"}, "comment": {""}}}},
		{"/approvals/batches/1/reject", []url.Values{{"comment": {"差戻し"}}}},
		{"/payees", []url.Values{{"bank_code": {"0001"}, "branch_code": {"001"}, "account_type": {"savings"}, "account_number": {"1"}, "payee_name": {"ｱ"}, "nickname": {"x"}}}},
		{"/payees/1/delete", []url.Values{{}}},
		{"/transfers/batch", nil}, // the upload: the fuzzed bytes are the file
	}
	for i, rt := range routes {
		for _, v := range rt.seeds {
			f.Add(uint8(i), []byte(v.Encode()))
		}
		f.Add(uint8(i), []byte("%zz&&=&a=%00"))
	}
	f.Add(uint8(len(routes)-1), []byte("1210000000000000000000000000\r\n"))

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		cl, tok := master, token
		if rt.path == "/login" {
			cl, tok = visitor, visitorToken
		}
		var req *http.Request
		var err error
		if rt.path == "/transfers/batch" {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("csrf_token", tok)
			_ = mw.WriteField("from_account", "1")
			_ = mw.WriteField("execution_date", "2026-12-09")
			fw, _ := mw.CreateFormFile("file", "sogo.txt")
			_, _ = fw.Write(body)
			_ = mw.Close()
			req, err = http.NewRequest(http.MethodPost, b.PortalURL+rt.path, &buf)
			if err == nil {
				req.Header.Set("Content-Type", mw.FormDataContentType())
			}
		} else {
			form := string(body) + "&csrf_token=" + tok
			req, err = http.NewRequest(http.MethodPost, b.PortalURL+rt.path, strings.NewReader(form))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		p := do(t, cl, req)
		if p.Status >= 500 {
			t.Fatalf("POST %s with %q: %d\n%s", rt.path, body, p.Status, p.Text)
		}
		// Wrong confirmation passwords lock the master, and a lock ends
		// the session: the bank unlocks and the master logs in again, so
		// that the next inputs reach the forms behind the login.
		if u := bankingUser(t, b, org.Master.LoginID); u.Locked() || p.URL.Path == "/login" && rt.path != "/login" {
			_ = b.Services.Identity.UnlockByBank(ctx, org.Master.LoginID, "test", "REQ-FUZZ")
			master, token = login(t)
		}
	})
}
