package operators_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// rig is a bank with its operators: two approvers, a clerk and an auditor.
type rig struct {
	b                              *testutil.Bank
	svc                            *operators.Service
	clerk, approver, boss, auditor operators.Staff
	org                            testutil.Org
	account                        banking.Account
	ctx                            context.Context
}

func newRig(t *testing.T, db *store.DB) *rig {
	t.Helper()
	ctx := context.Background()
	b := testutil.NewBank(t, db)
	svc, err := operators.New(operators.Config{Store: db, Now: b.Clock.Now,
		Actions: server.OperatorActions{Identity: b.Services.Identity, Certs: b.Services.Certs, Banking: b.Services.Banking}})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{b: b, svc: svc, ctx: ctx}
	add := func(name string, role operators.Role) operators.Staff {
		st, err := svc.AddStaff(ctx, operators.NewStaff{Name: name, DisplayName: "職員 " + name, Role: role}, "")
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		return st
	}
	r.clerk, r.approver, r.boss, r.auditor = add("sato", operators.RoleClerk), add("suzuki", operators.RoleApprover),
		add("takahashi", operators.RoleApprover), add("tanaka", operators.RoleAuditor)
	r.org = b.NewOrg(t, "株式会社テスト", false)
	r.account, err = b.Services.Banking.OpenAccount(ctx, r.org.Code, banking.Ordinary, "001", "1234567", "ｶ)ﾃｽﾄ", "test", "ACC-1")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) file(t *testing.T, maker operators.Staff, kind operators.Kind, ref string, params any) operators.Request {
	t.Helper()
	req, err := r.svc.File(r.ctx, maker, kind, ref, params)
	if err != nil {
		t.Fatalf("file %s %s: %v", kind, ref, err)
	}
	if req.Status != operators.StatusPending || req.Maker != maker.Name {
		t.Fatalf("filed request: %+v", req)
	}
	return req
}

