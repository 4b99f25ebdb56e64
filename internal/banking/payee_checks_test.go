package banking_test

import (
	"errors"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// withPayeeChecks returns a service on f's database that lets a user check
// limit accounts at this bank per hour: another server of the same bank.
func (f *fixture) withPayeeChecks(limit int) *banking.Service {
	f.t.Helper()
	svc, err := banking.New(banking.Config{Store: f.db, Identity: f.ident, Now: f.bank.Clock.Now, BankCode: thisBank,
		PayeeChecks: limit, PayeeCheckWindow: time.Hour})
	if err != nil {
		f.t.Fatal(err)
	}
	return svc
}

// wantLookupsRefused fails the test unless err is ErrTooManyLookups with a
// wait of at most the window.
func wantLookupsRefused(t *testing.T, what string, err error) {
	t.Helper()
	var le *banking.LookupsError
	if !errors.Is(err, banking.ErrTooManyLookups) || !errors.As(err, &le) || le.Wait <= 0 || le.Wait > time.Hour {
		t.Fatalf("%s: %v, want ErrTooManyLookups with a wait within the hour", what, err)
	}
}

// TestHardening_PayeeChecksThrottledPerUser: a user checks accounts at this
// bank (the entry form's check, a transfer or a batch to a payee given in
// full, a payee registered) at most the limit per window, counted in the
// database: the limit holds on another server, for one user only, and
// again once the window has passed. Payees at other banks are not checks
// of accounts here.
func TestHardening_PayeeChecksThrottledPerUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		one, two := f.withPayeeChecks(3), f.withPayeeChecks(3)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 1_000_000), f.newAccount(o, 0)
		u, other := f.newUser(o, all), f.newUser(o, all)
		missing := payeeOf(dest)
		missing.AccountNumber = "9999999"

		if id, err := one.CheckPayee(f.ctx, u.User, payeeOf(dest)); err != nil || id != dest.ID {
			t.Fatalf("check of an account here: %d, %v", id, err)
		}
		_, err := one.CheckPayee(f.ctx, u.User, missing)
		wantErr(t, "check of no account", err, banking.ErrInvalidPayee)
		if _, err := two.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: payeeOf(dest), Amount: 1_000}); err != nil {
			t.Fatalf("third check, a transfer on another server: %v", err)
		}
		for i := range 3 {
			if _, err := one.CheckPayee(f.ctx, u.User, elsewhere); err != nil {
				t.Fatalf("check %d of a payee at another bank: %v", i, err)
			}
		}

		_, err = one.CheckPayee(f.ctx, u.User, payeeOf(dest))
		wantLookupsRefused(t, "fourth check", err)
		_, err = two.CheckPayee(f.ctx, u.User, missing)
		wantLookupsRefused(t, "fourth check on another server", err)
		_, err = two.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: payeeOf(dest), Amount: 1_000})
		wantLookupsRefused(t, "a transfer to a payee given in full", err)
		_, err = one.RegisterPayee(f.ctx, u.User, banking.Payee{PayeeAccount: payeeOf(dest)})
		wantLookupsRefused(t, "a payee registered", err)
		_, err = one.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID, SourceFile: "sogo.txt",
			Items: []banking.BatchItem{{Payee: payeeOf(dest), Amount: 100}}})
		wantLookupsRefused(t, "a batch to an account here", err)
		if _, err := one.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: acct.ID, Payee: elsewhere, Amount: 1_000}); err != nil {
			t.Fatalf("a transfer to another bank after the limit: %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM transfers WHERE requested_by = $1`, u.ID); n != 2 {
			t.Fatalf("transfers of the throttled user %d, want 2 (nothing recorded when refused)", n)
		}
		if _, err := one.CheckPayee(f.ctx, other.User, payeeOf(dest)); err != nil {
			t.Fatalf("another user's check: %v", err)
		}

		f.bank.Clock.Advance(time.Hour)
		if _, err := two.CheckPayee(f.ctx, u.User, payeeOf(dest)); err != nil {
			t.Fatalf("a check once the window passed: %v", err)
		}
	})
}

// TestHardening_BatchCountsEachItemAsACheck: a batch's answer tells, item
// by item, which accounts here do not exist, so each item to an account
// here is a check: a batch of more such items than the limit is refused
// whole, before any is looked up.
func TestHardening_BatchCountsEachItemAsACheck(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		svc := f.withPayeeChecks(3)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 1_000_000), f.newAccount(o, 0)
		u := f.newUser(o, all)
		items := []banking.BatchItem{{Payee: elsewhere, Amount: 100}}
		for n := range 4 {
			p := payeeOf(dest)
			p.AccountNumber = []string{dest.Number, "9999991", "9999992", "9999993"}[n]
			items = append(items, banking.BatchItem{Payee: p, Amount: 100})
		}
		_, err := svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: acct.ID, SourceFile: "probe.txt", Items: items})
		wantLookupsRefused(t, "a batch of four accounts here", err)
		var be *banking.BatchError
		if errors.As(err, &be) {
			t.Fatalf("the refused batch told which accounts exist: %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM transfer_batches WHERE requested_by = $1`, u.ID); n != 0 {
			t.Fatalf("batches recorded %d, want 0", n)
		}
	})
}

// TestHardening_PayeeChecksSetWhileRunning: a limit set on a running
// service (a reload) holds from the next check on, counting the checks
// made before it.
func TestHardening_PayeeChecksSetWhileRunning(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		svc := f.withPayeeChecks(5)
		o := f.newOrg("労組")
		dest := f.newAccount(o, 0)
		u := f.newUser(o, all)
		for i := range 2 {
			if _, err := svc.CheckPayee(f.ctx, u.User, payeeOf(dest)); err != nil {
				t.Fatalf("check %d within the limit of 5: %v", i+1, err)
			}
		}
		svc.SetPayeeChecks(2, time.Hour)
		_, err := svc.CheckPayee(f.ctx, u.User, payeeOf(dest))
		wantLookupsRefused(t, "third check under a new limit of 2", err)
		svc.SetPayeeChecks(5, time.Hour)
		if _, err := svc.CheckPayee(f.ctx, u.User, payeeOf(dest)); err != nil {
			t.Fatalf("a check under the limit raised to 5 again: %v", err)
		}
	})
}
