package e2e_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestHardening_APIApprovalOfChangedTransfer412 is the case of the
// hardening issue through the JSON API: an approver reads a transfer of
// 1,000 yen (its ETag); another sends it back and the requester changes it
// to 990,000 yen. The approval naming the ETag read is 412
// transfer_changed, and so are send back and rejection; without If-Match
// each is 428 precondition_required; nothing is approved. With the ETag of
// the transfer as it is now, the approval goes through.
func TestHardening_APIApprovalOfChangedTransfer412(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "変更承認労組", true)
		before := balances(t, o.master)
		id := o.requestTransfer(t, o.requester, 1_000)
		path := fmt.Sprintf("/api/v1/transfers/%d", id)
		seen := o.approver.do(http.MethodGet, path, nil)
		expect(t, "GET", seen, http.StatusOK, "")
		etag := seen.Header.Get("ETag")
		if etag == "" || etag[0] != '"' || seen.Body["amount"].(float64) != 1_000 {
			t.Fatalf("GET: ETag %q, body %s; want a strong ETag of 1,000 yen", etag, seen.Raw)
		}
		if again := o.approver.do(http.MethodGet, path, nil); again.Header.Get("ETag") != etag {
			t.Fatalf("ETag %q then %q with no change", etag, again.Header.Get("ETag"))
		}

		expect(t, "send back", o.master.decide(http.MethodPost, path+"/send-back", map[string]string{"comment": "金額を確認してください"}), http.StatusOK, "")
		changed := o.requester.do(http.MethodPut, path, o.transferBody(990_000))
		expect(t, "resubmit", changed, http.StatusOK, "")
		if changed.Header.Get("ETag") == etag || changed.Header.Get("ETag") == "" {
			t.Fatalf("the changed transfer's ETag %q, want another than %q", changed.Header.Get("ETag"), etag)
		}

		confirm := map[string]string{"confirmation_password": o.approver.creds.Confirmation}
		comment := map[string]string{"comment": "x"}
		for _, step := range []struct {
			path string
			body any
		}{{"/approval", confirm}, {"/send-back", comment}, {"/rejection", comment}} {
			expect(t, step.path+" of the ETag read before the change", o.approver.decideSeen(path+step.path, step.body, etag),
				http.StatusPreconditionFailed, "transfer_changed")
			expect(t, step.path+" without If-Match", o.approver.decideSeen(path+step.path, step.body, ""),
				http.StatusPreconditionRequired, "precondition_required")
			expect(t, step.path+" with If-Match *", o.approver.decideSeen(path+step.path, step.body, "*"),
				http.StatusPreconditionRequired, "precondition_required")
			expect(t, step.path+" with a weak ETag", o.approver.decideSeen(path+step.path, step.body, "W/"+changed.Header.Get("ETag")),
				http.StatusPreconditionFailed, "transfer_changed")
		}
		r := o.approver.do(http.MethodGet, path, nil)
		if r.String("status") != "awaiting_approval" || r.String("approved_by") != "" || r.Header.Get("ETag") != changed.Header.Get("ETag") {
			t.Fatalf("after the refused decisions: %s (ETag %q)", r.Raw, r.Header.Get("ETag"))
		}
		if after := balances(t, o.master); after[o.main.ID] != before[o.main.ID] {
			t.Fatalf("refused decisions moved money: %v -> %v", before, after)
		}
		ok := o.approver.decideSeen(path+"/approval", confirm, r.Header.Get("ETag"))
		expect(t, "approval of the ETag now", ok, http.StatusOK, "")
		if ok.String("status") != "executed" || ok.Body["amount"].(float64) != 990_000 {
			t.Fatalf("approval: %s", ok.Raw)
		}
	})
}

