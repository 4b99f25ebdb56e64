package banking_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestInternalTransferBookedOnBothSides(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b := f.newOrg("労組 A"), f.newOrg("労組 B")
		from, to := f.newAccount(a, 100_000), f.newAccount(b, 5_000)
		req, appr := f.newUser(a, all), f.newUser(a, all)

		tr := f.request(req, from.ID, payeeOf(to), 30_000)
		if tr.Status != banking.StatusAwaitingApproval || tr.Interbank || tr.ToAccountID != to.ID || tr.ExecutionDate != day0 {
			t.Fatalf("requested %+v, want awaiting approval, internal to %d, dated %s", tr, to.ID, day0)
		}
		if got := f.balance(from.ID); got != 100_000 {
			t.Fatalf("balance after the request %d, want 100000 (nothing moves before approval)", got)
		}
		tr = f.approve(appr, tr.ID)
		if tr.Status != banking.StatusExecuted || tr.ApprovedBy != appr.ID || tr.ExecutedAt.IsZero() {
			t.Fatalf("approved %+v, want executed by approval of %d", tr, appr.ID)
		}
		if got, want := f.balance(from.ID), int64(70_000); got != want {
			t.Errorf("payer balance %d, want %d", got, want)
		}
		if got, want := f.balance(to.ID), int64(35_000); got != want {
			t.Errorf("payee balance %d, want %d", got, want)
		}
		if n := f.count(`SELECT COUNT(*) FROM postings WHERE transfer_id = $1`, tr.ID); n != 2 {
			t.Errorf("postings of the transfer %d, want 2 (debit and credit)", n)
		}
		page, err := f.svc.Transactions(f.ctx, a.master.User, from.ID, day0, day0, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Postings) != 2 || page.Postings[1].Amount != -30_000 || page.Postings[1].BalanceAfter != 70_000 ||
			page.Postings[1].Description != "振込 ｳｹﾄﾘ" || page.Postings[1].TransferID != tr.ID {
			t.Errorf("payer's statement %+v, want the deposit, then -30000 leaving 70000", page.Postings)
		}
		hist, err := f.svc.TransferHistory(f.ctx, req.User, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, h := range hist {
			actions = append(actions, h.Action)
		}
		if got := strings.Join(actions, ","); got != "requested,approved,executed" {
			t.Errorf("history %s, want requested,approved,executed", got)
		}
		evs, err := db.ListAudit(f.ctx, store.AuditFilter{OrganizationID: a.ID})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			if strings.HasPrefix(string(e.Type), "transfer.") {
				types = append(types, fmt.Sprintf("%s %s (transfer_id %d batch_id %d)", e.Type, e.Detail, e.TransferID, e.BatchID))
			}
		}
		ids := fmt.Sprintf(" (transfer_id %d batch_id 0)", tr.ID)
		want := []string{
			string(audit.TransferRequested) + " transfer " + itoa(tr.ID) + " amount 30000" + ids,
			string(audit.TransferApproved) + " transfer " + itoa(tr.ID) + " amount 30000" + ids,
			string(audit.TransferExecuted) + " transfer " + itoa(tr.ID) + " amount 30000" + ids,
		}
		if strings.Join(types, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events\n%s\nwant\n%s", strings.Join(types, "\n"), strings.Join(want, "\n"))
		}
		f.verify()
	})
}