func (r *rig) balance(t *testing.T) int64 {
	t.Helper()
	a, err := r.b.Services.Banking.LookupAccount(r.ctx, "001", banking.Ordinary, "1234567")
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

func (r *rig) user(t *testing.T, loginID string) identity.User {
	t.Helper()
	u, _, err := r.b.Services.Identity.UserByLoginID(r.ctx, loginID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// kindCase is one kind of request: how to prepare for it, its
// parameters, and whether it took effect.
type kindCase struct {
	kind    operators.Kind
	prepare func(t *testing.T, r *rig) any
	done    func(t *testing.T, r *rig, params any) bool
}

func kindCases() []kindCase {
	return []kindCase{
		{operators.KindOrganizationCreate,
			func(t *testing.T, r *rig) any {
				return operators.OrganizationCreate{Name: "新規株式会社", MasterLoginID: "newmaster01", MasterEmail: "m@example.org"}
			},
			func(t *testing.T, r *rig, _ any) bool {
				_, _, err := r.b.Services.Identity.UserByLoginID(r.ctx, "newmaster01")
				return err == nil
			}},
		{operators.KindCertificateLogin,
			func(t *testing.T, r *rig) any {
				return operators.CertificateLogin{OrganizationCode: r.org.Code, Enable: true}
			},
			func(t *testing.T, r *rig, _ any) bool {
				org, err := r.b.Services.Identity.OrganizationByCode(r.ctx, r.org.Code)
				if err != nil {
					t.Fatal(err)
				}
				return org.CertificateLogin
			}},
		{operators.KindCertificateRevoke,
			func(t *testing.T, r *rig) any {
				if _, err := r.b.Services.Identity.SetCertificateLogin(r.ctx, r.org.Code, true, "operator:test", "CL-0"); err != nil {
					t.Fatal(err)
				}
				c := r.b.IssueCertificate(t, r.org.Master)
				return operators.CertificateRevoke{Serial: pki.SerialHex(c.Leaf.SerialNumber), Reason: "keyCompromise"}
			},
			func(t *testing.T, r *rig, p any) bool {
				c, err := r.b.Services.Certs.BySerial(r.ctx, p.(operators.CertificateRevoke).Serial)
				if err != nil {
					t.Fatal(err)
				}
				return c.Status == certs.StatusRevoked
			}},
		{operators.KindUserUnlock,
			func(t *testing.T, r *rig) any {
				r.b.LockUser(t, r.org.Master.LoginID)
				return operators.UserUnlock{LoginID: r.org.Master.LoginID}
			},
			func(t *testing.T, r *rig, _ any) bool { return !r.user(t, r.org.Master.LoginID).Locked() }},
		{operators.KindPasswordReset,
			func(t *testing.T, r *rig) any { return operators.PasswordReset{LoginID: r.org.Master.LoginID} },
			func(t *testing.T, r *rig, _ any) bool {
				u := r.user(t, r.org.Master.LoginID)
				return u.PasswordChangeRequired && u.ConfirmationChangeRequired
			}},
		{operators.KindDeposit,
			func(t *testing.T, r *rig) any {
				return operators.Deposit{BranchCode: "001", AccountType: "ordinary", AccountNumber: "1234567", Amount: 50000, Description: "ﾌﾘｺﾐ"}
			},
			func(t *testing.T, r *rig, _ any) bool { return r.balance(t) == 50000 }},
		{operators.KindLimitSet,
			func(t *testing.T, r *rig) any {
				return operators.LimitSet{OrganizationCode: r.org.Code, Daily: 123456}
			},
			func(t *testing.T, r *rig, _ any) bool {
				n, err := r.b.Services.Banking.OrganizationDailyLimit(r.ctx, r.org.ID)
				if err != nil {
					t.Fatal(err)
				}
				return n == 123456
			}},
	}
}

// TestEachKindTakesEffectOnlyWhenASecondOperatorApproves: a filed request
// does nothing until an approver other than its maker approves it; then
// its action is done, and the request and the audit log say who did what.
func TestEachKindTakesEffectOnlyWhenASecondOperatorApproves(t *testing.T) {
	for _, kc := range kindCases() {
		t.Run(string(kc.kind), func(t *testing.T) {
			testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
				r := newRig(t, db)
				p := kc.prepare(t, r)
				ref := "REF-" + string(kc.kind)
				req := r.file(t, r.clerk, kc.kind, ref, p)
				if kc.done(t, r, p) {
					t.Fatal("the action took effect when the request was filed")
				}
				got, out, err := r.svc.Approve(r.ctx, r.approver, req.ID)
				if err != nil {
					t.Fatalf("approve: %v", err)
				}
				if !kc.done(t, r, p) {
					t.Fatal("the approved request's action did not take effect")
				}
				if got.Status != operators.StatusApproved || got.Checker != r.approver.Name || got.Maker != r.clerk.Name || got.DecidedAt.IsZero() {
					t.Errorf("approved request: %+v", got)
				}
				stored, err := r.svc.Get(r.ctx, req.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.Status != operators.StatusApproved || stored.Checker != r.approver.Name || len(stored.Result) == 0 {
					t.Errorf("stored request: %+v", stored)
				}
				switch kc.kind {
				case operators.KindOrganizationCreate, operators.KindPasswordReset:
					if out.Passwords == nil || out.Passwords.Password == "" || out.Passwords.ConfirmationPassword == "" {
						t.Errorf("no initial passwords shown: %+v", out)
					}
					if out.Passwords != nil && (strings.Contains(string(stored.Result), out.Passwords.Password) ||
						strings.Contains(string(stored.Result), out.Passwords.ConfirmationPassword)) {
						t.Errorf("the stored result holds a password: %s", stored.Result)
					}
					if stored.OrganizationCode == "" {
						t.Error("the request names no organization")
					}
				default:
					if out.Passwords != nil {
						t.Errorf("passwords shown for %s", kc.kind)
					}
					if stored.OrganizationCode != r.org.Code {
						t.Errorf("request's organization %q, want %q", stored.OrganizationCode, r.org.Code)
					}
				}
				events, err := db.ListAudit(r.ctx, store.AuditFilter{})
				if err != nil {
					t.Fatal(err)
				}
				var filed, approved bool
				for _, ev := range events {
					filed = filed || ev.Type == audit.OperatorRequestFiled && ev.Actor == "operator:sato" && ev.RequestRef == ref
					approved = approved || ev.Type == audit.OperatorRequestApproved && ev.Actor == "operator:suzuki" && ev.RequestRef == ref
				}
				if !filed || !approved {
					t.Errorf("audit: filed %v approved %v", filed, approved)
				}
			})
		})
	}
}

// TestRejectedRequestDoesNothing: a rejected request keeps its reason and
// its action never happens, not even by a later approval.
func TestRejectedRequestDoesNothing(t *testing.T) {
	for _, kc := range kindCases() {
		t.Run(string(kc.kind), func(t *testing.T) {
			testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
				r := newRig(t, db)
				p := kc.prepare(t, r)
				req := r.file(t, r.clerk, kc.kind, "REJ-1", p)
				got, err := r.svc.Reject(r.ctx, r.approver, req.ID, "申込書の印影が違う")
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != operators.StatusRejected || got.Reason != "申込書の印影が違う" || got.Checker != r.approver.Name {
					t.Errorf("rejected request: %+v", got)
				}
				if _, _, err := r.svc.Approve(r.ctx, r.boss, req.ID); !errors.Is(err, operators.ErrDecided) {
					t.Errorf("approving a rejected request: %v, want ErrDecided", err)
				}
				if kc.done(t, r, p) {
					t.Error("a rejected request took effect")
				}
			})
		})
	}
}

