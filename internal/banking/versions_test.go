package banking_test

import (
	"errors"
	"sync"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestHardening_ApprovalApprovesTheVersionSeen is the case of the hardening
// issue: a transfer of 1,000 yen, shown to an approver, sent back by
// another and changed to 990,000 yen, is not approved by the approval made
// on the page that showed 1,000; nor sent back or rejected. The approval
// of the version now shown goes through.
func TestHardening_ApprovalApprovesTheVersionSeen(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 2_000_000), f.newAccount(o, 0)
		req, appr, other := f.newUser(o, all), f.newUser(o, all), f.newUser(o, all)
		shown := f.request(req, acct.ID, payeeOf(dest), 1_000)
		if shown.Version <= 0 {
			t.Fatalf("a new transfer's version %d, want > 0", shown.Version)
		}

		sent, err := f.svc.SendBack(f.ctx, other.User, shown.ID, shown.Version, "金額を確認してください")
		if err != nil {
			t.Fatalf("send back: %v", err)
		}
		changed, err := f.svc.Resubmit(f.ctx, req.User, shown.ID,
			banking.TransferRequest{FromAccountID: acct.ID, Payee: payeeOf(dest), Amount: 990_000})
		if err != nil {
			t.Fatalf("resubmit: %v", err)
		}
		if !(shown.Version < sent.Version && sent.Version < changed.Version) {
			t.Fatalf("versions %d, %d, %d: want each change to make it higher", shown.Version, sent.Version, changed.Version)
		}

		_, err = f.svc.Approve(f.ctx, appr.User, shown.ID, shown.Version, appr.creds.Confirmation)
		wantErr(t, "approval of the version shown before the change", err, banking.ErrTransferChanged)
		_, err = f.svc.SendBack(f.ctx, appr.User, shown.ID, shown.Version, "x")
		wantErr(t, "send back of the version shown before the change", err, banking.ErrTransferChanged)
		_, err = f.svc.Reject(f.ctx, appr.User, shown.ID, shown.Version, "x")
		wantErr(t, "rejection of the version shown before the change", err, banking.ErrTransferChanged)
		_, err = f.svc.Approve(f.ctx, appr.User, shown.ID, 0, appr.creds.Confirmation)
		wantErr(t, "approval naming no version", err, banking.ErrVersionRequired)

		now := f.transfer(shown.ID)
		if now.Status != banking.StatusAwaitingApproval || now.Version != changed.Version || now.ApprovedBy != 0 {
			t.Fatalf("after the refused decisions: %+v, want it untouched, awaiting approval", now)
		}
		if got := f.balance(dest.ID); got != 0 {
			t.Fatalf("payee balance %d after the refused approval, want 0", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM transfer_events WHERE transfer_id = $1 AND action = 'approved'`, shown.ID); n != 0 {
			t.Fatalf("approvals in the history %d, want 0", n)
		}
		// A refused approval does not count as a wrong confirmation
		// password: the approver's next approval goes through.
		got, err := f.svc.Approve(f.ctx, appr.User, shown.ID, now.Version, appr.creds.Confirmation)
		if err != nil || got.Status != banking.StatusExecuted || got.Amount != 990_000 {
			t.Fatalf("approval of the version now shown: %+v, %v", got, err)
		}
		f.verify()
	})
}

// TestHardening_BatchDecisionsNameTheVersionSeen: a batch's approval, send
// back and rejection name its version as a transfer's do.
func TestHardening_BatchDecisionsNameTheVersionSeen(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(o, 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		b, err := f.svc.CreateBatch(f.ctx, req.User, banking.BatchRequest{FromAccountID: acct.ID, SourceFile: "sogo.txt",
			Items: []banking.BatchItem{{Payee: payeeOf(dest), Amount: 1_000}, {Payee: payeeOf(dest), Amount: 2_000}}})
		if err != nil {
			t.Fatalf("create batch: %v", err)
		}
		if b.Version <= 0 {
			t.Fatalf("a new batch's version %d, want > 0", b.Version)
		}
		_, err = f.svc.ApproveBatch(f.ctx, appr.User, b.ID, 0, appr.creds.Confirmation)
		wantErr(t, "approval naming no version", err, banking.ErrVersionRequired)
		_, err = f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version+1, appr.creds.Confirmation)
		wantErr(t, "approval of another version", err, banking.ErrTransferChanged)
		_, err = f.svc.RejectBatch(f.ctx, appr.User, b.ID, b.Version+1, "x")
		wantErr(t, "rejection of another version", err, banking.ErrTransferChanged)
		_, err = f.svc.SendBackBatch(f.ctx, appr.User, b.ID, 0, "x")
		wantErr(t, "send back naming no version", err, banking.ErrVersionRequired)
		got, err := f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation)
		if err != nil || got.Status != banking.StatusExecuted || got.Version <= b.Version {
			t.Fatalf("approval of the version shown: %+v, %v", got, err)
		}
		if got := f.balance(dest.ID); got != 3_000 {
			t.Errorf("payee balance %d, want 3000", got)
		}
	})
}

// TestHardening_ApprovalRacingAChangeApprovesOnlyWhatWasSeen races an
// approval of the 1,000 yen an approver was shown against another
// approver's send back and the requester's change to 990,000 yen. Whoever
// wins, no transfer is ever executed at an amount its approver was not
// shown: either the approval comes first and 1,000 yen moves (the send back
// finds it executed), or the change comes first and the approval is refused.
func TestHardening_ApprovalRacingAChangeApprovesOnlyWhatWasSeen(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 50_000_000), f.newAccount(o, 0)
		big := banking.Privileges{Inquiry: true, TransferRequest: true, Approval: true, TransactionLimit: 100_000_000, DailyLimit: 100_000_000}
		req, appr, other := f.newUser(o, big), f.newUser(o, big), f.newUser(o, big)
		outcomes := map[string]int{}
		for range 10 {
			shown := f.request(req, acct.ID, payeeOf(dest), 1_000)
			var wg sync.WaitGroup
			var approveErr, sendBackErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, approveErr = f.svc.Approve(f.ctx, appr.User, shown.ID, shown.Version, appr.creds.Confirmation)
			}()
			go func() {
				defer wg.Done()
				if _, sendBackErr = f.svc.SendBack(f.ctx, other.User, shown.ID, shown.Version, "金額を確認してください"); sendBackErr != nil {
					return
				}
				if _, err := f.svc.Resubmit(f.ctx, req.User, shown.ID,
					banking.TransferRequest{FromAccountID: acct.ID, Payee: payeeOf(dest), Amount: 990_000}); err != nil {
					t.Errorf("resubmit: %v", err)
				}
			}()
			wg.Wait()
			now := f.transfer(shown.ID)
			switch {
			case approveErr == nil:
				outcomes["approval first"]++
				if now.Status != banking.StatusExecuted || now.Amount != 1_000 || !errors.Is(sendBackErr, banking.ErrInvalidState) {
					t.Fatalf("approval won: %+v, send back %v; want executed at 1000, send back refused", now, sendBackErr)
				}
			case errors.Is(approveErr, banking.ErrTransferChanged) || errors.Is(approveErr, banking.ErrInvalidState):
				outcomes["change first"]++
				if sendBackErr != nil || now.Status == banking.StatusExecuted || now.ApprovedBy != 0 {
					t.Fatalf("change won: %+v, send back %v; want it not executed", now, sendBackErr)
				}
			default:
				t.Fatalf("approval: %v", approveErr)
			}
			if n := f.count(`SELECT COUNT(*) FROM postings WHERE transfer_id = $1 AND kind = 'debit' AND amount <> -1000`, shown.ID); n != 0 {
				t.Fatalf("a debit of another amount than the 1000 shown")
			}
		}
		t.Logf("outcomes: %v", outcomes)
		f.verify()
	})
}
