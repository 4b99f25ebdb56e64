package banking_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestLedgerInvariantsUnderLoad: 1,000 random transfers from 8 goroutines
// between the accounts of two organizations (and to another bank), some
// for today, some for tomorrow, some approved twice at once, some beyond
// the money there is. Afterwards money is conserved, no balance is
// negative, every approved transfer executed exactly once, and the ledger
// and the audit chain verify.
func TestLedgerInvariantsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// A thousand transfers within the bank by a few users: far past the
		// limit of checks of accounts here that a real user has.
		f.svc = f.withPayeeChecks(1_000_000)
		const (
			workers   = 8
			transfers = 1000
			initial   = 1_000_000
		)
		big := banking.Privileges{Inquiry: true, TransferRequest: true, Approval: true, TransactionLimit: banking.MaxLimit, DailyLimit: banking.MaxLimit}
		type orgSide struct {
			org      org
			users    []user
			accounts []banking.Account
		}
		var sides []orgSide
		var all []banking.Account
		for _, name := range []string{"労組 甲", "労組 乙"} {
			o := f.newOrg(name)
			if err := f.svc.SetOrganizationDailyLimit(f.ctx, o.Code, banking.MaxLimit, "test", "REQ-LOAD"); err != nil {
				t.Fatal(err)
			}
			s := orgSide{org: o, users: []user{f.newUser(o, big), f.newUser(o, big), o.master}}
			for range 4 {
				a := f.newAccount(o, initial)
				s.accounts = append(s.accounts, a)
				all = append(all, a)
			}
			sides = append(sides, s)
		}
		total := int64(initial * len(all))
		tomorrow := day0.AddDays(1)

		var mu sync.Mutex
		approvals := map[int64]int{} // successful approvals per transfer
		approvedNow := map[int64]bool{}
		var unexpected []error
		fail := func(err error) {
			mu.Lock()
			unexpected = append(unexpected, err)
			mu.Unlock()
		}

		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				for range transfers / workers {
					s := sides[rng.IntN(len(sides))]
					from := s.accounts[rng.IntN(len(s.accounts))]
					payee := elsewhere
					if rng.IntN(8) > 0 {
						to := all[rng.IntN(len(all))]
						for to.ID == from.ID {
							to = all[rng.IntN(len(all))]
						}
						payee = payeeOf(to)
					}
					date := day0
					if rng.IntN(7) == 0 {
						date = tomorrow
					}
					ri := rng.IntN(2)
					requester, approver := s.users[ri], s.users[1-ri]
					tr, err := f.svc.RequestTransfer(f.ctx, requester.User, banking.TransferRequest{
						FromAccountID: from.ID, Payee: payee, Amount: 1 + rng.Int64N(150_000), ExecutionDate: date})
					if err != nil {
						fail(err)
						continue
					}
					approvers := []user{approver}
					if rng.IntN(4) == 0 {
						approvers = append(approvers, s.users[2]) // the master approves at the same time
					}
					var inner sync.WaitGroup
					errs := make([]error, len(approvers))
					for i, a := range approvers {
						inner.Add(1)
						go func() {
							defer inner.Done()
							_, errs[i] = f.svc.Approve(f.ctx, a.User, tr.ID, tr.Version, a.creds.Confirmation)
						}()
					}
					inner.Wait()
					ok, broke := 0, false
					for _, err := range errs {
						switch {
						case err == nil:
							ok++
						case errors.Is(err, banking.ErrInvalidState):
						case errors.Is(err, banking.ErrInsufficientFunds):
							broke = true
						default:
							fail(err)
						}
					}
					mu.Lock()
					approvals[tr.ID] += ok
					approvedNow[tr.ID] = ok > 0 && date == day0
					mu.Unlock()
					if ok == 0 && broke {
						if _, err := f.svc.Reject(f.ctx, approver.User, tr.ID, tr.Version, "残高不足"); err != nil {
							fail(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range unexpected {
			t.Errorf("unexpected error: %v", err)
		}

		// Tomorrow: two servers run the job at once.
		f.bank.Clock.Set(t0.Add(24 * time.Hour))
		var jobs sync.WaitGroup
		for range 2 {
			jobs.Add(1)
			go func() {
				defer jobs.Done()
				if _, err := f.svc.ExecuteDue(f.ctx, tomorrow); err != nil {
					fail(err)
				}
			}()
		}
		jobs.Wait()
		for _, err := range unexpected {
			t.Errorf("unexpected error: %v", err)
		}

		var sum, outflow int64
		if err := db.SQL().QueryRow(`SELECT COALESCE(SUM(balance), 0) FROM accounts`).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow(`SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE interbank = TRUE AND status = 'executed'`).Scan(&outflow); err != nil {
			t.Fatal(err)
		}
		if sum+outflow != total {
			t.Errorf("balances %d + sent to other banks %d = %d, want the %d deposited", sum, outflow, sum+outflow, total)
		}
		if n := f.count(`SELECT COUNT(*) FROM accounts WHERE balance < 0`); n != 0 {
			t.Errorf("%d negative balances", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM postings WHERE balance_after < 0`); n != 0 {
			t.Errorf("%d postings leave a negative balance", n)
		}
		if len(approvals) != transfers {
			t.Errorf("%d transfers requested, want %d", len(approvals), transfers)
		}
		statuses := map[banking.Status]int{}
		for id, n := range approvals {
			if n > 1 {
				t.Errorf("transfer %d approved %d times", id, n)
			}
			tr := f.transfer(id)
			statuses[tr.Status]++
			switch {
			case n == 1 && tr.Status != banking.StatusExecuted && tr.Status != banking.StatusFailed:
				t.Errorf("approved transfer %d is %s, want executed or failed", id, tr.Status)
			case n == 0 && tr.Status != banking.StatusRejected:
				t.Errorf("transfer %d never approved is %s, want rejected", id, tr.Status)
			case approvedNow[id] && tr.Status != banking.StatusExecuted:
				t.Errorf("transfer %d approved for today is %s, want executed", id, tr.Status)
			}
			debits := f.count(`SELECT COUNT(*) FROM postings WHERE transfer_id = $1 AND kind = 'debit'`, id)
			if want := map[bool]int{true: 1, false: 0}[tr.Status == banking.StatusExecuted]; debits != want {
				t.Errorf("transfer %d (%s) has %d debits, want %d", id, tr.Status, debits, want)
			}
		}
		t.Logf("%d transfers: %v", transfers, statuses)
		if statuses[banking.StatusExecuted] < transfers/4 || statuses[banking.StatusRejected] == 0 {
			t.Errorf("statuses %v: the load did not exercise both execution and insufficient funds", statuses)
		}
		f.verify()
		v, err := db.VerifyAudit(f.ctx)
		if err != nil || v.Break != nil {
			t.Errorf("audit chain: %+v, %v", v, err)
		}
	})
}
