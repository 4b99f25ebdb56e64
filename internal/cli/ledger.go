package cli

import (
	"context"
	"errors"
	"fmt"

	"kinko/internal/calendar"
	"kinko/internal/identity"
)

// errLedgerBroken is the error of a verify that found problems; they are
// already printed.
var errLedgerBroken = errors.New("the ledger does not match: see the problems above")

const ledgerUsage = `Usage:
  kinko ledger verify --data DIR|--db DSN
        check that every balance equals the sum of its account's postings and that
        every executed transfer has its postings exactly once; exit 1 and list every
        problem if not
`

// runLedger is "kinko ledger": check the ledger of postings.
func runLedger(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(env.Stdout, ledgerUsage)
			return nil
		}
		fmt.Fprint(env.Stderr, ledgerUsage)
		return usageErr("verify is required")
	}
	return ledgerVerify(ctx, args[1:], env)
}

func ledgerVerify(ctx context.Context, args []string, env Env) error {
	fs := newFlags("ledger verify", env)
	data := fs.String("data", "", "data directory (SQLite database)")
	dsn := fs.String("db", "", "PostgreSQL DSN")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	db, err := openAuditDB(ctx, *data, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: identity.DefaultParams}})
	if err != nil {
		return err
	}
	svc, err := newBanking(db, ident, "")
	if err != nil {
		return err
	}
	problems, err := svc.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(env.Stdout, "PROBLEM: %s\n", p)
		}
		fmt.Fprintf(env.Stdout, "%d problem(s) found.\n", len(problems))
		return errLedgerBroken
	}
	// What was checked, for the report.
	orgs, err := ident.ListOrganizations(ctx)
	if err != nil {
		return err
	}
	var accounts, postings int
	for _, o := range orgs {
		accts, err := db.Accounts(ctx, o.ID)
		if err != nil {
			return err
		}
		accounts += len(accts)
		for _, a := range accts {
			_, n, err := db.Postings(ctx, a.ID, calendar.Date{}, calendar.Date{}, 0, 1)
			if err != nil {
				return err
			}
			postings += n
		}
	}
	fmt.Fprintf(env.Stdout, "OK: %d accounts, %d postings, balances match\n", accounts, postings)
	return nil
}
