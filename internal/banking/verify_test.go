package banking_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// ledger returns the problems VerifyLedger finds in db's ledger.
func ledger(t *testing.T, db *store.DB) []string {
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

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestVerifyLedgerFindsTampering: each change made behind the ledger's back
// is reported, with the account and transfer it concerns.
func TestVerifyLedgerFindsTampering(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		requester, approver := f.newUser(o, all), f.newUser(o, all)
		a, b := f.newAccount(o, 10_000), f.newAccount(o, 0)
		internal := f.approve(approver, f.request(requester, a.ID, payeeOf(b), 3_000).ID)
		out := f.approve(approver, f.request(requester, a.ID, elsewhere, 2_000).ID)
		pending := f.request(requester, a.ID, payeeOf(b), 1_000)
		if got := ledger(t, db); len(got) != 0 {
			t.Fatalf("a sound ledger has problems: %v", got)
		}
		var debit int64
		if err := db.SQL().QueryRow(`SELECT id FROM postings WHERE transfer_id = $1 AND kind = 'debit'`, out.ID).Scan(&debit); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name    string
			tamper  []string
			restore []string
			want    []string
		}{
			{
				name:    "a balance changed by hand",
				tamper:  []string{fmt.Sprintf(`UPDATE accounts SET balance = balance + 1 WHERE id = %d`, b.ID)},
				restore: []string{fmt.Sprintf(`UPDATE accounts SET balance = balance - 1 WHERE id = %d`, b.ID)},
				want:    []string{fmt.Sprintf("account %d: balance 3001, but its postings sum to 3000", b.ID)},
			},
			{
				name:    "a posting's amount changed by hand",
				tamper:  []string{fmt.Sprintf(`UPDATE postings SET amount = -1000 WHERE id = %d`, debit)},
				restore: []string{fmt.Sprintf(`UPDATE postings SET amount = -2000 WHERE id = %d`, debit)},
				want: []string{
					fmt.Sprintf("account %d, transfer %d: posting %d: balance after 5000, but the balance before it and its amount make 6000", a.ID, out.ID, debit),
					fmt.Sprintf("account %d: balance 5000, but its postings sum to 6000", a.ID),
					fmt.Sprintf("account %d, transfer %d: unexpected debit posting of -1000", a.ID, out.ID),
					fmt.Sprintf("account %d, transfer %d: executed with 0 debits of 2000, want exactly 1", a.ID, out.ID),
				},
			},
			{
				name:    "a transfer put back to awaiting approval after its postings",
				tamper:  []string{fmt.Sprintf(`UPDATE transfers SET status = 'awaiting_approval', executed_at = NULL WHERE id = %d`, out.ID)},
				restore: []string{fmt.Sprintf(`UPDATE transfers SET status = 'executed', executed_at = 1 WHERE id = %d`, out.ID)},
				want:    []string{fmt.Sprintf("transfer %d: awaiting_approval, but it has 1 postings", out.ID)},
			},
			{
				name:    "a transfer marked executed without postings",
				tamper:  []string{fmt.Sprintf(`UPDATE transfers SET status = 'executed', executed_at = 1, approved_by = %d WHERE id = %d`, approver.ID, pending.ID)},
				restore: []string{fmt.Sprintf(`UPDATE transfers SET status = 'awaiting_approval', executed_at = NULL, approved_by = NULL WHERE id = %d`, pending.ID)},
				want: []string{
					fmt.Sprintf("account %d, transfer %d: executed with 0 debits of 1000, want exactly 1", a.ID, pending.ID),
					fmt.Sprintf("account %d, transfer %d: executed with 0 credits of 1000, want 1", b.ID, pending.ID),
				},
			},
			{
				name: "an executed transfer's credit removed",
				tamper: []string{
					fmt.Sprintf(`DELETE FROM postings WHERE transfer_id = %d AND kind = 'credit'`, internal.ID),
					fmt.Sprintf(`UPDATE accounts SET balance = 0 WHERE id = %d`, b.ID),
				},
				want: []string{fmt.Sprintf("account %d, transfer %d: executed with 0 credits of 3000, want 1", b.ID, internal.ID)},
			},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, q := range c.tamper {
					exec(t, db, q)
				}
				if diff := cmp.Diff(c.want, ledger(t, db)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				for _, q := range c.restore {
					exec(t, db, q)
				}
			})
		}
	})
}