func TestInterbankTransferDebitedAndPendingForTheFile(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a := f.newOrg("労組 A")
		from := f.newAccount(a, 50_000)
		req, appr := f.newUser(a, all), f.newUser(a, all)

		tr := f.request(req, from.ID, elsewhere, 20_000)
		if !tr.Interbank || tr.ToAccountID != 0 {
			t.Fatalf("transfer to bank %s: %+v, want interbank", otherBank, tr)
		}
		f.approve(appr, tr.ID)
		if got := f.balance(from.ID); got != 30_000 {
			t.Errorf("balance %d, want 30000", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM postings WHERE transfer_id = $1`, tr.ID); n != 1 {
			t.Errorf("postings %d, want 1 debit", n)
		}
		pending, err := f.svc.InterbankPending(f.ctx, day0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 || pending[0].ID != tr.ID || pending[0].Payee != elsewhere {
			t.Fatalf("pending %+v, want transfer %d to %+v", pending, tr.ID, elsewhere)
		}
		if err := f.svc.MarkInterbankSent(f.ctx, []int64{tr.ID}, "ZENGIN-20260401.txt", "batchjob"); err != nil {
			t.Fatalf("mark sent: %v", err)
		}
		if pending, _ := f.svc.InterbankPending(f.ctx, day0); len(pending) != 0 {
			t.Errorf("pending after marking %+v, want none", pending)
		}
		got := f.transfer(tr.ID)
		if got.InterbankFile != "ZENGIN-20260401.txt" || got.InterbankSentAt.IsZero() {
			t.Errorf("transfer %+v, want the file recorded", got)
		}
		err = f.svc.MarkInterbankSent(f.ctx, []int64{tr.ID}, "again.txt", "batchjob")
		wantErr(t, "mark twice", err, banking.ErrInterbankAlreadyWritten)
		f.verify()
	})
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestTwoApprovalsRacingExecuteOnce: 20 approvals of one transfer at once:
// exactly one succeeds, the transfer executes once, its postings are
// written once.
func TestTwoApprovalsRacingExecuteOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(o, 0)
		req := f.newUser(o, all)
		approvers := []user{o.master, f.newUser(o, all), f.newUser(o, all), f.newUser(o, all)}
		for round, payee := range []banking.PayeeAccount{payeeOf(dest), elsewhere} {
			tr := f.request(req, acct.ID, payee, 10_000)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var ok int
			others := map[string]int{}
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a := approvers[i%len(approvers)]
					_, err := f.svc.Approve(f.ctx, a.User, tr.ID, tr.Version, a.creds.Confirmation)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						ok++
					} else {
						others[err.Error()]++
					}
				}()
			}
			wg.Wait()
			if ok != 1 {
				t.Fatalf("round %d: %d approvals succeeded, want 1; errors %v", round, ok, others)
			}
			for msg := range others {
				if msg != banking.ErrInvalidState.Error() {
					t.Errorf("round %d: losing approval got %q, want %v", round, msg, banking.ErrInvalidState)
				}
			}
			if n := f.count(`SELECT COUNT(*) FROM postings WHERE transfer_id = $1 AND kind = 'debit'`, tr.ID); n != 1 {
				t.Errorf("round %d: debits %d, want 1", round, n)
			}
			if n := f.count(`SELECT COUNT(*) FROM transfer_events WHERE transfer_id = $1 AND action = 'executed'`, tr.ID); n != 1 {
				t.Errorf("round %d: executions in the history %d, want 1", round, n)
			}
		}
		if got := f.balance(acct.ID); got != 80_000 {
			t.Errorf("balance %d, want 80000", got)
		}
		if got := f.balance(dest.ID); got != 10_000 {
			t.Errorf("payee balance %d, want 10000", got)
		}
		f.verify()
	})
}

func TestLimits(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		if err := f.svc.SetOrganizationDailyLimit(f.ctx, o.Code, 100_000, "test", "REQ-LIMIT"); err != nil {
			t.Fatal(err)
		}
		acct := f.newAccount(o, 10_000_000)
		appr := f.newUser(o, all)
		limited := func() user {
			return f.newUser(o, banking.Privileges{TransferRequest: true, TransactionLimit: 30_000, DailyLimit: 50_000})
		}
		limitKind := func(t *testing.T, err error, kind banking.LimitKind) {
			t.Helper()
			var le *banking.LimitError
			if !errors.As(err, &le) || le.Kind != kind || !errors.Is(err, banking.ErrLimitExceeded) {
				t.Fatalf("error %v, want a %s limit error", err, kind)
			}
		}
		t.Run("transaction limit", func(t *testing.T) {
			u := limited()
			f.request(u, acct.ID, elsewhere, 30_000) // exactly the limit
			_, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 30_001})
			limitKind(t, err, banking.LimitTransaction)
		})
		t.Run("user daily limit counts requests that are not rejected", func(t *testing.T) {
			u := limited()
			a := f.request(u, acct.ID, elsewhere, 30_000)
			f.request(u, acct.ID, elsewhere, 20_000) // 50000: exactly the limit
			_, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1})
			limitKind(t, err, banking.LimitUserDaily)
			// Another date has its own limit.
			tomorrow := day0.AddDays(1)
			if _, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 30_000, ExecutionDate: tomorrow}); err != nil {
				t.Fatalf("request for tomorrow: %v", err)
			}
			// A rejected request no longer counts.
			if _, err := f.svc.Reject(f.ctx, appr.User, a.ID, a.Version, "不要"); err != nil {
				t.Fatal(err)
			}
			f.request(u, acct.ID, elsewhere, 30_000)
		})
		t.Run("zero limits allow nothing", func(t *testing.T) {
			u := f.newUser(o, banking.Privileges{TransferRequest: true})
			_, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1})
			limitKind(t, err, banking.LimitTransaction)
		})
		t.Run("master's limits are the organization's", func(t *testing.T) {
			p, err := f.svc.Privileges(f.ctx, o.master.User, o.master.LoginID)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Inquiry || !p.TransferRequest || !p.Approval || p.TransactionLimit != 100_000 || p.DailyLimit != 100_000 {
				t.Fatalf("master's privileges %+v, want all with limits 100000", p)
			}
			_, err = f.svc.RequestTransfer(f.ctx, o.master.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 100_001})
			limitKind(t, err, banking.LimitTransaction)
		})
		t.Run("organization daily limit at approval", func(t *testing.T) {
			p := banking.Privileges{TransferRequest: true, TransactionLimit: 1_000_000, DailyLimit: 1_000_000}
			day := day0.AddDays(7)
			req1, req2 := f.newUser(o, p), f.newUser(o, p)
			a, err := f.svc.RequestTransfer(f.ctx, req1.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 60_000, ExecutionDate: day})
			if err != nil {
				t.Fatal(err)
			}
			b, err := f.svc.RequestTransfer(f.ctx, req2.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 40_001, ExecutionDate: day})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.approve(appr, a.ID); got.Status != banking.StatusScheduled {
				t.Fatalf("status %s, want scheduled", got.Status)
			}
			_, err = f.svc.Approve(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation)
			limitKind(t, err, banking.LimitOrganizationDaily)
			if got := f.transfer(b.ID); got.Status != banking.StatusAwaitingApproval {
				t.Fatalf("status %s after the refusal, want awaiting approval", got.Status)
			}
			// The bank raises the limit: now it fits.
			if err := f.svc.SetOrganizationDailyLimit(f.ctx, o.Code, 100_001, "test", "REQ-LIMIT-2"); err != nil {
				t.Fatal(err)
			}
			f.approve(appr, b.ID)
		})
		t.Run("operator needs a request reference", func(t *testing.T) {
			err := f.svc.SetOrganizationDailyLimit(f.ctx, o.Code, 1, "test", "")
			wantErr(t, "without reference", err, banking.ErrRequestRefRequired)
		})
		f.verify()
	})
}

func TestInsufficientFundsLeavesTheTransferAwaitingApproval(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 10_000), f.newAccount(o, 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, acct.ID, payeeOf(dest), 10_001)
		_, err := f.svc.Approve(f.ctx, appr.User, tr.ID, tr.Version, appr.creds.Confirmation)
		wantErr(t, "approve without the money", err, banking.ErrInsufficientFunds)
		if got := f.transfer(tr.ID); got.Status != banking.StatusAwaitingApproval || got.ApprovedBy != 0 {
			t.Fatalf("transfer %+v, want still awaiting approval with no approver", got)
		}
		if got := f.balance(acct.ID); got != 10_000 {
			t.Fatalf("balance %d, want 10000", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM transfer_events WHERE transfer_id = $1`, tr.ID); n != 1 {
			t.Errorf("history rows %d, want only the request", n)
		}
		f.deposit(acct.ID, 1)
		f.approve(appr, tr.ID)
		if got := f.balance(acct.ID); got != 0 {
			t.Errorf("balance %d, want 0", got)
		}
		// A balance never goes below zero, even by hand.
		_, err = db.SQL().Exec(`UPDATE accounts SET balance = -1 WHERE id = $1`, acct.ID)
		if err == nil {
			t.Fatal("the database took a negative balance")
		}
		f.verify()
	})
}

