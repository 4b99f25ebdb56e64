package banking_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// thisBank is the bank code of the tests' bank; otherBank is another bank.
const (
	thisBank  = "2950"
	otherBank = "0005"
)

// t0 is 10:00 in Japan on Wednesday 1 April 2026, when every test starts.
var t0 = time.Date(2026, 4, 1, 10, 0, 0, 0, calendar.JST)

var day0 = calendar.DateOf(t0)

// fixture is a bank with the banking service on one database.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	bank  *testutil.Bank
	db    *store.DB
	svc   *banking.Service
	ident *identity.Service
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	b := testutil.NewBankAt(t, db, t0, nil)
	svc, err := banking.New(banking.Config{Store: db, Identity: b.Services.Identity, Now: b.Clock.Now, BankCode: thisBank})
	if err != nil {
		t.Fatalf("banking.New: %v", err)
	}
	return &fixture{t: t, ctx: context.Background(), bank: b, db: db, svc: svc, ident: b.Services.Identity}
}

// org is an organization of the tests, with its master user.
type org struct {
	testutil.Org
	master user
}

// user is a user with known passwords.
type user struct {
	identity.User
	creds testutil.Creds
}

func (f *fixture) newOrg(name string) org {
	f.t.Helper()
	o := f.bank.NewOrg(f.t, name, false)
	return org{Org: o, master: f.load(o.Master)}
}

func (f *fixture) load(c testutil.Creds) user {
	f.t.Helper()
	u, _, err := f.ident.UserByLoginID(f.ctx, c.LoginID)
	if err != nil {
		f.t.Fatalf("user %s: %v", c.LoginID, err)
	}
	return user{User: u, creds: c}
}

// newUser adds a general user to o with privileges p.
func (f *fixture) newUser(o org, p banking.Privileges) user {
	f.t.Helper()
	c := f.bank.NewGeneralUser(f.t, o.Org)
	if err := f.svc.SetPrivileges(f.ctx, o.master.User, c.LoginID, p); err != nil {
		f.t.Fatalf("set privileges of %s: %v", c.LoginID, err)
	}
	return f.load(c)
}

// all is every privilege with generous limits.
var all = banking.Privileges{Inquiry: true, TransferRequest: true, Approval: true, TransactionLimit: 5_000_000, DailyLimit: 5_000_000}

var accountSeq atomic.Int64

// newAccount opens an ordinary account for o with balance yen in it.
func (f *fixture) newAccount(o org, balance int64) banking.Account {
	f.t.Helper()
	n := accountSeq.Add(1)
	a, err := f.svc.OpenAccount(f.ctx, o.Code, banking.Ordinary, "101", fmt.Sprintf("%07d", 1000000+n), "ﾛｳｸﾐ ﾃｽﾄ", "test", "REQ-OPEN")
	if err != nil {
		f.t.Fatalf("open account: %v", err)
	}
	if balance > 0 {
		f.deposit(a.ID, balance)
	}
	a.Balance = balance
	return a
}

// depositRefs numbers the fixtures' deposits: a reference is used once.
var depositRefs atomic.Int64

func (f *fixture) deposit(accountID, amount int64) banking.Posting {
	f.t.Helper()
	p, err := f.svc.Deposit(f.ctx, accountID, amount, "ﾌﾘｺﾐ ﾃｽﾄ", "test", fmt.Sprintf("REQ-DEP-%d", depositRefs.Add(1)))
	if err != nil {
		f.t.Fatalf("deposit: %v", err)
	}
	return p
}

func (f *fixture) balance(id int64) int64 {
	f.t.Helper()
	var b int64
	if err := f.db.SQL().QueryRow(`SELECT balance FROM accounts WHERE id = $1`, id).Scan(&b); err != nil {
		f.t.Fatalf("balance of %d: %v", id, err)
	}
	return b
}

// payeeOf is the payee account of an account at this bank.
func payeeOf(a banking.Account) banking.PayeeAccount {
	return banking.PayeeAccount{BankCode: thisBank, BranchCode: a.BranchCode, AccountType: a.Type, AccountNumber: a.Number, Name: "ｳｹﾄﾘ"}
}

// elsewhere is a payee at another bank.
var elsewhere = banking.PayeeAccount{BankCode: otherBank, BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: "7654321", Name: "ﾀﾅｶ ﾊﾅｺ"}

// request requests a transfer of amount from a to p by u, today.
func (f *fixture) request(u user, from int64, p banking.PayeeAccount, amount int64) banking.Transfer {
	f.t.Helper()
	t, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: from, Payee: p, Amount: amount})
	if err != nil {
		f.t.Fatalf("request transfer: %v", err)
	}
	return t
}

func (f *fixture) approve(u user, id int64) banking.Transfer {
	f.t.Helper()
	t, err := f.svc.Approve(f.ctx, u.User, id, f.transfer(id).Version, u.creds.Confirmation)
	if err != nil {
		f.t.Fatalf("approve %d: %v", id, err)
	}
	return t
}

func (f *fixture) transfer(id int64) banking.Transfer {
	f.t.Helper()
	t, err := f.db.TransferByID(f.ctx, id)
	if err != nil {
		f.t.Fatalf("transfer %d: %v", id, err)
	}
	return t
}

// verify fails the test unless the ledger is sound.
func (f *fixture) verify() {
	f.t.Helper()
	problems, err := f.svc.VerifyLedger(f.ctx)
	if err != nil {
		f.t.Fatalf("verify ledger: %v", err)
	}
	for _, p := range problems {
		f.t.Errorf("ledger: %s", p)
	}
}

// count runs a COUNT(*) query.
func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// wantErr fails unless err is want (nil: no error).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}