// TestOperatorCannotApproveOwnRequest: the maker is never the checker, an
// approver's own request included, whatever the case of the name.
func TestOperatorCannotApproveOwnRequest(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		p := operators.Deposit{BranchCode: "001", AccountType: "ordinary", AccountNumber: "1234567", Amount: 1000, Description: "ﾌﾘｺﾐ"}
		req := r.file(t, r.approver, operators.KindDeposit, "DEP-OWN", p)
		if _, _, err := r.svc.Approve(r.ctx, r.approver, req.ID); !errors.Is(err, operators.ErrOwnRequest) {
			t.Errorf("approve own request: %v, want ErrOwnRequest", err)
		}
		if _, _, err := r.svc.Approve(r.ctx, operators.Staff{Name: "SUZUKI"}, req.ID); !errors.Is(err, operators.ErrOwnRequest) {
			t.Errorf("approve own request, name in upper case: %v, want ErrOwnRequest", err)
		}
		if _, err := r.svc.Reject(r.ctx, r.approver, req.ID, "取り下げ"); !errors.Is(err, operators.ErrOwnRequest) {
			t.Errorf("reject own request: %v, want ErrOwnRequest", err)
		}
		if r.balance(t) != 0 {
			t.Fatal("the deposit was made")
		}
		if _, _, err := r.svc.Approve(r.ctx, r.boss, req.ID); err != nil {
			t.Fatalf("a second approver: %v", err)
		}
		if r.balance(t) != 1000 {
			t.Fatalf("balance %d after approval", r.balance(t))
		}
	})
}

// TestOnlyAnApproverDecides: a clerk or an auditor neither approves nor
// rejects; an auditor files nothing; a disabled approver decides nothing.
func TestOnlyAnApproverDecides(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		p := operators.LimitSet{OrganizationCode: r.org.Code, Daily: 1}
		if _, err := r.svc.File(r.ctx, r.auditor, operators.KindLimitSet, "LIM-A", p); !errors.Is(err, operators.ErrForbidden) {
			t.Errorf("an auditor files: %v, want ErrForbidden", err)
		}
		req := r.file(t, r.boss, operators.KindLimitSet, "LIM-1", p)
		for _, st := range []operators.Staff{r.clerk, r.auditor, {Name: "nobody"}} {
			if _, _, err := r.svc.Approve(r.ctx, st, req.ID); !errors.Is(err, operators.ErrForbidden) {
				t.Errorf("%s approves: %v, want ErrForbidden", st.Name, err)
			}
			if _, err := r.svc.Reject(r.ctx, st, req.ID, "no"); !errors.Is(err, operators.ErrForbidden) {
				t.Errorf("%s rejects: %v, want ErrForbidden", st.Name, err)
			}
		}
		if err := r.svc.DisableStaff(r.ctx, r.boss, r.approver.Name); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.svc.Approve(r.ctx, r.approver, req.ID); !errors.Is(err, operators.ErrForbidden) {
			t.Errorf("a disabled approver approves: %v, want ErrForbidden", err)
		}
		got, err := r.svc.Get(r.ctx, req.ID)
		if err != nil || got.Status != operators.StatusPending {
			t.Errorf("request after refused decisions: %+v, %v", got, err)
		}
	})
}