func TestIdempotency(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct := f.newAccount(o, 100_000)
		u, other := f.newUser(o, all), f.newUser(o, all)
		r := banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1_000, Memo: "会費", IdempotencyKey: "key-1"}
		first, err := f.svc.RequestTransfer(f.ctx, u.User, r)
		if err != nil {
			t.Fatal(err)
		}
		t.Run("a repeat returns the first transfer", func(t *testing.T) {
			again, err := f.svc.RequestTransfer(f.ctx, u.User, r)
			if err != nil || again.ID != first.ID {
				t.Fatalf("repeat: %+v, %v; want transfer %d", again, err, first.ID)
			}
		})
		t.Run("repeats racing record one transfer", func(t *testing.T) {
			r := r
			r.IdempotencyKey = "key-race"
			var wg sync.WaitGroup
			ids := make([]int64, 10)
			errs := make([]error, 10)
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tr, err := f.svc.RequestTransfer(f.ctx, u.User, r)
					ids[i], errs[i] = tr.ID, err
				}()
			}
			wg.Wait()
			for i := range ids {
				if errs[i] != nil || ids[i] != ids[0] {
					t.Fatalf("racing repeats: ids %v, errors %v; want one transfer", ids, errs)
				}
			}
		})
		t.Run("the same key with another request is a conflict", func(t *testing.T) {
			changed := r
			changed.Amount = 2_000
			_, err := f.svc.RequestTransfer(f.ctx, u.User, changed)
			wantErr(t, "changed request", err, banking.ErrIdempotencyConflict)
			_, err = f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID, IdempotencyKey: r.IdempotencyKey,
				Items: []banking.BatchItem{{Payee: elsewhere, Amount: 1_000}}})
			wantErr(t, "batch with a transfer's key", err, banking.ErrIdempotencyConflict)
		})
		t.Run("keys are per user", func(t *testing.T) {
			theirs, err := f.svc.RequestTransfer(f.ctx, other.User, r)
			if err != nil || theirs.ID == first.ID {
				t.Fatalf("another user's request with the same key: %+v, %v; want a new transfer", theirs, err)
			}
		})
		t.Run("without a key every request is new", func(t *testing.T) {
			a, b := f.request(u, acct.ID, elsewhere, 1), f.request(u, acct.ID, elsewhere, 1)
			if a.ID == b.ID {
				t.Fatal("two requests without a key gave one transfer")
			}
		})
		t.Run("bad key", func(t *testing.T) {
			r := r
			r.IdempotencyKey = "with space"
			_, err := f.svc.RequestTransfer(f.ctx, u.User, r)
			wantErr(t, "key with a space", err, banking.ErrInvalidIdempotencyKey)
		})
		if n := f.count(`SELECT COUNT(*) FROM transfers WHERE memo = '会費'`); n != 3 {
			t.Errorf("transfers with the memo %d, want 3 (the first, one of the race, the other user's)", n)
		}
	})
}

