package banking

import (
	"context"
	"fmt"
)

// LedgerRows receives the rows of the ledger as a LedgerReader reads them,
// all in one snapshot of the database: every account in order of ID, then
// every posting in order of account and ID, then every transfer in order of
// ID with the status of its batch ("" for a single transfer). An error
// stops the reading.
type LedgerRows struct {
	Account  func(a Account) error
	Posting  func(p Posting) error
	Transfer func(t Transfer, batchStatus Status) error
}

// LedgerReader reads the whole ledger in one snapshot.
type LedgerReader interface {
	ReadLedger(ctx context.Context, rows LedgerRows) error
}

// VerifyLedger checks that every balance is the sum of the account's
// postings and every executed transfer has its postings exactly once
// (kinko ledger verify). No problems: the ledger is sound.
func (s *Service) VerifyLedger(ctx context.Context) ([]LedgerProblem, error) {
	return VerifyLedger(ctx, s.c.Store)
}

// VerifyLedger reads the ledger from r and checks, in one snapshot, that no
// balance is negative, that every account's balance is the sum of its
// postings and the balance after its last posting, that each posting's
// balance follows from the one before, that every executed transfer has
// exactly its postings (one debit of the amount sent from its account, one
// posting of its fee when it has one and, to an account here, one credit of
// the amount sent) and every other transfer none, and that
// the items of a batch are in the batch's status.
func VerifyLedger(ctx context.Context, r LedgerReader) ([]LedgerProblem, error) {
	var problems []LedgerProblem
	add := func(account, transfer int64, format string, args ...any) {
		problems = append(problems, LedgerProblem{AccountID: account, TransferID: transfer, Detail: fmt.Sprintf(format, args...)})
	}
	type posting struct {
		account int64
		kind    PostingKind
		amount  int64
	}
	var accounts []Account
	byTransfer := map[int64][]posting{}
	total := map[int64]int64{}   // the sum of an account's postings
	running := map[int64]int64{} // the same, but following each posting's balance after a break
	last := map[int64]int64{}
	accountsChecked := false
	checkAccounts := func() {
		if accountsChecked {
			return
		}
		accountsChecked = true
		for _, a := range accounts {
			if a.Balance != total[a.ID] {
				add(a.ID, 0, "balance %d, but its postings sum to %d", a.Balance, total[a.ID])
			} else if a.Balance != last[a.ID] {
				add(a.ID, 0, "balance %d, but the balance after its last posting is %d", a.Balance, last[a.ID])
			}
		}
	}
	err := r.ReadLedger(ctx, LedgerRows{
		Account: func(a Account) error {
			accounts = append(accounts, a)
			if a.Balance < 0 {
				add(a.ID, 0, "negative balance %d", a.Balance)
			}
			return nil
		},
		Posting: func(p Posting) error {
			total[p.AccountID] += p.Amount
			running[p.AccountID] += p.Amount
			if running[p.AccountID] != p.BalanceAfter {
				add(p.AccountID, p.TransferID, "posting %d: balance after %d, but the balance before it and its amount make %d",
					p.ID, p.BalanceAfter, running[p.AccountID])
				running[p.AccountID] = p.BalanceAfter // report each break once
			}
			last[p.AccountID] = p.BalanceAfter
			if p.BalanceAfter < 0 {
				add(p.AccountID, p.TransferID, "posting %d: negative balance after %d", p.ID, p.BalanceAfter)
			}
			if p.TransferID != 0 {
				byTransfer[p.TransferID] = append(byTransfer[p.TransferID], posting{p.AccountID, p.Kind, p.Amount})
			}
			return nil
		},
		Transfer: func(t Transfer, batchStatus Status) error {
			checkAccounts()
			ps := byTransfer[t.ID]
			delete(byTransfer, t.ID)
			if t.BatchID != 0 && batchStatus != t.Status {
				add(0, t.ID, "status %s, but its batch %d is %s", t.Status, t.BatchID, batchStatus)
			}
			if t.Status != StatusExecuted {
				if len(ps) > 0 {
					add(0, t.ID, "%s, but it has %d postings", t.Status, len(ps))
				}
				return nil
			}
			var debits, credits, fees int
			for _, p := range ps {
				switch {
				case p.kind == PostingDebit && p.account == t.FromAccountID && p.amount == -t.Sent():
					debits++
				case p.kind == PostingCredit && !t.Interbank && p.account == t.ToAccountID && p.amount == t.Sent():
					credits++
				case p.kind == PostingFee && p.account == t.FromAccountID && p.amount == -t.Fee:
					fees++
				default:
					add(p.account, t.ID, "unexpected %s posting of %d", p.kind, p.amount)
				}
			}
			if debits != 1 {
				add(t.FromAccountID, t.ID, "executed with %d debits of %d, want exactly 1", debits, t.Sent())
			}
			if wantFees := min(t.Fee, 1); int64(fees) != wantFees {
				add(t.FromAccountID, t.ID, "executed with %d fee postings of %d, want %d", fees, t.Fee, wantFees)
			}
			wantCredits := 1
			if t.Interbank {
				wantCredits = 0
			}
			if credits != wantCredits {
				add(t.ToAccountID, t.ID, "executed with %d credits of %d, want %d", credits, t.Sent(), wantCredits)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	checkAccounts()
	return problems, nil
}
