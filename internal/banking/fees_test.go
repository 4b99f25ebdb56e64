package banking_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// testFees has a distinct fee for every kind of payee and band, so that a
// fee taken from the wrong cell shows.
var testFees = testutil.Fees

// newFeeFixture is newFixture with the bank charging testFees.
func newFeeFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	b := testutil.NewBankAt(t, db, t0, nil)
	fees := testFees
	svc, err := banking.New(banking.Config{Store: db, Identity: b.Services.Identity, Now: b.Clock.Now, BankCode: thisBank, Fees: &fees})
	if err != nil {
		t.Fatalf("banking.New: %v", err)
	}
	return &fixture{t: t, ctx: context.Background(), bank: b, db: db, svc: svc, ident: b.Services.Identity}
}

// accountAt opens an account of o at a branch, with balance yen in it.
func (f *fixture) accountAt(o org, branch string, balance int64) banking.Account {
	f.t.Helper()
	a, err := f.svc.OpenAccount(f.ctx, o.Code, banking.Ordinary, branch, "8"+itoa(1000000 + accountSeq.Add(1))[1:], "ﾛｳｸﾐ ﾃｽﾄ", "test", "REQ-OPEN")
	if err != nil {
		f.t.Fatalf("open account: %v", err)
	}
	if balance > 0 {
		f.deposit(a.ID, balance)
	}
	a.Balance = balance
	return a
}

// postings returns the postings of a transfer by kind.
func (f *fixture) postings(transferID int64) map[banking.PostingKind]banking.Posting {
	f.t.Helper()
	rows, err := f.db.SQL().Query(`SELECT kind, account_id, amount, description FROM postings WHERE transfer_id = $1`, transferID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[banking.PostingKind]banking.Posting{}
	for rows.Next() {
		var p banking.Posting
		var kind string
		if err := rows.Scan(&kind, &p.AccountID, &p.Amount, &p.Description); err != nil {
			f.t.Fatal(err)
		}
		p.Kind = banking.PostingKind(kind)
		out[p.Kind] = p
	}
	return out
}

// TestFee_EachKindOfPayeeAndBand: the fee of a transfer is the table's for
// its kind of payee (same branch, other branch of this bank, other bank)
// and band (29,999 yen is below 30,000, 30,000 is from it), and is stored on
// the transfer when it is requested.
func TestFee_EachKindOfPayeeAndBand(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o, payees := f.newOrg("労組"), f.newOrg("取引先")
		from := f.accountAt(o, "101", 1_000_000)
		same, other := f.accountAt(payees, "101", 0), f.accountAt(payees, "202", 0)
		req := f.newUser(o, all)
		for _, c := range []struct {
			name   string
			payee  banking.PayeeAccount
			amount int64
			want   int64
		}{
			{"same branch below 30000", payeeOf(same), 29_999, 11},
			{"same branch from 30000", payeeOf(same), 30_000, 22},
			{"other branch below 30000", payeeOf(other), 29_999, 110},
			{"other branch from 30000", payeeOf(other), 30_000, 220},
			{"other bank below 30000", elsewhere, 29_999, 330},
			{"other bank from 30000", elsewhere, 30_000, 440},
			{"other bank 1 yen", elsewhere, 1, 330},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got := f.svc.Fee(from, c.payee, c.amount); got != c.want {
					t.Errorf("Fee %d, want %d", got, c.want)
				}
				tr := f.request(req, from.ID, c.payee, c.amount)
				got := f.transfer(tr.ID)
				if tr.Fee != c.want || got.Fee != c.want || got.FeePayer != banking.FeePayerPayer {
					t.Errorf("requested fee %d, stored fee %d (%s), want %d borne by the payer", tr.Fee, got.Fee, got.FeePayer, c.want)
				}
				if got.Sent() != c.amount || got.Debited() != c.amount+c.want {
					t.Errorf("sent %d, debited %d; want %d and %d", got.Sent(), got.Debited(), c.amount, c.amount+c.want)
				}
			})
		}
	})
}

