package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

var unitDay = calendar.DateOf(unitT0)

// unitTx runs fn in a banking transaction of db.
func unitTx(t *testing.T, db *store.DB, fn func(ctx context.Context, tx banking.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx banking.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

// unitAccount opens an account of org with balance yen deposited.
func unitAccount(t *testing.T, db *store.DB, org identity.Organization, balance int64) banking.Account {
	t.Helper()
	a := banking.Account{OrganizationID: org.ID, Type: banking.Ordinary, BranchCode: "101",
		Number: fmt.Sprintf("%07d", unitSeq.Add(1)), HolderName: "ﾃｽﾄ", OpenedAt: unitT0}
	unitTx(t, db, func(ctx context.Context, tx banking.Tx) error {
		if err := tx.InsertAccount(ctx, &a, "REQ"); err != nil {
			return err
		}
		if balance > 0 {
			p := banking.Posting{AccountID: a.ID, Kind: banking.PostingDeposit, Amount: balance, BalanceAfter: balance, Date: unitDay,
				Description: "ﾆｭｳｷﾝ", CreatedAt: unitT0}
			if err := tx.InsertPosting(ctx, &p); err != nil {
				return err
			}
			if err := tx.SetBalance(ctx, a.ID, balance); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, audit.Event{At: unitT0, Type: audit.AccountOpened, Actor: "operator:test"})
	})
	a.Balance = balance
	return a
}

// unitTransfer records a transfer of amount from a to b (nil: another bank)
// requested by u; with approver != 0 it is approved and executed, its
// postings written as the banking package writes them.
func unitTransfer(t *testing.T, db *store.DB, u identity.User, from banking.Account, to *banking.Account, amount int64, approver int64) banking.Transfer {
	t.Helper()
	tr := banking.Transfer{OrganizationID: from.OrganizationID, FromAccountID: from.ID, Amount: amount, ExecutionDate: unitDay,
		Payee:  banking.PayeeAccount{BankCode: "0005", BranchCode: "001", AccountType: banking.Ordinary, AccountNumber: "1234567", Name: "ﾀﾅｶ"},
		Status: banking.StatusAwaitingApproval, RequestedBy: u.ID, RequestedAt: unitT0, UpdatedAt: unitT0, Interbank: true}
	if to != nil {
		tr.Payee = banking.PayeeAccount{BankCode: "2950", BranchCode: to.BranchCode, AccountType: to.Type, AccountNumber: to.Number, Name: "ﾃｽﾄ"}
		tr.ToAccountID, tr.Interbank = to.ID, false
	}
	unitTx(t, db, func(ctx context.Context, tx banking.Tx) error {
		if err := tx.InsertTransfer(ctx, &tr); err != nil {
			return err
		}
		if approver == 0 {
			return nil
		}
		ids := []int64{from.ID}
		if to != nil {
			ids = append(ids, to.ID)
		}
		accounts, err := tx.LockAccounts(ctx, ids)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			p := banking.Posting{AccountID: a.ID, TransferID: tr.ID, Kind: banking.PostingDebit, Amount: -amount, Date: unitDay, CreatedAt: unitT0}
			if a.ID != from.ID {
				p.Kind, p.Amount = banking.PostingCredit, amount
			}
			p.BalanceAfter = a.Balance + p.Amount
			if err := tx.InsertPosting(ctx, &p); err != nil {
				return err
			}
			if err := tx.SetBalance(ctx, a.ID, p.BalanceAfter); err != nil {
				return err
			}
		}
		return tx.SetStatus(ctx, banking.Unit{TransferID: tr.ID}, banking.StatusChange{Status: banking.StatusExecuted, At: unitT0,
			ExecutedAt: unitT0, ApprovedBy: approver, ApprovedAt: unitT0})
	})
	return tr
}

func unitLedger(t *testing.T, db *store.DB) []string {
	t.Helper()
	problems, err := banking.VerifyLedger(context.Background(), db)
	if err != nil {
		t.Fatalf("verify ledger: %v", err)
	}
	var out []string
	for _, p := range problems {
		out = append(out, p.String())
	}
	return out
}

func unitExec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestBankingConstraintsHoldInTheDatabase(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		org, master := unitOrg(t, db)
		approver := unitUser(t, db, org)
		a, b := unitAccount(t, db, org, 10_000), unitAccount(t, db, org, 0)
		tr := unitTransfer(t, db, master, a, &b, 3_000, approver.ID)
		pending := unitTransfer(t, db, master, a, nil, 1_000, 0)
		const posting = `INSERT INTO postings (account_id, transfer_id, kind, amount, balance_after, value_date, description, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'x', 0)`
		cases := []struct {
			name string
			q    string
			args []any
		}{
			{"negative balance", `UPDATE accounts SET balance = -1 WHERE id = $1`, []any{a.ID}},
			{"zero posting", posting, []any{a.ID, nil, "deposit", 0, 0, "2026-04-01"}},
			{"debit that adds money", posting, []any{a.ID, tr.ID, "debit", 5, 0, "2026-04-01"}},
			{"posting leaving a negative balance", posting, []any{a.ID, nil, "deposit", 1, -1, "2026-04-01"}},
			{"deposit of a transfer", posting, []any{a.ID, tr.ID, "deposit", 1, 1, "2026-04-01"}},
			{"bad booking date", posting, []any{a.ID, nil, "deposit", 1, 1, "1 April"}},
			{"transfer approved by its requester", `UPDATE transfers SET approved_by = requested_by WHERE id = $1`, []any{tr.ID}},
			{"executed without time", `UPDATE transfers SET executed_at = NULL WHERE id = $1`, []any{tr.ID}},
			{"scheduled without approver", `UPDATE transfers SET status = 'scheduled' WHERE id = $1`, []any{pending.ID}},
			{"unknown status", `UPDATE transfers SET status = 'lost' WHERE id = $1`, []any{pending.ID}},
			{"zero amount", `UPDATE transfers SET amount = 0 WHERE id = $1`, []any{pending.ID}},
			{"interbank with an account here", `UPDATE transfers SET to_account_id = $1 WHERE id = $2`, []any{b.ID, pending.ID}},
			{"payee bank code of 3 digits", `UPDATE transfers SET payee_bank_code = '005' WHERE id = $1`, []any{pending.ID}},
			{"payee account number with a letter", `UPDATE transfers SET payee_account_number = '123456A' WHERE id = $1`, []any{pending.ID}},
			{"sent to file before execution", `UPDATE transfers SET interbank_file = 'f', interbank_sent_at = 1 WHERE id = $1`, []any{pending.ID}},
			{"account number of 6 digits", `UPDATE accounts SET number = '123456' WHERE id = $1`, []any{a.ID}},
			{"savings account here", `UPDATE accounts SET account_type = 'savings' WHERE id = $1`, []any{a.ID}},
			{"negative user limit", `INSERT INTO privileges (user_id, organization_id, inquiry, transfer_request, approval, transaction_limit, daily_limit, updated_at)
				VALUES ($1, $2, TRUE, TRUE, TRUE, -1, 0, 0)`, []any{approver.ID, org.ID}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := db.SQL().Exec(c.q, c.args...)
				if err == nil {
					t.Fatal("statement succeeded, want a CHECK violation")
				}
				if !strings.Contains(err.Error(), "check constraint") && !strings.Contains(err.Error(), "CHECK constraint failed") {
					t.Fatalf("error %q is not a CHECK violation", err)
				}
			})
		}
		t.Run("a second debit of a transfer", func(t *testing.T) {
			_, err := db.SQL().Exec(posting, a.ID, tr.ID, "debit", -3000, 4000, "2026-04-01")
			unitWantConstraint(t, db, err, "postings_transfer_id_kind_key", "UNIQUE constraint failed: postings.transfer_id, postings.kind")
		})
		t.Run("the same account twice", func(t *testing.T) {
			_, err := db.SQL().Exec(`INSERT INTO accounts (organization_id, account_type, branch_code, number, holder_name, balance, opened_at, request_ref)
				VALUES ($1, $2, $3, $4, 'x', 0, 0, 'r')`, org.ID, string(a.Type), a.BranchCode, a.Number)
			unitWantConstraint(t, db, err, "accounts_branch_code_account_type_number_key", "UNIQUE constraint failed: accounts.branch_code")
		})
		t.Run("an idempotency key twice", func(t *testing.T) {
			q := `INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, transfer_id, created_at) VALUES ($1, 'k', 'h', $2, 0)`
			unitExec(t, db, q, master.ID, tr.ID)
			_, err := db.SQL().Exec(q, master.ID, pending.ID)
			unitWantConstraint(t, db, err, "idempotency_keys_user_id_idempotency_key_key", "UNIQUE constraint failed: idempotency_keys.user_id")
		})
		if got := unitLedger(t, db); len(got) != 0 {
			t.Errorf("ledger after refused statements: %v", got)
		}
	})
}

