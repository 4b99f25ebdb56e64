package e2e_test

// The names of banks and branches through the API, on both engines: the
// search by name, kana and code, the names beside the codes in transfers,
// and a payee that is not registered marked new for the approver.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kinko/internal/store"
	"kinko/internal/testutil"
)

// codes returns the "code" of each element of an answer's list.
func codes(r testutil.Response, list string) []string {
	var out []string
	items, _ := r.Body[list].([]any)
	for _, x := range items {
		m, _ := x.(map[string]any)
		c, _ := m["code"].(string)
		out = append(out, c)
	}
	return out
}

func TestBanksAPI_SearchByNameKanaAndCode(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "検索労組", false)
		for _, c := range []struct{ name, q, first string }{
			{"name in kanji", "三菱ＵＦＪ", "0005"},
			{"name partly", "ＵＦＪ", "0005"},
			{"name in hiragana", "みずほ", "0001"},
			{"hiragana finds katakana", "みつびしゆ", "0005"},
			{"full-width katakana", "ミツイスミトモ", "0009"},
			{"half-width katakana", "ﾐｽﾞﾎ", "0001"},
			{"code", "0005", "0005"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := o.none.do(http.MethodGet, "/api/v1/banks?q="+urlQuery(c.q), nil)
				expect(t, "GET /api/v1/banks?q="+c.q, r, http.StatusOK, "")
				if got := codes(r, "banks"); len(got) == 0 || got[0] != c.first {
					t.Fatalf("q=%s found %v, want %s first; %s", c.q, got, c.first, r.Raw)
				}
			})
		}
		r := o.none.do(http.MethodGet, "/api/v1/banks?q=0", nil)
		expect(t, "GET /api/v1/banks?q=0", r, http.StatusOK, "")
		if got := codes(r, "banks"); len(got) != 20 {
			t.Errorf("q=0 answered %d banks, want the bound of 20", len(got))
		}
		first, _ := r.Body["banks"].([]any)
		if m, _ := first[0].(map[string]any); m["name"] == "" || m["kana"] == "" {
			t.Errorf("a bank without name or kana: %v", first[0])
		}

		r = o.none.do(http.MethodGet, "/api/v1/banks/0005/branches?q="+urlQuery("よこはまなかやま"), nil)
		expect(t, "branches of 0005", r, http.StatusOK, "")
		if got := codes(r, "branches"); len(got) == 0 || got[0] != "123" {
			t.Errorf("branches of 0005 for よこはまなかやま: %v; %s", got, r.Raw)
		}
		if !strings.Contains(string(r.Raw), `"name":"三菱ＵＦＪ"`) {
			t.Errorf("the answer does not name the bank: %s", r.Raw)
		}
		r = o.none.do(http.MethodGet, "/api/v1/banks/0001/branches?q=001", nil)
		if got := codes(r, "branches"); len(got) == 0 || got[0] != "001" {
			t.Errorf("branch 001 of 0001 by code: %v", got)
		}

		r = o.none.do(http.MethodGet, "/api/v1/banks/9998/branches?q=", nil)
		expect(t, "branches of an unknown bank", r, http.StatusNotFound, "unknown_bank")
		if msg := r.String("message"); !strings.Contains(msg, "金融機関コード") || !strings.Contains(msg, "bank code") {
			t.Errorf("the unknown bank's message %q does not say what is wrong in both languages", msg)
		}

		anon := b.Client(nil).Portal(http.MethodGet, "/api/v1/banks?q=みずほ", nil)
		expect(t, "a search without a session", anon, http.StatusUnauthorized, "unauthenticated")
	})
}

// urlQuery escapes a query value.
func urlQuery(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestBanksAPI_TransfersNameBankBranchAndNewPayee(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "名称労組", true)
		payee := map[string]any{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": nextAccountNumber(), "name": "ﾄﾘﾋｷｻｷ"}
		body := map[string]any{"from_account_id": o.main.ID, "payee": payee, "amount": 5_000, "execution_date": bankingToday}
		r := o.requester.do(http.MethodPost, "/api/v1/transfers", body)
		expect(t, "request to a new payee", r, http.StatusCreated, "")
		id := idOf(t, r)
		p, _ := r.Body["payee"].(map[string]any)
		if p["bank_name"] != "三菱ＵＦＪ" || p["branch_name"] != "横浜中山" || p["bank_code"] != "0005" {
			t.Fatalf("the transfer's payee %v, want 三菱ＵＦＪ 横浜中山 beside the codes", p)
		}
		if r.Body["new_payee"] != true {
			t.Errorf("new_payee of a transfer to an account not registered: %v", r.Body["new_payee"])
		}
		path := fmt.Sprintf("/api/v1/transfers/%d", id)
		r = o.approver.do(http.MethodGet, path, nil)
		expect(t, "the approver reads it", r, http.StatusOK, "")
		if r.Body["new_payee"] != true {
			t.Errorf("the approver is not told the payee is new: %s", r.Raw)
		}
		r = o.approver.do(http.MethodGet, "/api/v1/transfers?status=awaiting_approval", nil)
		if !strings.Contains(string(r.Raw), fmt.Sprintf(`"id":%d,`, id)) || !strings.Contains(string(r.Raw), `"new_payee":true`) ||
			!strings.Contains(string(r.Raw), `"bank_name":"三菱ＵＦＪ"`) {
			t.Errorf("the list does not show the names and the new payee: %s", r.Raw)
		}

		// Registered, the same account is no longer new.
		expect(t, "register the payee", o.requester.do(http.MethodPost, "/api/v1/payees", payee), http.StatusCreated, "")
		r = o.requester.do(http.MethodPost, "/api/v1/transfers", body)
		expect(t, "request to the registered payee", r, http.StatusCreated, "")
		if r.Body["new_payee"] != false {
			t.Errorf("new_payee of a transfer to a registered payee: %v", r.Body["new_payee"])
		}
		r = o.requester.do(http.MethodGet, "/api/v1/payees", nil)
		if !strings.Contains(string(r.Raw), `"branch_name":"横浜中山"`) {
			t.Errorf("the payees do not name the branch: %s", r.Raw)
		}
		// A code the names do not know is shown as a code alone.
		unknown := map[string]any{"bank_code": "0005", "branch_code": "999", "account_type": "ordinary",
			"account_number": nextAccountNumber(), "name": "ﾄﾘﾋｷｻｷ"}
		r = o.requester.do(http.MethodPost, "/api/v1/transfers", map[string]any{"from_account_id": o.main.ID, "payee": unknown,
			"amount": 1_000, "execution_date": bankingToday})
		expect(t, "request to an unknown branch", r, http.StatusCreated, "")
		if p, _ := r.Body["payee"].(map[string]any); p["bank_name"] != "三菱ＵＦＪ" || p["branch_name"] != "" {
			t.Errorf("unknown branch named %v", p)
		}
	})
}