// TestFee_PostingAndBalanceAfterExecution: at execution the fee is its own
// posting (振込手数料) after the transfer's debit, in the same transaction;
// the balance falls by the amount and the fee, and the payee at this bank
// receives the amount.
func TestFee_PostingAndBalanceAfterExecution(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o, payees := f.newOrg("労組"), f.newOrg("取引先")
		from, dest := f.accountAt(o, "101", 100_000), f.accountAt(payees, "202", 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)

		out := f.approve(appr, f.request(req, from.ID, elsewhere, 30_000).ID)
		if got := f.balance(from.ID); got != 100_000-30_000-440 {
			t.Errorf("balance after a transfer to another bank %d, want %d", got, 100_000-30_000-440)
		}
		ps := f.postings(out.ID)
		if d, fee := ps[banking.PostingDebit], ps[banking.PostingFee]; d.Amount != -30_000 || fee.Amount != -440 ||
			fee.Description != "振込手数料" || fee.AccountID != from.ID || len(ps) != 2 {
			t.Errorf("postings %+v, want a debit of 30000 and a fee posting 振込手数料 of 440", ps)
		}

		in := f.approve(appr, f.request(req, from.ID, payeeOf(dest), 10_000).ID)
		if got := f.balance(from.ID); got != 100_000-30_440-10_110 {
			t.Errorf("balance after a transfer to another branch %d, want %d", got, 100_000-30_440-10_110)
		}
		if got := f.balance(dest.ID); got != 10_000 {
			t.Errorf("payee's balance %d, want 10000", got)
		}
		if ps := f.postings(in.ID); len(ps) != 3 || ps[banking.PostingFee].Amount != -110 || ps[banking.PostingCredit].Amount != 10_000 {
			t.Errorf("postings %+v, want debit, fee of 110, credit of 10000", ps)
		}
		page, err := f.svc.Transactions(f.ctx, req.User, from.ID, day0, day0, 1, 50)
		if err != nil {
			t.Fatal(err)
		}
		var fees int
		for _, p := range page.Postings {
			if p.Kind == banking.PostingFee && p.Description == banking.FeeDescription {
				fees++
			}
		}
		if fees != 2 {
			t.Errorf("statement %+v: %d fee postings, want 2", page.Postings, fees)
		}
		f.verify()
	})
}

