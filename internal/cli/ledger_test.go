package cli_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestLedgerVerify checks a sound ledger, then one whose balance was
// changed by hand without a posting: exit 1 and the account named.
func TestLedgerVerify(t *testing.T) {
	engines(t, func(t *testing.T, b bank) {
		db := b.open(t)
		ledger := func(args ...string) result {
			return run(t, append(append([]string{"ledger", "verify"}, b.db...), args...)...)
		}

		if r := ledger(); r.code != 0 || r.stdout != "OK: 0 accounts, 0 postings, balances match\n" {
			t.Errorf("empty ledger: exit %d, stdout %q", r.code, r.stdout)
		}
		org := createOrg(t, b, "ひかり労働組合", "hikari01")
		a := openAccount(t, b, org.Code, "ordinary", "001", "1234567", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ")
		c := openAccount(t, b, org.Code, "current", "001", "1234567", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ")
		for _, amount := range []string{"5000", "7000"} {
			approved(t, b, b.operator("account", "deposit", "--account", fmt.Sprint(a.ID), "--amount", amount, "--description", "ｸﾐｱｲﾋ", "--request-ref", "D-"+amount))
		}
		if r := ledger(); r.code != 0 || r.stdout != "OK: 2 accounts, 2 postings, balances match\n" {
			t.Errorf("sound ledger: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}

		for _, q := range []string{`UPDATE accounts SET balance = balance + 1 WHERE id = $1`, `UPDATE accounts SET balance = 300 WHERE id = $1`} {
			id := a.ID
			if strings.Contains(q, "300") {
				id = c.ID
			}
			if _, err := db.SQL().Exec(q, id); err != nil {
				t.Fatal(err)
			}
		}
		r := ledger()
		if r.code != 1 {
			t.Errorf("tampered ledger: exit %d, want 1\nstdout:\n%s", r.code, r.stdout)
		}
		for _, s := range []string{
			fmt.Sprintf("PROBLEM: account %d: balance 12001, but its postings sum to 12000", a.ID),
			fmt.Sprintf("PROBLEM: account %d: balance 300, but its postings sum to 0", c.ID),
		} {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("tampered ledger: stdout lacks %q:\n%s", s, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, "the ledger does not match") {
			t.Errorf("tampered ledger: stderr %q", r.stderr)
		}

		if r := run(t, "ledger"); r.code != 2 {
			t.Errorf("kinko ledger without verify: exit %d, want 2", r.code)
		}
		if r := run(t, "ledger", "verify"); r.code != 2 || !strings.Contains(r.stderr, "--data or --db") {
			t.Errorf("kinko ledger verify without a database: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