func TestSendBackThenResubmit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(o, 0)
		req, appr, someone := f.newUser(o, all), f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, acct.ID, payeeOf(dest), 5_000)

		_, err := f.svc.SendBack(f.ctx, appr.User, tr.ID, tr.Version, "")
		wantErr(t, "send back without a comment", err, banking.ErrInvalidComment)
		got, err := f.svc.SendBack(f.ctx, appr.User, tr.ID, tr.Version, "金額は 6000 円です")
		if err != nil || got.Status != banking.StatusSentBack {
			t.Fatalf("send back: %+v, %v", got, err)
		}
		_, err = f.svc.Approve(f.ctx, appr.User, tr.ID, tr.Version, appr.creds.Confirmation)
		wantErr(t, "approve a sent-back transfer", err, banking.ErrInvalidState)

		fixed := banking.TransferRequest{FromAccountID: acct.ID, Payee: payeeOf(dest), Amount: 6_000, Memo: "直しました"}
		_, err = f.svc.Resubmit(f.ctx, someone.User, tr.ID, fixed)
		wantErr(t, "resubmit by another user", err, banking.ErrForbidden)
		got, err = f.svc.Resubmit(f.ctx, req.User, tr.ID, fixed)
		if err != nil {
			t.Fatalf("resubmit: %v", err)
		}
		if got.ID != tr.ID || got.Status != banking.StatusAwaitingApproval || got.Amount != 6_000 || got.Memo != "直しました" {
			t.Fatalf("resubmitted %+v, want the same transfer, awaiting approval, 6000", got)
		}
		_, err = f.svc.Resubmit(f.ctx, req.User, tr.ID, fixed)
		wantErr(t, "resubmit twice", err, banking.ErrInvalidState)
		f.approve(appr, tr.ID)
		if b := f.balance(dest.ID); b != 6_000 {
			t.Errorf("payee balance %d, want 6000", b)
		}
		hist, err := f.svc.TransferHistory(f.ctx, req.User, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, h := range hist {
			steps = append(steps, h.Action+"("+h.Comment+")")
		}
		want := "requested(),sent_back(金額は 6000 円です),resubmitted(),approved(),executed()"
		if strings.Join(steps, ",") != want {
			t.Errorf("history %s, want %s", strings.Join(steps, ","), want)
		}

		t.Run("sent back then cancelled", func(t *testing.T) {
			tr := f.request(req, acct.ID, payeeOf(dest), 1_000)
			if _, err := f.svc.SendBack(f.ctx, appr.User, tr.ID, tr.Version, "不要では"); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.Cancel(f.ctx, someone.User, tr.ID, "")
			wantErr(t, "cancel by another user", err, banking.ErrForbidden)
			got, err := f.svc.Cancel(f.ctx, req.User, tr.ID, "取りやめ")
			if err != nil || got.Status != banking.StatusCancelled {
				t.Fatalf("cancel: %+v, %v", got, err)
			}
			_, err = f.svc.Resubmit(f.ctx, req.User, tr.ID, fixed)
			wantErr(t, "resubmit a cancelled transfer", err, banking.ErrInvalidState)
		})
		f.verify()
	})
}