// TestFee_PayeeBearsItDeducted: 先方負担 takes the fee from the amount sent:
// the account gives the amount, the payee receives the amount less the fee,
// and the interbank Zengin file carries the amount sent. An amount not above
// the fee is refused, and so is a fee payer other than payer and payee.
func TestFee_PayeeBearsItDeducted(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o, payees := f.newOrg("労組"), f.newOrg("取引先")
		from, dest := f.accountAt(o, "101", 200_000), f.accountAt(payees, "101", 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		ask := func(p banking.PayeeAccount, amount int64, payer banking.FeePayer) (banking.Transfer, error) {
			return f.svc.RequestTransfer(f.ctx, req.User, banking.TransferRequest{FromAccountID: from.ID, Payee: p, Amount: amount, FeePayer: payer})
		}

		tr, err := ask(elsewhere, 50_000, banking.FeePayerPayee)
		if err != nil {
			t.Fatalf("request 先方負担: %v", err)
		}
		if got := f.transfer(tr.ID); got.Fee != 440 || got.FeePayer != banking.FeePayerPayee || got.Sent() != 49_560 || got.Debited() != 50_000 {
			t.Fatalf("transfer fee %d payer %s sent %d debited %d, want 440 payee 49560 50000", got.Fee, got.FeePayer, got.Sent(), got.Debited())
		}
		f.approve(appr, tr.ID)
		if got := f.balance(from.ID); got != 150_000 {
			t.Errorf("balance %d, want 150000: the fee comes out of the amount", got)
		}
		if ps := f.postings(tr.ID); ps[banking.PostingDebit].Amount != -49_560 || ps[banking.PostingFee].Amount != -440 {
			t.Errorf("postings %+v, want a debit of 49560 and a fee of 440", ps)
		}
		m := &memoryFiles{}
		files, err := f.svc.ExportInterbank(f.ctx, banking.InterbankExport{Through: day0, Operator: "test"}, m)
		if err != nil || len(files) != 1 || files[0].Total != 49_560 {
			t.Fatalf("export: %+v, %v; want one file of 49560", files, err)
		}
		zf, err := zengin.Parse(bytes.NewReader(files[0].Data))
		if err != nil {
			t.Fatalf("parse the interbank file: %v", err)
		}
		if len(zf.Records) != 1 || zf.Records[0].Amount != 49_560 {
			t.Errorf("records %+v, want one of 49560, the amount sent", zf.Records)
		}

		here, err := ask(payeeOf(dest), 10_000, banking.FeePayerPayee)
		if err != nil {
			t.Fatalf("request 先方負担 at this bank: %v", err)
		}
		f.approve(appr, here.ID)
		if got := f.balance(dest.ID); got != 10_000-11 {
			t.Errorf("payee's balance %d, want %d", got, 10_000-11)
		}
		if got := f.balance(from.ID); got != 140_000 {
			t.Errorf("balance %d, want 140000", got)
		}

		_, err = ask(elsewhere, 330, banking.FeePayerPayee)
		wantErr(t, "先方負担 of the fee itself", err, banking.ErrAmountNotAboveFee)
		_, err = ask(elsewhere, 100, banking.FeePayerPayee)
		wantErr(t, "先方負担 below the fee", err, banking.ErrAmountNotAboveFee)
		if tr, err := ask(elsewhere, 331, banking.FeePayerPayee); err != nil || tr.Sent() != 1 {
			t.Errorf("先方負担 of 331: %+v, %v; want 1 yen sent", tr, err)
		}
		_, err = ask(elsewhere, 10_000, "bank")
		wantErr(t, "fee payer bank", err, banking.ErrInvalidFeePayer)
		f.verify()
	})
}

// TestFee_InsufficientFundsCountsTheFee: a transfer executes only when the
// account holds the amount and the fee; short of the fee, nothing is booked.
func TestFee_InsufficientFundsCountsTheFee(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o := f.newOrg("労組")
		from := f.accountAt(o, "101", 30_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, from.ID, elsewhere, 30_000)
		_, err := f.svc.Approve(f.ctx, appr.User, tr.ID, tr.Version, appr.creds.Confirmation)
		wantErr(t, "approve without the fee's money", err, banking.ErrInsufficientFunds)
		if n := f.count(`SELECT COUNT(*) FROM postings WHERE transfer_id = $1`, tr.ID); n != 0 || f.balance(from.ID) != 30_000 {
			t.Fatalf("%d postings, balance %d; want none and 30000", n, f.balance(from.ID))
		}
		f.deposit(from.ID, 440)
		f.approve(appr, tr.ID)
		if got := f.balance(from.ID); got != 0 {
			t.Errorf("balance %d, want 0", got)
		}
		f.verify()
	})
}

// TestFee_TableChangeKeepsWaitingTransfer: a transfer keeps the fee it was
// requested with when the bank's table changes before it executes; a
// transfer requested after the change has the new fee.
func TestFee_TableChangeKeepsWaitingTransfer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o := f.newOrg("労組")
		from := f.accountAt(o, "101", 100_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		waiting := f.request(req, from.ID, elsewhere, 10_000)

		dearer := testFees
		dearer.OtherBank = banking.FeeBand{Below30000: 550, From30000: 770}
		if err := f.svc.SetFees(dearer); err != nil {
			t.Fatalf("SetFees: %v", err)
		}
		f.approve(appr, waiting.ID)
		if ps := f.postings(waiting.ID); ps[banking.PostingFee].Amount != -330 {
			t.Errorf("fee posting %d, want -330, the fee when requested", ps[banking.PostingFee].Amount)
		}
		if later := f.request(req, from.ID, elsewhere, 10_000); later.Fee != 550 {
			t.Errorf("fee of a transfer requested after the change %d, want 550", later.Fee)
		}
		f.verify()
	})
}