// TestRequestRefUsedOncePerKind: a second request of a kind under a
// reference is refused; the same reference for another kind is not.
func TestRequestRefUsedOncePerKind(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		dep := operators.Deposit{BranchCode: "001", AccountType: "ordinary", AccountNumber: "1234567", Amount: 1000, Description: "ﾌﾘｺﾐ"}
		r.file(t, r.clerk, operators.KindDeposit, "DEP-1", dep)
		if _, err := r.svc.File(r.ctx, r.clerk, operators.KindDeposit, "DEP-1", dep); !errors.Is(err, operators.ErrRefUsed) {
			t.Errorf("a second deposit under DEP-1: %v, want ErrRefUsed", err)
		}
		if _, err := r.svc.File(r.ctx, r.boss, operators.KindDeposit, " DEP-1 ", dep); !errors.Is(err, operators.ErrRefUsed) {
			t.Errorf("a second deposit under DEP-1 with spaces: %v, want ErrRefUsed", err)
		}
		r.file(t, r.clerk, operators.KindLimitSet, "DEP-1", operators.LimitSet{OrganizationCode: r.org.Code, Daily: 5})
		for _, c := range []struct {
			f    operators.Filter
			want int
		}{
			{operators.Filter{}, 2},
			{operators.Filter{Kind: operators.KindDeposit}, 1},
			{operators.Filter{Status: operators.StatusPending, OrganizationCode: r.org.Code}, 2},
			{operators.Filter{OrganizationCode: "99999999"}, 0},
			{operators.Filter{Status: operators.StatusApproved}, 0},
			{operators.Filter{Limit: 1}, 1},
		} {
			if list, err := r.svc.List(r.ctx, c.f); err != nil || len(list) != c.want {
				t.Errorf("list %+v: %d requests, %v; want %d", c.f, len(list), err, c.want)
			}
		}
		for _, bad := range []string{"", "   ", string(make([]byte, 65))} {
			if _, err := r.svc.File(r.ctx, r.clerk, operators.KindDeposit, bad, dep); !errors.Is(err, operators.ErrInvalid) {
				t.Errorf("ref %q: %v, want ErrInvalid", bad, err)
			}
		}
	})
}

// TestDepositRefUsedOnceInTheLedger: the ledger itself refuses a second
// deposit under one written request's reference, to any account.
func TestDepositRefUsedOnceInTheLedger(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		bk := r.b.Services.Banking
		if _, err := bk.Deposit(r.ctx, r.account.ID, 1000, "ﾌﾘｺﾐ", "test", "DEP-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := bk.Deposit(r.ctx, r.account.ID, 1000, "ﾌﾘｺﾐ", "test", "DEP-1"); !errors.Is(err, banking.ErrDepositRefUsed) {
			t.Errorf("a second deposit under DEP-1: %v, want ErrDepositRefUsed", err)
		}
		if r.balance(t) != 1000 {
			t.Errorf("balance %d, want 1000", r.balance(t))
		}
	})
}