func TestRejectIsFinal(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct := f.newAccount(o, 100_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, acct.ID, elsewhere, 5_000)
		got, err := f.svc.Reject(f.ctx, appr.User, tr.ID, tr.Version, "振込先が違います")
		if err != nil || got.Status != banking.StatusRejected {
			t.Fatalf("reject: %+v, %v", got, err)
		}
		attempts := []struct {
			name string
			do   func() error
		}{
			{"approve", func() error {
				_, err := f.svc.Approve(f.ctx, appr.User, tr.ID, tr.Version, appr.creds.Confirmation)
				return err
			}},
			{"send back", func() error { _, err := f.svc.SendBack(f.ctx, appr.User, tr.ID, tr.Version, "x"); return err }},
			{"reject again", func() error { _, err := f.svc.Reject(f.ctx, appr.User, tr.ID, tr.Version, ""); return err }},
			{"resubmit", func() error {
				_, err := f.svc.Resubmit(f.ctx, req.User, tr.ID, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 5_000})
				return err
			}},
			{"cancel", func() error { _, err := f.svc.Cancel(f.ctx, req.User, tr.ID, ""); return err }},
		}
		for _, a := range attempts {
			t.Run(a.name, func(t *testing.T) {
				wantErr(t, a.name+" a rejected transfer", a.do(), banking.ErrInvalidState)
			})
		}
		if got := f.transfer(tr.ID); got.Status != banking.StatusRejected {
			t.Errorf("status %s, want rejected", got.Status)
		}
		if b := f.balance(acct.ID); b != 100_000 {
			t.Errorf("balance %d, want 100000", b)
		}
		f.verify()
	})
}