// TestFee_InvalidTableRefused: a fee table with a fee out of 0..MaxFee is
// refused by New and by SetFees, which keeps the table in force.
func TestFee_InvalidTableRefused(t *testing.T) {
	bad := testFees
	bad.OtherBranch.From30000 = -1
	if err := bad.Validate(); !errors.Is(err, banking.ErrInvalidFees) {
		t.Fatalf("Validate: %v, want ErrInvalidFees", err)
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		if _, err := banking.New(banking.Config{Store: db, Identity: f.ident, BankCode: thisBank, Fees: &bad}); !errors.Is(err, banking.ErrInvalidFees) {
			t.Errorf("New with a negative fee: %v, want ErrInvalidFees", err)
		}
		huge := testFees
		huge.SameBranch.Below30000 = banking.MaxFee + 1
		if err := f.svc.SetFees(huge); !errors.Is(err, banking.ErrInvalidFees) {
			t.Errorf("SetFees above MaxFee: %v, want ErrInvalidFees", err)
		}
		if f.svc.Fees() != testFees {
			t.Errorf("fees %+v after a refused change, want %+v", f.svc.Fees(), testFees)
		}
	})
}

// TestFee_BatchItems: each item of a batch has its fee (当方負担); the batch
// executes only with the money for its amounts and fees, and books a fee
// posting for each item that has one.
func TestFee_BatchItems(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o, payees := f.newOrg("労組"), f.newOrg("取引先")
		acct, dest := f.accountAt(o, "101", 65_000), f.accountAt(payees, "101", 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		b, err := f.svc.CreateBatch(f.ctx, req.User, banking.BatchRequest{FromAccountID: acct.ID, Items: []banking.BatchItem{
			{Payee: payeeOf(dest), Amount: 30_000},
			{Payee: elsewhere, Amount: 5_000},
			{Payee: elsewhere, Amount: 30_000},
		}})
		if err != nil {
			t.Fatalf("create batch: %v", err)
		}
		if b.Fees != 792 {
			t.Errorf("batch fees %d, want 792", b.Fees)
		}
		read, items, err := f.svc.Batch(f.ctx, req.User, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if read.Fees != 792 {
			t.Errorf("batch read back: fees %d, want 792", read.Fees)
		}
		if len(items) != 3 || items[0].Fee != 22 || items[1].Fee != 330 || items[2].Fee != 440 || banking.TotalFees(items) != 792 {
			t.Fatalf("item fees %+v, want 22, 330, 440", items)
		}
		_, err = f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation)
		wantErr(t, "approve without the fees' money", err, banking.ErrInsufficientFunds)
		f.deposit(acct.ID, 792)
		if _, err := f.svc.ApproveBatch(f.ctx, appr.User, b.ID, b.Version, appr.creds.Confirmation); err != nil {
			t.Fatalf("approve batch: %v", err)
		}
		if got := f.balance(acct.ID); got != 0 {
			t.Errorf("balance %d, want 0", got)
		}
		if got := f.count(`SELECT COUNT(*) FROM postings WHERE kind = 'fee' AND account_id = $1`, acct.ID); got != 3 {
			t.Errorf("fee postings %d, want 3", got)
		}
		f.verify()
	})
}

