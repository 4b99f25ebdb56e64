package e2e_test

import (
	"fmt"
	"net/http"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// elsewhereBody is a request of amount from the main account to an account
// at another bank, today.
func (o *bankOrg) elsewhereBody(amount int64, feePayer string) map[string]any {
	body := map[string]any{"from_account_id": o.main.ID, "amount": amount, "execution_date": bankingToday, "memo": "講師謝礼",
		"payee": map[string]any{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
			"account_number": "7654321", "name": "ﾀﾅｶ ﾊﾅｺ"}}
	if feePayer != "" {
		body["fee_payer"] = feePayer
	}
	return body
}

// number returns a top-level number of an answer.
func number(r testutil.Response, key string) int64 {
	n, _ := r.Body[key].(float64)
	return int64(n)
}

// TestBankingAPI_Fees: a transfer's fee, who bears it and the amount the
// payee receives are in the API's transfers, by the bank's table (29,999
// and 30,000 yen to another bank, a batch item of the same branch); the
// request takes fee_payer; 先方負担 of no more than the fee and an unknown
// fee payer are refused; the fee is booked as its own row of the
// statement, and a batch shows its total fees.
func TestBankingAPI_Fees(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingNow, testutil.WithFees)
		o := newBankOrg(t, b, "手数料労組", false)
		before := balances(t, o.approver)

		for _, c := range []struct {
			name             string
			amount           int64
			feePayer         string
			fee, received    int64
			wantFeePayerJSON string
		}{
			{"below 30000, payer by default", 29_999, "", 330, 29_999, "payer"},
			{"from 30000, payer", 30_000, "payer", 440, 30_000, "payer"},
			{"from 30000, payee", 30_000, "payee", 440, 29_560, "payee"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := o.requester.do(http.MethodPost, "/api/v1/transfers", o.elsewhereBody(c.amount, c.feePayer))
				expect(t, "request", r, http.StatusCreated, "")
				if number(r, "fee") != c.fee || r.String("fee_payer") != c.wantFeePayerJSON || number(r, "amount_received") != c.received ||
					number(r, "amount") != c.amount {
					t.Fatalf("answer %s, want fee %d, fee_payer %s, amount_received %d", r.Raw, c.fee, c.wantFeePayerJSON, c.received)
				}
				got := o.requester.do(http.MethodGet, fmt.Sprintf("/api/v1/transfers/%d", idOf(t, r)), nil)
				if number(got, "fee") != c.fee || number(got, "amount_received") != c.received {
					t.Fatalf("GET %s, want fee %d and amount_received %d", got.Raw, c.fee, c.received)
				}
			})
		}
		expect(t, "先方負担 of the fee itself", o.requester.do(http.MethodPost, "/api/v1/transfers", o.elsewhereBody(330, "payee")),
			http.StatusBadRequest, "amount_not_above_fee")
		expect(t, "fee payer bank", o.requester.do(http.MethodPost, "/api/v1/transfers", o.elsewhereBody(10_000, "bank")),
			http.StatusBadRequest, "invalid_fee_payer")

		// 先方負担 executed: the account gives 50,000, of which 440 is the fee.
		r := o.requester.do(http.MethodPost, "/api/v1/transfers", o.elsewhereBody(50_000, "payee"))
		expect(t, "request 先方負担", r, http.StatusCreated, "")
		id := idOf(t, r)
		r = o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", id), map[string]string{"confirmation_password": o.approver.creds.Confirmation})
		expect(t, "approval", r, http.StatusOK, "")
		if got := balances(t, o.approver)[o.main.ID]; got != before[o.main.ID]-50_000 {
			t.Fatalf("balance %d, want %d", got, before[o.main.ID]-50_000)
		}
		r = o.inquiry.do(http.MethodGet, fmt.Sprintf("/api/v1/accounts/%d/transactions?from=%s&to=%s", o.main.ID, bankingToday, bankingToday), nil)
		expect(t, "transactions", r, http.StatusOK, "")
		rows := map[string]int64{}
		for _, x := range r.Body["transactions"].([]any) {
			m := x.(map[string]any)
			if tid, _ := m["transfer_id"].(float64); int64(tid) == id {
				rows[m["kind"].(string)+" "+m["description"].(string)] = int64(m["amount"].(float64))
			}
		}
		if len(rows) != 2 || rows["debit 振込 ﾀﾅｶ ﾊﾅｺ"] != -49_560 || rows["fee "+banking.FeeDescription] != -440 {
			t.Fatalf("statement rows of transfer %d: %v, want a debit of 49560 and a fee of 440", id, rows)
		}

		// A batch of items to the same branch: 11 and 22 yen.
		r = o.requester.do(http.MethodPost, "/api/v1/transfer-batches", o.batchBody(o.zenginFile(t, 29_999, 30_000)))
		expect(t, "upload", r, http.StatusCreated, "")
		if number(r, "fees") != 33 {
			t.Fatalf("batch fees in %s, want 33", r.Raw)
		}
		got := o.requester.do(http.MethodGet, fmt.Sprintf("/api/v1/transfer-batches/%d", idOf(t, r)), nil)
		items, _ := got.Body["transfers"].([]any)
		if number(got, "fees") != 33 || len(items) != 2 || items[0].(map[string]any)["fee"].(float64) != 11 || items[1].(map[string]any)["fee"].(float64) != 22 {
			t.Fatalf("GET batch %s, want fees 33 of items 11 and 22", got.Raw)
		}
	})
}