// TestRacingApprovalsActOnce: many approvers approving one request at once
// make one deposit; the others are told it was decided.
func TestRacingApprovalsActOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		var approvers []operators.Staff
		for i := range 8 {
			st, err := r.svc.AddStaff(r.ctx, operators.NewStaff{Name: fmt.Sprintf("ap%d", i), DisplayName: "承認者", Role: operators.RoleApprover}, "")
			if err != nil {
				t.Fatal(err)
			}
			approvers = append(approvers, st)
		}
		req := r.file(t, r.clerk, operators.KindDeposit, "DEP-RACE",
			operators.Deposit{BranchCode: "001", AccountType: "ordinary", AccountNumber: "1234567", Amount: 7000, Description: "ﾌﾘｺﾐ"})
		var wg sync.WaitGroup
		errs := make([]error, 32)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = r.svc.Approve(r.ctx, approvers[i%len(approvers)], req.ID) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, operators.ErrDecided):
				t.Errorf("a losing approval: %v, want ErrDecided", err)
			}
		}
		if won != 1 {
			t.Errorf("%d approvals won, want 1", won)
		}
		if got := r.balance(t); got != 7000 {
			t.Errorf("balance %d, want one deposit of 7000", got)
		}
	})
}

// TestFailedActionLeavesRequestFailed: an approved request whose action is
// refused (the user was unlocked between filing and approval) is failed,
// with the reason, and did nothing; it cannot be approved again.
func TestFailedActionLeavesRequestFailed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		r.b.LockUser(t, r.org.Master.LoginID)
		req := r.file(t, r.clerk, operators.KindUserUnlock, "UNL-1", operators.UserUnlock{LoginID: r.org.Master.LoginID})
		// Meanwhile the user is unlocked by another way.
		if err := r.b.Services.Identity.UnlockByBank(r.ctx, r.org.Master.LoginID, "test", "UNL-0"); err != nil {
			t.Fatal(err)
		}
		got, _, err := r.svc.Approve(r.ctx, r.approver, req.ID)
		if !errors.Is(err, operators.ErrActionFailed) || !errors.Is(err, identity.ErrNotLocked) {
			t.Fatalf("approve the unlock of a user not locked: %v", err)
		}
		if got.Status != operators.StatusFailed || got.Reason == "" {
			t.Errorf("returned request: %+v", got)
		}
		stored, err := r.svc.Get(r.ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Status != operators.StatusFailed || stored.Reason != identity.ErrNotLocked.Error() || stored.Checker != r.approver.Name {
			t.Errorf("stored request: %+v", stored)
		}
		if _, _, err := r.svc.Approve(r.ctx, r.boss, req.ID); !errors.Is(err, operators.ErrDecided) {
			t.Errorf("approve a failed request again: %v, want ErrDecided", err)
		}
		events, err := db.ListAudit(r.ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		failed := false
		for _, ev := range events {
			failed = failed || ev.Type == audit.OperatorRequestFailed && ev.RequestRef == "UNL-1" && ev.OrganizationID == r.org.ID
		}
		if !failed {
			t.Error("no request_failed event for the organization")
		}
		list, err := r.svc.List(r.ctx, operators.Filter{Status: operators.StatusFailed})
		if err != nil || len(list) != 1 || list[0].ID != req.ID {
			t.Errorf("list of failed requests: %+v, %v", list, err)
		}
	})
}