// TestBankingTx checks the data operations of a banking transaction: the
// accounts locked in ascending ID, the sums by status, a batch's status set
// on its items too, and a transaction that fails leaving nothing behind
// with its error returned as it is.
func TestBankingTx(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		approver := unitUser(t, db, org)
		a, b := unitAccount(t, db, org, 10_000), unitAccount(t, db, org, 0)
		unitTransfer(t, db, master, a, &b, 3_000, approver.ID)
		pending := unitTransfer(t, db, master, a, nil, 1_000, 0)
		var batch banking.Batch
		unitTx(t, db, func(ctx context.Context, tx banking.Tx) error {
			got, err := tx.LockAccounts(ctx, []int64{b.ID, a.ID, 987654, b.ID})
			if err != nil {
				return err
			}
			var ids []int64
			for _, x := range got {
				ids = append(ids, x.ID)
			}
			if diff := cmp.Diff([]int64{a.ID, b.ID}, ids); diff != "" {
				t.Errorf("locked accounts (-want +got):\n%s", diff)
			}
			if got[0].Balance != 7_000 || got[1].Balance != 3_000 {
				t.Errorf("balances %d, %d; want 7000, 3000", got[0].Balance, got[1].Balance)
			}
			sum, err := tx.RequestedSum(ctx, master.ID, unitDay, []banking.Status{banking.StatusAwaitingApproval, banking.StatusExecuted}, 0)
			if err != nil || sum != 4_000 {
				t.Errorf("requested sum %d (%v), want 4000", sum, err)
			}
			sum, err = tx.RequestedSum(ctx, master.ID, unitDay, []banking.Status{banking.StatusAwaitingApproval, banking.StatusExecuted}, pending.ID)
			if err != nil || sum != 3_000 {
				t.Errorf("requested sum without the pending transfer %d (%v), want 3000", sum, err)
			}
			sum, err = tx.OrganizationSum(ctx, org.ID, unitDay, []banking.Status{banking.StatusScheduled, banking.StatusExecuted})
			if err != nil || sum != 3_000 {
				t.Errorf("organization sum %d (%v), want 3000", sum, err)
			}
			batch = banking.Batch{OrganizationID: org.ID, FromAccountID: a.ID, ExecutionDate: unitDay, Status: banking.StatusAwaitingApproval,
				Count: 2, Total: 300, Interbank: true, RequestedBy: master.ID, RequestedAt: unitT0, UpdatedAt: unitT0}
			if err := tx.InsertBatch(ctx, &batch); err != nil {
				return err
			}
			for _, amount := range []int64{100, 200} {
				item := banking.Transfer{OrganizationID: org.ID, BatchID: batch.ID, FromAccountID: a.ID, Amount: amount, ExecutionDate: unitDay,
					Payee:  banking.PayeeAccount{BankCode: "0005", BranchCode: "001", AccountType: banking.Ordinary, AccountNumber: "1234567", Name: "ﾀﾅｶ"},
					Status: banking.StatusAwaitingApproval, RequestedBy: master.ID, RequestedAt: unitT0, UpdatedAt: unitT0, Interbank: true}
				if err := tx.InsertTransfer(ctx, &item); err != nil {
					return err
				}
			}
			return tx.SetStatus(ctx, banking.Unit{BatchID: batch.ID}, banking.StatusChange{Status: banking.StatusRejected, At: unitT0})
		})
		items, err := db.BatchTransfers(ctx, batch.ID)
		if err != nil || len(items) != 2 {
			t.Fatalf("batch items %d (%v), want 2", len(items), err)
		}
		for _, it := range items {
			if it.Status != banking.StatusRejected {
				t.Errorf("item %d is %s, want rejected with its batch", it.ID, it.Status)
			}
		}

		refused := errors.New("refused")
		err = db.InTx(ctx, func(tx banking.Tx) error {
			if err := tx.SetBalance(ctx, b.ID, 1); err != nil {
				return err
			}
			return refused
		})
		if err != refused {
			t.Errorf("InTx returned %v, want the error of its function as it is", err)
		}
		if got, _ := db.AccountByID(ctx, b.ID); got.Balance != 3_000 {
			t.Errorf("balance %d after a rolled-back transaction, want 3000", got.Balance)
		}
		err = db.InTx(ctx, func(tx banking.Tx) error {
			_, err := tx.LockTransfer(ctx, 987654)
			return err
		})
		wantErrIs(t, err, banking.ErrNotFound)
		if got := unitLedger(t, db); len(got) != 0 {
			t.Errorf("ledger: %v", got)
		}
	})
}

func wantErrIs(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}
