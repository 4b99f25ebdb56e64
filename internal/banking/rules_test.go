package banking_test

import (
	"errors"
	"fmt"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/identity"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// side is one organization of the privileges table: its master, a user who
// requests the transfers that others decide on, and an account with money.
type side struct {
	org       org
	requester user
	account   banking.Account
	payee     banking.Account // another account of the organization
}

func (f *fixture) newSide(name string) side {
	o := f.newOrg(name)
	return side{org: o, requester: f.newUser(o, all), account: f.newAccount(o, 1_000_000), payee: f.newAccount(o, 0)}
}

// pending returns a new transfer of s awaiting approval.
func (f *fixture) pending(s side) banking.Transfer {
	f.t.Helper()
	return f.request(s.requester, s.account.ID, payeeOf(s.payee), 1_000)
}

// pendingBatch returns a new batch of s awaiting approval.
func (f *fixture) pendingBatch(s side) banking.Batch {
	f.t.Helper()
	b, err := f.svc.CreateBatch(f.ctx, s.requester.User, banking.BatchRequest{FromAccountID: s.account.ID,
		Items: []banking.BatchItem{{Payee: payeeOf(s.payee), Amount: 500}, {Payee: elsewhere, Amount: 700}}})
	if err != nil {
		f.t.Fatalf("create batch: %v", err)
	}
	return b
}

// TestPrivilegesTable checks every role against every action, on its own
// organization and on another: a missing privilege is ErrForbidden, another
// organization's object is ErrNotFound (never a hint that it exists), and
// a refusal changes nothing.
func TestPrivilegesTable(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		own, other := f.newSide("労組 自"), f.newSide("労組 他")

		roles := []struct {
			name string
			u    user
			p    banking.Privileges // what the role may do
		}{
			{"master", own.org.master, all},
			{"general without privileges", f.newUser(own.org, banking.Privileges{}), banking.Privileges{}},
			{"general with inquiry", f.newUser(own.org, banking.Privileges{Inquiry: true}), banking.Privileges{Inquiry: true}},
			{"general with transfer request", f.newUser(own.org, banking.Privileges{TransferRequest: true, TransactionLimit: 100_000, DailyLimit: 100_000}),
				banking.Privileges{TransferRequest: true}},
			{"general with approval", f.newUser(own.org, banking.Privileges{Approval: true}), banking.Privileges{Approval: true}},
		}

		type action struct {
			name string
			// allowed says whether the privileges allow it; master says it is
			// the master's alone.
			allowed func(banking.Privileges) bool
			master  bool
			// ownOnly: the action names no object of an organization.
			ownOnly bool
			// do runs it as u on side s; check, when set, confirms that a
			// refusal changed nothing.
			do func(u user, s side) (check func() error, err error)
		}
		see := func(p banking.Privileges) bool { return p.Inquiry || p.TransferRequest || p.Approval }
		inquiry := func(p banking.Privileges) bool { return p.Inquiry }
		request := func(p banking.Privileges) bool { return p.TransferRequest }
		approval := func(p banking.Privileges) bool { return p.Approval }
		unchanged := func(id int64) func() error {
			return func() error {
				if got := f.transfer(id); got.Status != banking.StatusAwaitingApproval {
					return fmt.Errorf("transfer %d is %s after a refusal", id, got.Status)
				}
				return nil
			}
		}
		unchangedBatch := func(id int64) func() error {
			return func() error {
				if got, _ := db.BatchByID(f.ctx, id); got.Status != banking.StatusAwaitingApproval {
					return fmt.Errorf("batch %d is %s after a refusal", id, got.Status)
				}
				return nil
			}
		}
		actions := []action{
			{name: "list accounts", allowed: inquiry, ownOnly: true, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.Accounts(f.ctx, u.User)
				return nil, err
			}},
			{name: "see account", allowed: inquiry, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.Account(f.ctx, u.User, s.account.ID)
				return nil, err
			}},
			{name: "see statement", allowed: inquiry, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.Transactions(f.ctx, u.User, s.account.ID, calendar.Date{}, calendar.Date{}, 1, 10)
				return nil, err
			}},
			{name: "register payee", allowed: request, ownOnly: true, do: func(u user, s side) (func() error, error) {
				p := elsewhere
				p.AccountNumber = fmt.Sprintf("%07d", accountSeq.Add(1))
				_, err := f.svc.RegisterPayee(f.ctx, u.User, banking.Payee{PayeeAccount: p})
				return nil, err
			}},
			{name: "list payees", allowed: request, ownOnly: true, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.Payees(f.ctx, u.User)
				return nil, err
			}},
			{name: "delete payee", allowed: request, do: func(u user, s side) (func() error, error) {
				p := elsewhere
				p.AccountNumber = fmt.Sprintf("%07d", accountSeq.Add(1))
				y, err := f.svc.RegisterPayee(f.ctx, s.requester.User, banking.Payee{PayeeAccount: p})
				if err != nil {
					t.Fatal(err)
				}
				return func() error {
					if _, err := db.PayeeByID(f.ctx, y.ID); err != nil {
						return fmt.Errorf("payee deleted by a refused call: %v", err)
					}
					return nil
				}, f.svc.DeletePayee(f.ctx, u.User, y.ID)
			}},
			{name: "request transfer", allowed: request, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.RequestTransfer(f.ctx, u.User, banking.TransferRequest{FromAccountID: s.account.ID, Payee: elsewhere, Amount: 1_000})
				return nil, err
			}},
			{name: "see transfer", allowed: see, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.Transfer(f.ctx, u.User, f.pending(s).ID)
				return nil, err
			}},
			{name: "see transfer history", allowed: see, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.TransferHistory(f.ctx, u.User, f.pending(s).ID)
				return nil, err
			}},
			{name: "list transfers", allowed: see, ownOnly: true, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.Transfers(f.ctx, u.User, banking.TransferQuery{})
				return nil, err
			}},
			{name: "approve", allowed: approval, do: func(u user, s side) (func() error, error) {
				tr := f.pending(s)
				_, err := f.svc.Approve(f.ctx, u.User, tr.ID, tr.Version, u.creds.Confirmation)
				return unchanged(tr.ID), err
			}},
			{name: "send back", allowed: approval, do: func(u user, s side) (func() error, error) {
				tr := f.pending(s)
				_, err := f.svc.SendBack(f.ctx, u.User, tr.ID, tr.Version, "金額を確認してください")
				return unchanged(tr.ID), err
			}},
			{name: "reject", allowed: approval, do: func(u user, s side) (func() error, error) {
				tr := f.pending(s)
				_, err := f.svc.Reject(f.ctx, u.User, tr.ID, tr.Version, "")
				return unchanged(tr.ID), err
			}},
			{name: "create batch", allowed: request, do: func(u user, s side) (func() error, error) {
				_, err := f.svc.CreateBatch(f.ctx, u.User, banking.BatchRequest{FromAccountID: s.account.ID,
					Items: []banking.BatchItem{{Payee: elsewhere, Amount: 100}}})
				return nil, err
			}},
			{name: "see batch", allowed: see, do: func(u user, s side) (func() error, error) {
				_, _, err := f.svc.Batch(f.ctx, u.User, f.pendingBatch(s).ID)
				return nil, err
			}},
			{name: "approve batch", allowed: approval, do: func(u user, s side) (func() error, error) {
				b := f.pendingBatch(s)
				_, err := f.svc.ApproveBatch(f.ctx, u.User, b.ID, b.Version, u.creds.Confirmation)
				return unchangedBatch(b.ID), err
			}},
			{name: "reject batch", allowed: approval, do: func(u user, s side) (func() error, error) {
				b := f.pendingBatch(s)
				_, err := f.svc.RejectBatch(f.ctx, u.User, b.ID, b.Version, "")
				return unchangedBatch(b.ID), err
			}},
			{name: "set privileges", master: true, do: func(u user, s side) (func() error, error) {
				target := f.bank.NewGeneralUser(t, s.org.Org)
				err := f.svc.SetPrivileges(f.ctx, u.User, target.LoginID, banking.Privileges{Inquiry: true})
				return func() error {
					tu := f.load(target)
					if p, _, _ := db.Privileges(f.ctx, tu.ID); p.Inquiry {
						return errors.New("privileges set by a refused call")
					}
					return nil
				}, err
			}},
		}

		for _, r := range roles {
			for _, a := range actions {
				for _, which := range []string{"own", "other"} {
					if which == "other" && a.ownOnly {
						continue
					}
					t.Run(r.name+"/"+a.name+"/"+which, func(t *testing.T) {
						s := own
						if which == "other" {
							s = other
						}
						allowed := r.name == "master"
						if !a.master && a.allowed != nil && a.allowed(r.p) {
							allowed = true
						}
						var want error
						switch {
						case !allowed:
							want = banking.ErrForbidden
						case which == "other":
							want = banking.ErrNotFound
						}
						check, err := a.do(r.u, s)
						wantErr(t, a.name, err, want)
						if want != nil && check != nil {
							if err := check(); err != nil {
								t.Error(err)
							}
						}
					})
				}
			}
		}
		f.verify()
	})
}