func TestScheduledThenExecuteDue(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 50_000), f.newAccount(o, 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tomorrow := day0.AddDays(1)
		ask := func(amount int64, p banking.PayeeAccount) banking.Transfer {
			tr, err := f.svc.RequestTransfer(f.ctx, req.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: p, Amount: amount, ExecutionDate: tomorrow})
			if err != nil {
				t.Fatal(err)
			}
			return f.approve(appr, tr.ID)
		}
		a := ask(30_000, payeeOf(dest))
		b := ask(15_000, elsewhere)
		c := ask(10_000, elsewhere) // 55000 in all: one of them finds too little
		for _, tr := range []banking.Transfer{a, b, c} {
			if tr.Status != banking.StatusScheduled {
				t.Fatalf("transfer %d is %s, want scheduled", tr.ID, tr.Status)
			}
		}
		if bal := f.balance(acct.ID); bal != 50_000 {
			t.Fatalf("balance %d before the date, want 50000", bal)
		}
		// Nothing is due today.
		res, err := f.svc.ExecuteDue(f.ctx, day0)
		if err != nil || len(res.Executed)+len(res.Failed) != 0 {
			t.Fatalf("execute due today: %+v, %v; want nothing", res, err)
		}

		// Tomorrow, two servers run the job at once.
		f.bank.Clock.Set(t0.Add(24 * time.Hour))
		var wg sync.WaitGroup
		results := make([]banking.ExecuteResult, 2)
		errs := make([]error, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = f.svc.ExecuteDue(f.ctx, tomorrow)
			}()
		}
		wg.Wait()
		var executed, failed []banking.Unit
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("execute due: %v", errs[i])
			}
			executed = append(executed, results[i].Executed...)
			failed = append(failed, results[i].Failed...)
		}
		if len(executed) != 2 || len(failed) != 1 || failed[0].TransferID != c.ID {
			t.Fatalf("executed %v, failed %v; want a and b executed once, c (%d) failed", executed, failed, c.ID)
		}
		got := f.transfer(c.ID)
		if got.Status != banking.StatusFailed || !strings.Contains(got.FailureReason, "残高不足") {
			t.Errorf("transfer c %+v, want failed for insufficient funds", got)
		}
		hist, _ := f.svc.TransferHistory(f.ctx, req.User, c.ID)
		if last := hist[len(hist)-1]; last.Action != banking.HistoryFailed || last.Actor != audit.System || !strings.Contains(last.Comment, "残高不足") {
			t.Errorf("last step of c %+v, want failed by the system with the reason", last)
		}
		if bal := f.balance(acct.ID); bal != 5_000 {
			t.Errorf("balance %d, want 5000", bal)
		}
		if bal := f.balance(dest.ID); bal != 30_000 {
			t.Errorf("payee balance %d, want 30000", bal)
		}
		posting, err := f.svc.Transactions(f.ctx, o.master.User, dest.ID, tomorrow, tomorrow, 1, 10)
		if err != nil || len(posting.Postings) != 1 || posting.Postings[0].Date != tomorrow {
			t.Errorf("payee's postings of %s: %+v, %v; want the credit booked on the date", tomorrow, posting.Postings, err)
		}
		// Again: nothing left.
		res, err = f.svc.ExecuteDue(f.ctx, tomorrow)
		if err != nil || len(res.Executed)+len(res.Failed) != 0 {
			t.Errorf("second run: %+v, %v; want nothing", res, err)
		}
		f.verify()
	})
}