// TestFilingChecksWhatTheRequestNames: a request for something that does
// not exist, or for a password reset of a general user, is not filed.
func TestFilingChecksWhatTheRequestNames(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		general := r.b.NewGeneralUser(t, r.org)
		cases := []struct {
			kind   operators.Kind
			params any
			want   error
		}{
			{operators.KindPasswordReset, operators.PasswordReset{LoginID: general.LoginID}, identity.ErrPasswordResetByMaster},
			{operators.KindUserUnlock, operators.UserUnlock{LoginID: "nosuchuser1"}, identity.ErrNotFound},
			{operators.KindUserUnlock, operators.UserUnlock{LoginID: r.org.Master.LoginID}, identity.ErrNotLocked},
			{operators.KindCertificateLogin, operators.CertificateLogin{OrganizationCode: r.org.Code, Enable: false}, identity.ErrCertificateLoginUnchanged},
			{operators.KindLimitSet, operators.LimitSet{OrganizationCode: "99999999", Daily: 1}, identity.ErrNotFound},
			{operators.KindDeposit, operators.Deposit{BranchCode: "001", AccountType: "ordinary", AccountNumber: "7654321", Amount: 1, Description: "x"}, banking.ErrNotFound},
			{operators.KindDeposit, operators.Deposit{BranchCode: "001", AccountType: "ordinary", AccountNumber: "1234567", Amount: 0, Description: "x"}, operators.ErrInvalid},
			{operators.KindCertificateRevoke, operators.CertificateRevoke{Serial: "abc", Reason: "stolen"}, operators.ErrInvalid},
			{operators.KindOrganizationCreate, operators.OrganizationCreate{Name: "x", MasterLoginID: r.org.Master.LoginID, MasterEmail: "a@example.org"}, identity.ErrLoginIDTaken},
			{operators.KindDeposit, json.RawMessage(`{"amount": 1, "extra": true}`), operators.ErrInvalid},
		}
		for i, c := range cases {
			_, err := r.svc.File(r.ctx, r.clerk, c.kind, fmt.Sprintf("BAD-%d", i), c.params)
			if !errors.Is(err, c.want) || !errors.Is(err, operators.ErrInvalid) {
				t.Errorf("%s %+v: %v, want %v", c.kind, c.params, err, c.want)
			}
		}
		if list, err := r.svc.List(r.ctx, operators.Filter{}); err != nil || len(list) != 0 {
			t.Errorf("requests filed: %d, %v", len(list), err)
		}
	})
}

// TestPasswordResetEndsSessionsAndRequiresChange: the bank's reset of a
// master's passwords ends the master's open sessions, unlocks, and the new
// passwords must both be changed at the next login.
func TestPasswordResetEndsSessionsAndRequiresChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		cl := r.b.Client(nil)
		login := func(pw string) testutil.Response {
			return cl.Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": r.org.Master.LoginID, "password": pw})
		}
		if got := login(r.org.Master.Password); got.Status != http.StatusCreated {
			t.Fatalf("login: %d %s", got.Status, got.Raw)
		}
		if got := cl.Portal(http.MethodGet, "/api/v1/me", nil); got.Status != http.StatusOK {
			t.Fatalf("me before the reset: %d", got.Status)
		}
		r.b.LockUser(t, r.org.Master.LoginID)
		req := r.file(t, r.clerk, operators.KindPasswordReset, "PWR-1", operators.PasswordReset{LoginID: r.org.Master.LoginID})
		_, out, err := r.svc.Approve(r.ctx, r.approver, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := cl.Portal(http.MethodGet, "/api/v1/me", nil); got.Status != http.StatusUnauthorized {
			t.Errorf("the master's session after the reset: %d, want 401", got.Status)
		}
		u := r.user(t, r.org.Master.LoginID)
		if u.Locked() || u.FailedLogins != 0 || !u.PasswordChangeRequired || !u.ConfirmationChangeRequired {
			t.Errorf("master after the reset: locked %v failures %d change %v/%v", u.Locked(), u.FailedLogins, u.PasswordChangeRequired, u.ConfirmationChangeRequired)
		}
		if got := login(r.org.Master.Password); got.Status == http.StatusCreated {
			t.Error("the old password still logs in")
		}
		got := login(out.Passwords.Password)
		if got.Status != http.StatusCreated || got.Body["password_change_required"] != true {
			t.Errorf("login with the new password: %d %s", got.Status, got.Raw)
		}
		if err := r.b.Services.Identity.CheckPassword(r.ctx, r.user(t, r.org.Master.LoginID), identity.ConfirmationPassword, out.Passwords.ConfirmationPassword, "test"); err != nil {
			t.Errorf("the new confirmation password: %v", err)
		}
		events, err := db.ListAudit(r.ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		reset := false
		for _, ev := range events {
			reset = reset || ev.Type == audit.PasswordsReset && ev.Actor == "operator:suzuki" && ev.RequestRef == "PWR-1" && ev.UserID == u.ID
		}
		if !reset {
			t.Error("no user.passwords_reset event")
		}
	})
}