// TestHardening_APIBatchETag: a batch's GET gives an ETag, and its
// decisions need it as a transfer's do.
func TestHardening_APIBatchETag(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "総合振込版労組", false)
		r := o.requester.do(http.MethodPost, "/api/v1/transfer-batches", o.batchBody(o.zenginFile(t, 1000, 2000)))
		expect(t, "upload", r, http.StatusCreated, "")
		path := fmt.Sprintf("/api/v1/transfer-batches/%d", idOf(t, r))
		seen := o.approver.do(http.MethodGet, path, nil)
		expect(t, "GET", seen, http.StatusOK, "")
		etag := seen.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET of a batch has no ETag")
		}
		confirm := map[string]string{"confirmation_password": o.approver.creds.Confirmation}
		expect(t, "approval without If-Match", o.approver.decideSeen(path+"/approval", confirm, ""), http.StatusPreconditionRequired, "precondition_required")
		expect(t, "rejection without If-Match", o.approver.decideSeen(path+"/rejection", nil, ""), http.StatusPreconditionRequired, "precondition_required")
		// A transfer's ETag does not name a version of the batch.
		tr := o.approver.do(http.MethodGet, fmt.Sprintf("/api/v1/transfers/%d", o.requestTransfer(t, o.requester, 500)), nil)
		expect(t, "approval with a transfer's ETag", o.approver.decideSeen(path+"/approval", confirm, tr.Header.Get("ETag")),
			http.StatusPreconditionFailed, "transfer_changed")
		ok := o.approver.decideSeen(path+"/approval", confirm, etag)
		expect(t, "approval", ok, http.StatusOK, "")
		if ok.String("status") != "executed" || ok.Header.Get("ETag") == etag {
			t.Fatalf("approval: %s (ETag %q, was %q)", ok.Raw, ok.Header.Get("ETag"), etag)
		}
	})
}

// TestHardening_APIApprovalRacingAChange races, over HTTP, the approval of
// the 1,000 yen an approver read against another approver's send back and
// the requester's change to 99,000 yen, round after round: a transfer is
// executed only at the 1,000 yen its approver read; otherwise the approval
// is refused (412, or 409 when it found it sent back).
func TestHardening_APIApprovalRacingAChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "競合労組", false)
		for round := range 6 {
			id := o.requestTransfer(t, o.requester, 1_000)
			path := fmt.Sprintf("/api/v1/transfers/%d", id)
			seen := o.approver.do(http.MethodGet, path, nil)
			etag := seen.Header.Get("ETag")
			var wg sync.WaitGroup
			var approval, sendBack testutil.Response
			start := make(chan struct{})
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				approval = o.approver.decideSeen(path+"/approval", map[string]string{"confirmation_password": o.approver.creds.Confirmation}, etag)
			}()
			go func() {
				defer wg.Done()
				<-start
				sendBack = o.master.decideSeen(path+"/send-back", map[string]string{"comment": "金額を確認してください"}, etag)
				if sendBack.Status == http.StatusOK {
					// 99,000 yen: rounds of 990,000 would pass the
					// requester's daily limit.
					expect(t, "resubmit", o.requester.do(http.MethodPut, path, o.transferBody(99_000)), http.StatusOK, "")
				}
			}()
			close(start)
			wg.Wait()
			now := o.master.do(http.MethodGet, path, nil)
			switch approval.Status {
			case http.StatusOK:
				if now.String("status") != "executed" || now.Body["amount"].(float64) != 1_000 || sendBack.ErrorCode() != "invalid_state" {
					t.Fatalf("round %d: the approval went through: %s; send back %d %s", round, now.Raw, sendBack.Status, sendBack.Raw)
				}
			case http.StatusPreconditionFailed, http.StatusConflict:
				if now.String("status") == "executed" || now.String("approved_by") != "" || sendBack.Status != http.StatusOK {
					t.Fatalf("round %d: the change went first: %s; send back %d", round, now.Raw, sendBack.Status)
				}
			default:
				t.Fatalf("round %d: approval %d %s", round, approval.Status, approval.Raw)
			}
		}
	})
}

// TestHardening_APIPayeeChecks429: checking accounts at this bank through
// the API is throttled per user: past the limit, a transfer to a payee
// given in full is 429 too_many_lookups with Retry-After, whether the
// account exists or not; another user of the organization is not held up.
func TestHardening_APIPayeeChecks429(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankAt(t, db, bankingNow, func(p *server.Parts) { p.PayeeChecks = 2 })
		o := newBankOrg(t, b, "照会制限労組", false)
		probe := func(a actor, number string) testutil.Response {
			body := o.transferBody(100)
			payee := payeeTo(o.second)
			payee["account_number"] = number
			body["payee"] = payee
			return a.do(http.MethodPost, "/api/v1/transfers", body)
		}
		expect(t, "first check, an account here", probe(o.requester, o.second.Number), http.StatusCreated, "")
		expect(t, "second check, no account", probe(o.requester, "9999999"), http.StatusBadRequest, "invalid_payee")
		for _, number := range []string{o.second.Number, "9999998"} {
			r := probe(o.requester, number)
			expect(t, "check past the limit", r, http.StatusTooManyRequests, "too_many_lookups")
			if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs <= 0 || secs > 3600 {
				t.Fatalf("Retry-After %q, want the seconds until the window ends", r.Header.Get("Retry-After"))
			}
		}
		expect(t, "another user's check", probe(o.request, o.second.Number), http.StatusCreated, "")
	})
}