func TestApprovalAfterTheExecutionDate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct := f.newAccount(o, 50_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, acct.ID, elsewhere, 1_000)
		f.bank.Clock.Set(t0.Add(24 * time.Hour))
		_, err := f.svc.Approve(f.ctx, appr.User, tr.ID, tr.Version, appr.creds.Confirmation)
		wantErr(t, "approve the day after", err, banking.ErrExecutionDatePassed)
		// Sent back, re-dated and approved.
		if _, err := f.svc.SendBack(f.ctx, appr.User, tr.ID, tr.Version, "日付を直してください"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Resubmit(f.ctx, req.User, tr.ID, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1_000}); err != nil {
			t.Fatal(err)
		}
		if got := f.approve(appr, tr.ID); got.Status != banking.StatusExecuted || got.ExecutionDate != day0.AddDays(1) {
			t.Errorf("approved %+v, want executed on %s", got, day0.AddDays(1))
		}
		_, err = f.svc.RequestTransfer(f.ctx, req.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1, ExecutionDate: day0})
		wantErr(t, "request for yesterday", err, banking.ErrInvalidExecutionDate)
	})
}

func TestTransferListing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, other := f.newOrg("労組"), f.newOrg("他")
		acct := f.newAccount(o, 100_000)
		u1, u2 := f.newUser(o, all), f.newUser(o, all)
		a := f.request(u1, acct.ID, elsewhere, 1)
		b := f.request(u2, acct.ID, elsewhere, 2)
		c, err := f.svc.RequestTransfer(f.ctx, u1.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 3, ExecutionDate: day0.AddDays(2)})
		if err != nil {
			t.Fatal(err)
		}
		f.approve(u2, a.ID)
		batch, err := f.svc.CreateBatch(f.ctx, u1.User, banking.BatchRequest{FromAccountID: acct.ID, Items: []banking.BatchItem{{Payee: elsewhere, Amount: 4}}})
		if err != nil {
			t.Fatal(err)
		}
		f.request(other.master, f.newAccount(other, 10).ID, elsewhere, 5)
		ids := func(p banking.TransferPage) []int64 {
			var out []int64
			for _, t := range p.Transfers {
				out = append(out, t.ID)
			}
			return out
		}
		cases := []struct {
			name  string
			q     banking.TransferQuery
			want  []int64
			total int
		}{
			{"all single transfers, newest first", banking.TransferQuery{}, []int64{c.ID, b.ID, a.ID}, 3},
			{"awaiting approval", banking.TransferQuery{Statuses: []banking.Status{banking.StatusAwaitingApproval}}, []int64{c.ID, b.ID}, 2},
			{"mine", banking.TransferQuery{MineOnly: true}, []int64{c.ID, a.ID}, 2},
			{"dated later", banking.TransferQuery{From: day0.AddDays(1)}, []int64{c.ID}, 1},
			{"with batch items, page 2 of 2", banking.TransferQuery{IncludeBatchItems: true, Page: 2, PerPage: 2}, []int64{b.ID, a.ID}, 4},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p, err := f.svc.Transfers(f.ctx, u1.User, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if got := ids(p); !slices.Equal(got, tc.want) || p.Total != tc.total {
					t.Errorf("transfers %v of %d, want %v of %d", got, p.Total, tc.want, tc.total)
				}
			})
		}
		bp, err := f.svc.Batches(f.ctx, u2.User, 1, 10)
		if err != nil || bp.Total != 1 || len(bp.Batches) != 1 || bp.Batches[0].ID != batch.ID {
			t.Errorf("batches %+v, %v; want the one batch", bp, err)
		}
		if bp, _ := f.svc.Batches(f.ctx, other.master.User, 1, 10); bp.Total != 0 {
			t.Errorf("another organization sees %d batches", bp.Total)
		}
	})
}