// TestPasswordResetOfGeneralUserRefused: the bank resets a master's
// passwords only; a general user's are the master's to reset.
func TestPasswordResetOfGeneralUserRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		g := r.b.NewGeneralUser(t, r.org)
		if _, err := r.b.Services.Identity.ResetPasswords(r.ctx, g.LoginID, "operator:suzuki", "PWR-G"); !errors.Is(err, identity.ErrPasswordResetByMaster) {
			t.Errorf("reset a general user: %v, want ErrPasswordResetByMaster", err)
		}
		if u := r.user(t, g.LoginID); u.PasswordChangeRequired {
			t.Error("the general user's password was reset")
		}
	})
}

// TestStaffNamesAndCertificates: names are unique without regard to case;
// a recorded certificate finds its active operator until it is revoked,
// expires, or the operator is disabled.
func TestStaffNamesAndCertificates(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db)
		if _, err := r.svc.AddStaff(r.ctx, operators.NewStaff{Name: "SATO", DisplayName: "佐藤", Role: operators.RoleClerk}, ""); !errors.Is(err, operators.ErrNameTaken) {
			t.Errorf("SATO beside sato: %v, want ErrNameTaken", err)
		}
		if _, err := r.svc.AddStaff(r.ctx, operators.NewStaff{Name: "ito", DisplayName: "伊藤", Role: operators.RoleClerk}, r.clerk.Name); !errors.Is(err, operators.ErrForbidden) {
			t.Errorf("a clerk adds staff: %v, want ErrForbidden", err)
		}
		for _, bad := range []operators.NewStaff{{Name: "", DisplayName: "x", Role: operators.RoleClerk}, {Name: "a b", DisplayName: "x", Role: operators.RoleClerk},
			{Name: "ok", DisplayName: "", Role: operators.RoleClerk}, {Name: "ok", DisplayName: "x", Role: "boss"}} {
			if _, err := r.svc.AddStaff(r.ctx, bad, ""); !errors.Is(err, operators.ErrInvalid) {
				t.Errorf("%+v: %v, want ErrInvalid", bad, err)
			}
		}
		st, err := r.svc.StaffByName(r.ctx, "SaTo")
		if err != nil || st.ID != r.clerk.ID {
			t.Errorf("by name without case: %+v, %v", st, err)
		}
		cert := selfSigned(t, r.b.Clock.Now().Add(time.Hour))
		if err := r.svc.AddCertificate(r.ctx, r.clerk.ID, cert); err != nil {
			t.Fatal(err)
		}
		fp := pki.Fingerprint(cert.Raw)
		if st, err := r.svc.StaffByCertificate(r.ctx, fp); err != nil || st.ID != r.clerk.ID {
			t.Errorf("by certificate: %+v, %v", st, err)
		}
		r.b.Clock.Advance(2 * time.Hour)
		if _, err := r.svc.StaffByCertificate(r.ctx, fp); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("an expired certificate: %v, want ErrNotFound", err)
		}
		cert2 := selfSigned(t, r.b.Clock.Now().Add(time.Hour))
		if err := r.svc.AddCertificate(r.ctx, r.clerk.ID, cert2); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.RevokeStaffCertificates(r.ctx, r.clerk.ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.StaffByCertificate(r.ctx, pki.Fingerprint(cert2.Raw)); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("a revoked certificate: %v, want ErrNotFound", err)
		}
		cert3 := selfSigned(t, r.b.Clock.Now().Add(time.Hour))
		if err := r.svc.AddCertificate(r.ctx, r.approver.ID, cert3); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.DisableStaff(r.ctx, r.approver, r.approver.Name); !errors.Is(err, operators.ErrForbidden) {
			t.Errorf("disable oneself: %v, want ErrForbidden", err)
		}
		if err := r.svc.DisableStaff(r.ctx, r.boss, r.approver.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.StaffByCertificate(r.ctx, pki.Fingerprint(cert3.Raw)); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("a disabled operator's certificate: %v, want ErrNotFound", err)
		}
		list, err := r.svc.ListStaff(r.ctx)
		if err != nil || len(list) != 4 {
			t.Fatalf("list: %d, %v", len(list), err)
		}
	})
}

func selfSigned(t *testing.T, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "operator"},
		NotBefore: notAfter.Add(-2 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
