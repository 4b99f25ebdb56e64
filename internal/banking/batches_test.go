package banking_test

import (
	"errors"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestBatchGoesThroughApprovalAsOne(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o, payees := f.newOrg("労組"), f.newOrg("取引先")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(payees, 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		items := []banking.BatchItem{
			{Payee: payeeOf(dest), Amount: 10_000, CustomerCode1: "0000000001"},
			{Payee: elsewhere, Amount: 20_000, CustomerCode2: "42"},
			{Payee: payeeOf(dest), Amount: 5_000},
		}
		b, err := f.svc.CreateBatch(f.ctx, req.User, banking.BatchRequest{FromAccountID: acct.ID, Items: items, SourceFile: "sogo.txt"})
		if err != nil {
			t.Fatalf("create batch: %v", err)
		}
		if b.Status != banking.StatusAwaitingApproval || b.Count != 3 || b.Total != 35_000 || !b.Interbank || b.ExecutionDate != day0 {
			t.Fatalf("batch %+v, want 3 items, 35000, awaiting approval, with an interbank item, today", b)
		}
		_, ts, err := f.svc.Batch(f.ctx, req.User, b.ID)
		if err != nil || len(ts) != 3 {
			t.Fatalf("batch transfers: %v, %v", ts, err)
		}
		if ts[0].CustomerCode1 != "0000000001" || ts[1].CustomerCode2 != "42" || ts[1].ToAccountID != 0 || ts[0].ToAccountID != dest.ID {
			t.Errorf("items %+v, want customer codes and destinations kept", ts)
		}
		// An item is decided with its batch only.
		_, err = f.svc.Approve(f.ctx, appr.User, ts[0].ID, ts[0].Version, appr.creds.Confirmation)
		wantErr(t, "approve an item", err, banking.ErrBatchItem)
		_, err = f.svc.Cancel(f.ctx, req.User, ts[0].ID, "")
		wantErr(t, "cancel an item", err, banking.ErrBatchItem)

		got, err := f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation)
		if err != nil || got.Status != banking.StatusExecuted || got.ApprovedBy != appr.ID {
			t.Fatalf("approve batch: %+v, %v", got, err)
		}
		_, ts, _ = f.svc.Batch(f.ctx, req.User, b.ID)
		for _, tr := range ts {
			if tr.Status != banking.StatusExecuted || tr.ApprovedBy != appr.ID {
				t.Errorf("item %+v, want executed with the batch", tr)
			}
		}
		if bal := f.balance(acct.ID); bal != 65_000 {
			t.Errorf("balance %d, want 65000", bal)
		}
		if bal := f.balance(dest.ID); bal != 15_000 {
			t.Errorf("payee balance %d, want 15000", bal)
		}
		hist, err := f.svc.BatchHistory(f.ctx, req.User, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, h := range hist {
			steps = append(steps, h.Action)
		}
		if got := strings.Join(steps, ","); got != "requested,approved,executed,executed,executed" {
			t.Errorf("batch history %s", got)
		}
		itemHist, _ := f.svc.TransferHistory(f.ctx, req.User, ts[1].ID)
		steps = nil
		for _, h := range itemHist {
			steps = append(steps, h.Action)
		}
		if got := strings.Join(steps, ","); got != "requested,approved,executed" {
			t.Errorf("item history %s, want the batch's steps with its own", got)
		}
		evs, err := db.ListAudit(f.ctx, store.AuditFilter{OrganizationID: o.ID})
		if err != nil {
			t.Fatal(err)
		}
		var named []string
		for _, e := range evs {
			if strings.HasPrefix(string(e.Type), "transfer.") && (e.BatchID != b.ID || e.TransferID != 0) {
				named = append(named, string(e.Type))
			}
		}
		if len(named) != 0 {
			t.Errorf("batch events %v do not name the batch %d (and no transfer) as typed fields", named, b.ID)
		}
		f.verify()
	})
}

