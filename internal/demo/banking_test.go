package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/demo"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestSeed seeds the demo at a fixed moment and checks its history: every
// posting and audit event at its past time, in order; a sound ledger; dues
// in, transfers requested by the general users and approved by the
// masters; one transfer awaiting each master's approval; and a second seed
// that changes nothing.
func TestSeed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 4, 15, 13, 20, 0, 0, calendar.JST) // a Wednesday
		c := demo.Config{Store: db, Hasher: testutil.FastHasher, BankCode: "2950", Now: func() time.Time { return now }}
		orgs, err := demo.Seed(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: testutil.FastHasher}})
		if err != nil {
			t.Fatal(err)
		}
		bank, err := banking.New(banking.Config{Store: db, Identity: ident, BankCode: "2950", Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if problems, err := bank.VerifyLedger(ctx); err != nil || len(problems) != 0 {
			t.Fatalf("ledger: %v, %v", problems, err)
		}
		start, today := calendar.NewDate(2026, 1, 15), calendar.DateOf(now)

		postings := 0
		for _, o := range orgs {
			master, _, err := ident.UserByLoginID(ctx, o.Users[0].LoginID)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Accounts) == 0 {
				t.Fatalf("%s: no accounts", o.Name)
			}
			for _, a := range o.Accounts {
				acct, ps, err := bank.AllTransactions(ctx, master, a.ID, calendar.Date{}, calendar.Date{})
				if err != nil {
					t.Fatal(err)
				}
				postings += len(ps)
				if acct.Balance != a.Balance || acct.Number != a.Number || string(acct.Type) != a.Type || acct.Balance <= 0 {
					t.Errorf("%s: account %+v, demo says %+v", o.Name, acct, a)
				}
				if acct.OpenedAt.In(calendar.JST).Format(time.DateOnly) != start.String() {
					t.Errorf("account %s opened at %v, want on %s", a.Number, acct.OpenedAt, start)
				}
				for i, p := range ps {
					if p.Date.Before(start) || !p.Date.Before(today) || calendar.DateOf(p.CreatedAt) != p.Date {
						t.Errorf("posting %+v: booked outside %s..%s or not at its own time", p, start, today)
					}
					if i > 0 && p.CreatedAt.Before(ps[i-1].CreatedAt) {
						t.Errorf("posting %d made before the one before it", p.ID)
					}
				}
				if len(ps) < 10 || ps[len(ps)-1].Date.Before(today.AddDays(-7)) {
					t.Errorf("account %s: %d postings up to %s; want a history up to this week", a.Number, len(ps), ps[len(ps)-1].Date)
				}
			}
			page, err := bank.Transfers(ctx, master, banking.TransferQuery{PerPage: banking.MaxPerPage})
			if err != nil {
				t.Fatal(err)
			}
			// Every payee of the demo is a bank and branch the names know,
			// so that the pages show names beside the codes.
			payees, err := bank.Payees(ctx, master)
			if err != nil || len(payees) == 0 {
				t.Fatalf("%s: payees %v, %v", o.Name, payees, err)
			}
			for _, p := range payees {
				if bankName, branchName := bank.PayeeNames(p.PayeeAccount); bankName == "" || branchName == "" {
					t.Errorf("%s: payee %s-%s has no names (%q %q)", o.Name, p.BankCode, p.BranchCode, bankName, branchName)
				}
			}
			awaiting, interbank := 0, 0
			for _, tr := range page.Transfers {
				requester, _, err := ident.UserByID(ctx, tr.RequestedBy)
				if err != nil {
					t.Fatal(err)
				}
				if requester.Role != identity.RoleGeneral {
					t.Errorf("transfer %d requested by %s, want a general user", tr.ID, requester.LoginID)
				}
				switch tr.Status {
				case banking.StatusAwaitingApproval:
					awaiting++
					if !tr.ExecutionDate.After(today) {
						t.Errorf("transfer awaiting approval dated %s, want after today", tr.ExecutionDate)
					}
				case banking.StatusExecuted:
					if tr.ApprovedBy != master.ID || tr.Interbank == tr.InterbankSentAt.IsZero() {
						t.Errorf("executed transfer %+v: want approved by the master, sent if to another bank", tr)
					}
					if tr.Interbank {
						interbank++
						// The demo charges the default fees: 220 or 330 yen to other banks.
						if want := banking.DefaultFees().OtherBank.Of(tr.Amount); tr.Fee != want || want == 0 {
							t.Errorf("transfer %d of %d yen to another bank: fee %d, want %d", tr.ID, tr.Amount, tr.Fee, want)
						}
					}
				default:
					t.Errorf("transfer %d: %s", tr.ID, tr.Status)
				}
			}
			if awaiting != 1 || o.Pending == nil || o.Pending.RequestedBy != o.Users[1].LoginID {
				t.Errorf("%s: %d transfers awaiting approval, pending %+v; want one by %s", o.Name, awaiting, o.Pending, o.Users[1].LoginID)
			}
			if interbank == 0 {
				t.Errorf("%s: no executed transfer to another bank, whose fee the demo shows", o.Name)
			}
			if len(page.Transfers) < 7 {
				t.Errorf("%s: %d transfers, want a few each month", o.Name, len(page.Transfers))
			}
		}

		// The union's members pay their dues (組合費) every month.
		hikari, _, err := ident.UserByLoginID(ctx, "sato0001")
		if err != nil {
			t.Fatal(err)
		}
		_, ps, err := bank.AllTransactions(ctx, hikari, orgs[0].Accounts[0].ID, calendar.NewDate(2026, 3, 1), calendar.NewDate(2026, 3, 31))
		if err != nil {
			t.Fatal(err)
		}
		var dues []string
		fees := 0
		for _, p := range ps {
			if strings.HasPrefix(p.Description, "ｸﾐｱｲﾋ ") {
				dues = append(dues, p.Description)
			}
			if p.Kind == banking.PostingFee && p.Description == banking.FeeDescription && p.Amount < 0 {
				fees++
			}
		}
		if fees == 0 {
			t.Errorf("no fee postings (振込手数料) in March: %+v", ps)
		}
		if len(dues) < 10 || !strings.Contains(strings.Join(dues, ","), "ｸﾐｱｲﾋ ﾀﾅｶ ｲﾁﾛｳ") {
			t.Errorf("dues in March: %v", dues)
		}

		// The audit log tells the history in order, up to now.
		evs, err := db.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range evs {
			if ev.At.After(now) || ev.At.Before(start.Time()) || (i > 0 && ev.At.Before(evs[i-1].At)) {
				t.Errorf("audit event %d %s at %v: out of order or outside the history", i, ev.Type, ev.At)
			}
		}

		// A second start seeds nothing.
		again, err := demo.Seed(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		evs2, err := db.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs2) != len(evs) {
			t.Errorf("the second seed wrote %d audit events", len(evs2)-len(evs))
		}
		for i := range orgs {
			if again[i].Code != orgs[i].Code || again[i].Accounts[0] != orgs[i].Accounts[0] || *again[i].Pending != *orgs[i].Pending {
				t.Errorf("second seed: %+v, first %+v", again[i], orgs[i])
			}
		}
		if postings < 60 {
			t.Errorf("%d postings in three months, want more", postings)
		}
	})
}