// TestFee_ResubmissionDecidesTheFeeAgain: a transfer sent back and
// resubmitted has the fee of its new request, by the table in force, and
// its new fee payer.
func TestFee_ResubmissionDecidesTheFeeAgain(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o := f.newOrg("労組")
		from := f.accountAt(o, "101", 100_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, from.ID, elsewhere, 10_000)
		if _, err := f.svc.SendBack(f.ctx, appr.User, tr.ID, tr.Version, "金額を確認してください"); err != nil {
			t.Fatalf("send back: %v", err)
		}
		if _, err := f.svc.Resubmit(f.ctx, req.User, tr.ID, banking.TransferRequest{FromAccountID: from.ID, Payee: elsewhere,
			Amount: 40_000, FeePayer: banking.FeePayerPayee}); err != nil {
			t.Fatalf("resubmit: %v", err)
		}
		if got := f.transfer(tr.ID); got.Fee != 440 || got.FeePayer != banking.FeePayerPayee || got.Sent() != 39_560 {
			t.Fatalf("resubmitted: fee %d %s sent %d, want 440 payee 39560", got.Fee, got.FeePayer, got.Sent())
		}
		f.approve(appr, tr.ID)
		if got := f.balance(from.ID); got != 60_000 {
			t.Errorf("balance %d, want 60000", got)
		}
		f.verify()
	})
}

// TestFee_VerifyLedgerChecksTheFeePosting: an executed transfer with a fee
// must have exactly its fee posting; one removed (with the balance put
// back), or a fee changed behind the ledger's back, is reported.
func TestFee_VerifyLedgerChecksTheFeePosting(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o := f.newOrg("労組")
		from := f.accountAt(o, "101", 100_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.approve(appr, f.request(req, from.ID, elsewhere, 10_000).ID)
		if got := ledger(t, db); len(got) != 0 {
			t.Fatalf("a sound ledger has problems: %v", got)
		}
		exec(t, db, `UPDATE transfers SET fee = 331 WHERE id = $1`, tr.ID)
		if got := ledger(t, db); len(got) == 0 {
			t.Errorf("a fee changed behind the ledger's back is not reported")
		}
		exec(t, db, `UPDATE transfers SET fee = 330 WHERE id = $1`, tr.ID)
		exec(t, db, `DELETE FROM postings WHERE transfer_id = $1 AND kind = 'fee'`, tr.ID)
		exec(t, db, `UPDATE accounts SET balance = balance + 330 WHERE id = $1`, from.ID)
		got := ledger(t, db)
		want := fmt.Sprintf("account %d, transfer %d: executed with 0 fee postings of 330, want 1", from.ID, tr.ID)
		found := false
		for _, p := range got {
			found = found || p == want
		}
		if !found {
			t.Errorf("problems %v, want %q", got, want)
		}
	})
}

// TestFee_ScheduledTransferFailsShortOfTheFee: on its execution date a
// scheduled transfer whose account holds the amount but not the fee fails
// (不能), and nothing is booked; with the fee there, it executes.
func TestFee_ScheduledTransferFailsShortOfTheFee(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFeeFixture(t, db)
		o := f.newOrg("労組")
		short, enough := f.accountAt(o, "101", 10_000), f.accountAt(o, "101", 10_330)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tomorrow := day0.AddDays(1)
		ask := func(from banking.Account) banking.Transfer {
			tr, err := f.svc.RequestTransfer(f.ctx, req.User, banking.TransferRequest{FromAccountID: from.ID, Payee: elsewhere,
				Amount: 10_000, ExecutionDate: tomorrow})
			if err != nil {
				t.Fatal(err)
			}
			return f.approve(appr, tr.ID)
		}
		a, b := ask(short), ask(enough)
		f.bank.Clock.Set(t0.Add(24 * time.Hour))
		if _, err := f.svc.ExecuteDue(f.ctx, tomorrow); err != nil {
			t.Fatalf("execute due: %v", err)
		}
		if got := f.transfer(a.ID); got.Status != banking.StatusFailed || f.balance(short.ID) != 10_000 {
			t.Errorf("short of the fee: %s, balance %d; want failed and 10000", got.Status, f.balance(short.ID))
		}
		if got := f.transfer(b.ID); got.Status != banking.StatusExecuted || f.balance(enough.ID) != 0 {
			t.Errorf("with the fee: %s, balance %d; want executed and 0", got.Status, f.balance(enough.ID))
		}
		f.verify()
	})
}