func TestBatchChecksEveryItemAndItsLimits(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct := f.newAccount(o, 100_000)
		u := f.newUser(o, banking.Privileges{TransferRequest: true, Approval: true, TransactionLimit: 10_000, DailyLimit: 25_000})
		appr := f.newUser(o, all)
		t.Run("every bad item is reported", func(t *testing.T) {
			bad := elsewhere
			bad.Name = "山田"
			noAcct := banking.PayeeAccount{BankCode: thisBank, BranchCode: "999", AccountType: banking.Ordinary, AccountNumber: "0000001", Name: "ﾔﾏﾀﾞ"}
			_, err := f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID, Items: []banking.BatchItem{
				{Payee: elsewhere, Amount: 1_000},
				{Payee: bad, Amount: 1_000},
				{Payee: elsewhere, Amount: 10_001},
				{Payee: noAcct, Amount: 1_000},
				{Payee: elsewhere, Amount: 0},
				{Payee: elsewhere, Amount: 1, CustomerCode1: "12345678901"},
			}})
			var be *banking.BatchError
			if !errors.As(err, &be) || !errors.Is(err, banking.ErrInvalidBatch) {
				t.Fatalf("error %v, want a batch error", err)
			}
			want := []struct {
				item int
				err  error
			}{{2, banking.ErrInvalidPayeeName}, {3, banking.ErrLimitExceeded}, {4, banking.ErrInvalidPayee}, {5, banking.ErrInvalidAmount},
				{6, banking.ErrInvalidCustomerCode}}
			if len(be.Problems) != len(want) {
				t.Fatalf("problems %v, want %d", be.Problems, len(want))
			}
			for i, w := range want {
				if be.Problems[i].Item != w.item || !errors.Is(be.Problems[i].Err, w.err) {
					t.Errorf("problem %d: item %d %v, want item %d %v", i, be.Problems[i].Item, be.Problems[i].Err, w.item, w.err)
				}
			}
			if n := f.count(`SELECT COUNT(*) FROM transfer_batches`); n != 0 {
				t.Errorf("batches recorded %d, want 0", n)
			}
		})
		t.Run("the daily limit applies to the total", func(t *testing.T) {
			_, err := f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID, Items: []banking.BatchItem{
				{Payee: elsewhere, Amount: 10_000}, {Payee: elsewhere, Amount: 10_000}, {Payee: elsewhere, Amount: 5_001}}})
			var le *banking.LimitError
			if !errors.As(err, &le) || le.Kind != banking.LimitUserDaily || le.Amount != 25_001 {
				t.Fatalf("error %v, want the user's daily limit exceeded by 25001", err)
			}
			b, err := f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID, Items: []banking.BatchItem{
				{Payee: elsewhere, Amount: 10_000}, {Payee: elsewhere, Amount: 10_000}, {Payee: elsewhere, Amount: 5_000}}})
			if err != nil {
				t.Fatalf("batch of exactly the limit: %v", err)
			}
			_, err = f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1})
			wantErr(t, "a transfer beside the batch", err, banking.ErrLimitExceeded)
			if _, err := f.svc.CancelBatch(f.ctx, u.User, b.ID, ""); err != nil {
				t.Fatal(err)
			}
			f.request(u, acct.ID, elsewhere, 1) // the cancelled batch no longer counts
		})
		t.Run("executing needs the money for all items", func(t *testing.T) {
			poor := f.newAccount(o, 15_000)
			b, err := f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: poor.ID, ExecutionDate: day0.AddDays(3),
				Items: []banking.BatchItem{{Payee: elsewhere, Amount: 10_000}, {Payee: elsewhere, Amount: 6_000}}})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation); err != nil || got.Status != banking.StatusScheduled {
				t.Fatalf("approve: %+v, %v; want scheduled", got, err)
			}
			res, err := f.svc.ExecuteDue(f.ctx, day0.AddDays(3))
			if err != nil || len(res.Failed) != 1 || res.Failed[0].BatchID != b.ID {
				t.Fatalf("execute due: %+v, %v; want the batch failed", res, err)
			}
			got, ts, _ := f.svc.Batch(f.ctx, u.User, b.ID)
			if got.Status != banking.StatusFailed || got.FailureReason == "" {
				t.Errorf("batch %+v, want failed with a reason", got)
			}
			for _, tr := range ts {
				if tr.Status != banking.StatusFailed {
					t.Errorf("item %d is %s, want failed", tr.ID, tr.Status)
				}
			}
			if bal := f.balance(poor.ID); bal != 15_000 {
				t.Errorf("balance %d, want 15000 (none of the items paid)", bal)
			}
		})
		t.Run("send back and reject", func(t *testing.T) {
			mk := func() banking.Batch {
				b, err := f.svc.CreateBatch(f.ctx, appr.User, banking.BatchRequest{FromAccountID: acct.ID,
					Items: []banking.BatchItem{{Payee: elsewhere, Amount: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			b := mk()
			if got, err := f.svc.SendBackBatch(f.ctx, u.User, b.ID, b.Version, "ファイルを直してください"); err != nil || got.Status != banking.StatusSentBack {
				t.Fatalf("send back: %+v, %v", got, err)
			}
			if got, err := f.svc.CancelBatch(f.ctx, appr.User, b.ID, ""); err != nil || got.Status != banking.StatusCancelled {
				t.Fatalf("cancel a sent-back batch: %+v, %v", got, err)
			}
			b = mk()
			if got, err := f.svc.RejectBatch(f.ctx, u.User, b.ID, b.Version, ""); err != nil || got.Status != banking.StatusRejected {
				t.Fatalf("reject: %+v, %v", got, err)
			}
			_, err := f.svc.ApproveBatch(f.ctx, u.User, b.ID, b.Version, u.creds.Confirmation)
			wantErr(t, "approve a rejected batch", err, banking.ErrInvalidState)
		})
		t.Run("empty batch", func(t *testing.T) {
			_, err := f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID})
			wantErr(t, "no items", err, banking.ErrInvalidBatch)
		})
		f.verify()
	})
}