// TestSelfApprovalForbidden: the requester can never approve, send back or
// reject their own transfer or batch, the master user included.
func TestSelfApprovalForbidden(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(o, 0)
		general := f.newUser(o, all)
		for _, u := range []struct {
			name string
			u    user
		}{{"master", o.master}, {"general with every privilege", general}} {
			t.Run(u.name, func(t *testing.T) {
				tr := f.request(u.u, acct.ID, payeeOf(dest), 1_000)
				_, err := f.svc.Approve(f.ctx, u.u.User, tr.ID, tr.Version, u.u.creds.Confirmation)
				wantErr(t, "approve own", err, banking.ErrSelfApprovalForbidden)
				_, err = f.svc.SendBack(f.ctx, u.u.User, tr.ID, tr.Version, "自分で差戻し")
				wantErr(t, "send back own", err, banking.ErrSelfApprovalForbidden)
				_, err = f.svc.Reject(f.ctx, u.u.User, tr.ID, tr.Version, "")
				wantErr(t, "reject own", err, banking.ErrSelfApprovalForbidden)
				b, err := f.svc.CreateBatch(f.ctx, u.u.User, banking.BatchRequest{FromAccountID: acct.ID,
					Items: []banking.BatchItem{{Payee: elsewhere, Amount: 100}}})
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.svc.ApproveBatch(f.ctx, u.u.User, b.ID, b.Version, u.u.creds.Confirmation)
				wantErr(t, "approve own batch", err, banking.ErrSelfApprovalForbidden)
				if got := f.transfer(tr.ID); got.Status != banking.StatusAwaitingApproval {
					t.Errorf("status %s, want still awaiting approval", got.Status)
				}
				// Someone else may.
				other := o.master
				if u.u.ID == o.master.ID {
					other = general
				}
				f.approve(other, tr.ID)
			})
		}
		// The database refuses it too.
		tr := f.request(general, acct.ID, payeeOf(dest), 1_000)
		_, err := db.SQL().Exec(`UPDATE transfers SET approved_by = requested_by, approved_at = 1 WHERE id = $1`, tr.ID)
		if err == nil {
			t.Fatal("the database let the requester be the approver")
		}
		f.verify()
	})
}

// TestApprovalNeedsTheConfirmationPassword: a wrong confirmation password
// approves nothing and counts towards the lockout.
func TestApprovalNeedsTheConfirmationPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組")
		acct, dest := f.newAccount(o, 100_000), f.newAccount(o, 0)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		tr := f.request(req, acct.ID, payeeOf(dest), 1_000)
		for _, pw := range []string{"", appr.creds.Password, "wrong"} {
			_, err := f.svc.Approve(f.ctx, appr.User, tr.ID, tr.Version, pw)
			wantErr(t, "approve with "+pw, err, identity.ErrInvalidConfirmation)
		}
		if got := f.transfer(tr.ID); got.Status != banking.StatusAwaitingApproval {
			t.Fatalf("status %s after wrong passwords", got.Status)
		}
		reloaded := f.load(appr.creds)
		if reloaded.FailedLogins != 3 {
			t.Errorf("failed count %d, want 3", reloaded.FailedLogins)
		}
		f.approve(reloaded, tr.ID)
	})
}
