package e2e_test

// Tests of the banking API v1 (docs/api.md) through the real TLS listeners,
// on both engines: who may call what, the life of a transfer, approvals
// racing, idempotent requests, statements as CSV, 総合振込 uploads and the
// master's privileges.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/store"
	"kinko/internal/testutil"
	"kinko/internal/zengin"
)

// bankingNow is 10:00 in Japan on Wednesday 9 December 2026, a business day
// before the cut-off, when every banking test stands.
var bankingNow = time.Date(2026, 12, 9, 10, 0, 0, 0, calendar.JST)

// bankingToday is bankingNow's day.
const bankingToday = "2026-12-09"

// thisBankCode is the bank code of the test bank (server.DefaultBankCode).
const thisBankCode = "2950"

// accountNumbers hands out account numbers not used before in this process.
var accountNumbers atomic.Int64

func nextAccountNumber() string { return fmt.Sprintf("%07d", 1000000+accountNumbers.Add(1)) }

// actor is a logged-in user of the API, on the listener of their
// organization.
type actor struct {
	creds testutil.Creds
	cl    *testutil.Client
	base  string // the listener's URL
}

// do sends a JSON request as the actor.
func (a actor) do(method, path string, body any) testutil.Response {
	return a.cl.Do(method, a.base+path, body)
}

// decisionSteps are the last steps of the paths of an approver's
// decisions, which need the If-Match of what the approver was shown.
var decisionSteps = []string{"/approval", "/send-back", "/rejection"}

// decide sends an approver's decision (POST .../approval, /send-back or
// /rejection of a transfer or batch) as a client does: it reads the
// transfer or batch first and sends the ETag it was shown in If-Match
// (none when it could not read it). Any other request goes as do sends it.
func (a actor) decide(method, path string, body any) testutil.Response {
	resource := ""
	for _, step := range decisionSteps {
		if p, ok := strings.CutSuffix(path, step); ok && method == http.MethodPost {
			resource = p
		}
	}
	if resource == "" {
		return a.do(method, path, body)
	}
	header := map[string]string{}
	if seen := a.do(http.MethodGet, resource, nil); seen.Status == http.StatusOK {
		header["If-Match"] = seen.Header.Get("ETag")
	}
	return a.decideSeen(path, body, header["If-Match"])
}

// decideSeen sends an approver's decision naming etag in If-Match (none
// when it is empty).
func (a actor) decideSeen(path string, body any, etag string) testutil.Response {
	header := map[string]string{}
	if etag != "" {
		header["If-Match"] = etag
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return testutil.Response{Err: err}
		}
		header["Content-Type"] = "application/json"
	}
	return a.send(http.MethodPost, path, raw, header)
}

// send sends a request with a raw body and headers as the actor.
func (a actor) send(method, path string, body []byte, header map[string]string) testutil.Response {
	return send(a.cl, method, a.base+path, body, header)
}

// bankOrg is an organization with two accounts and users of each kind of
// privileges, all logged in.
type bankOrg struct {
	org      testutil.Org
	certs    bool
	main     banking.Account // holds 1,000,000 yen at the start
	second   banking.Account // empty at the start
	master   actor
	none     actor // a general user without privileges
	inquiry  actor // inquiry only
	request  actor // transfer request only
	approval actor // approval only
	// requester has transfer request and inquiry; it requests what the
	// others decide in the tests.
	requester actor
	// approver has approval and inquiry.
	approver actor
}

// newBankingBank starts a bank whose clock stands at bankingNow.
func newBankingBank(t *testing.T, db *store.DB) *testutil.Bank {
	t.Helper()
	b := testutil.NewBankAt(t, db, bankingNow, nil)
	return b
}

// newBankOrg makes an organization with certificate login or ID +
// password login, its accounts and users.
func newBankOrg(t *testing.T, b *testutil.Bank, name string, certificateLogin bool) *bankOrg {
	t.Helper()
	ctx := context.Background()
	svc := b.Services.Banking
	o := &bankOrg{org: b.NewOrg(t, name, certificateLogin), certs: certificateLogin}
	var err error
	if o.main, err = svc.OpenAccount(ctx, o.org.Code, banking.Ordinary, "001", nextAccountNumber(), "ﾃｽﾄﾛｳｿ", "test", "REQ-OPEN-1"); err != nil {
		t.Fatalf("open account: %v", err)
	}
	if o.second, err = svc.OpenAccount(ctx, o.org.Code, banking.Current, "001", nextAccountNumber(), "ﾃｽﾄﾛｳｿ", "test", "REQ-OPEN-2"); err != nil {
		t.Fatalf("open account: %v", err)
	}
	if _, err := svc.Deposit(ctx, o.main.ID, 1_000_000, "組合費 12月分", "test", "REQ-DEP-"+o.main.Number); err != nil {
		t.Fatalf("deposit: %v", err)
	}
	o.main, _ = svc.LookupAccount(ctx, o.main.BranchCode, o.main.Type, o.main.Number)
	master := user(t, b, o.org.Master.LoginID)
	general := func(p banking.Privileges) actor {
		c := b.NewGeneralUser(t, o.org)
		if err := svc.SetPrivileges(ctx, master, c.LoginID, p); err != nil {
			t.Fatalf("set privileges: %v", err)
		}
		return o.login(t, b, c)
	}
	const limit = 5_000_000
	o.master = o.login(t, b, o.org.Master)
	o.none = general(banking.Privileges{})
	o.inquiry = general(banking.Privileges{Inquiry: true})
	o.request = general(banking.Privileges{TransferRequest: true, TransactionLimit: limit, DailyLimit: limit})
	o.approval = general(banking.Privileges{Approval: true})
	o.requester = general(banking.Privileges{Inquiry: true, TransferRequest: true, TransactionLimit: limit, DailyLimit: limit})
	o.approver = general(banking.Privileges{Inquiry: true, Approval: true})
	return o
}

// login logs c in on the organization's listener.
func (o *bankOrg) login(t *testing.T, b *testutil.Bank, c testutil.Creds) actor {
	t.Helper()
	if o.certs {
		return actor{creds: c, cl: certLogin(t, b, b.IssueCertificate(t, c), c), base: b.CertPortalURL}
	}
	return actor{creds: c, cl: passwordLogin(t, b, c), base: b.PortalURL}
}

// payeeTo is the payee JSON of an account at this bank.
func payeeTo(ac banking.Account) map[string]any {
	return map[string]any{"bank_code": thisBankCode, "branch_code": ac.BranchCode, "account_type": string(ac.Type),
		"account_number": ac.Number, "name": ac.HolderName}
}

// transferBody is a request of amount from the main to the second account
// today.
func (o *bankOrg) transferBody(amount int64) map[string]any {
	return map[string]any{"from_account_id": o.main.ID, "payee": payeeTo(o.second), "amount": amount,
		"execution_date": bankingToday, "memo": "備品代"}
}

// requestTransfer has a requests a transfer of amount through the API and
// returns its ID.
func (o *bankOrg) requestTransfer(t *testing.T, a actor, amount int64) int64 {
	t.Helper()
	r := a.do(http.MethodPost, "/api/v1/transfers", o.transferBody(amount))
	expect(t, "POST /api/v1/transfers", r, http.StatusCreated, "")
	return idOf(t, r)
}

// idOf returns the "id" of an answer.
func idOf(t testing.TB, r testutil.Response) int64 {
	t.Helper()
	id, ok := r.Body["id"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("no id in %s", r.Raw)
	}
	return int64(id)
}

// balances returns the balances of the organization's accounts as the API
// shows them to a.
func balances(t testing.TB, a actor) map[int64]int64 {
	t.Helper()
	r := a.do(http.MethodGet, "/api/v1/accounts", nil)
	expect(t, "GET /api/v1/accounts", r, http.StatusOK, "")
	out := map[int64]int64{}
	list, _ := r.Body["accounts"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out[int64(m["id"].(float64))] = int64(m["balance"].(float64))
	}
	return out
}

// transferStatus returns the status of a transfer as the service has it.
func transferStatus(t testing.TB, b *testutil.Bank, o *bankOrg, id int64) banking.Status {
	t.Helper()
	tr, err := b.Services.Banking.Transfer(context.Background(), user(t, b, o.org.Master.LoginID), id)
	if err != nil {
		t.Fatalf("transfer %d: %v", id, err)
	}
	return tr.Status
}

// zenginFile builds a 総合振込 file from the main account with one record
// per amount, each to the second account.
func (o *bankOrg) zenginFile(t testing.TB, amounts ...int64) []byte {
	t.Helper()
	f := &zengin.File{Header: zengin.Header{RequesterCode: "1234567890", RequesterName: "ﾃｽﾄﾛｳｿ",
		Date: zengin.DateOf(bankingNow), BankCode: thisBankCode, BranchCode: o.main.BranchCode,
		AccountType: zengin.AccountOrdinary, AccountNumber: o.main.Number}}
	for _, amt := range amounts {
		f.Records = append(f.Records, zengin.Transfer{BankCode: thisBankCode, BranchCode: o.second.BranchCode,
			AccountType: zengin.AccountChecking, AccountNumber: o.second.Number, PayeeName: o.second.HolderName, Amount: amt})
	}
	var buf bytes.Buffer
	if err := zengin.Write(&buf, f, zengin.WriteOptions{CRLF: true}); err != nil {
		t.Fatalf("write zengin file: %v", err)
	}
	return buf.Bytes()
}

// batchBody is the upload of a 総合振込 file.
func (o *bankOrg) batchBody(file []byte) map[string]any {
	return map[string]any{"from_account_id": o.main.ID, "execution_date": bankingToday,
		"file": base64.StdEncoding.EncodeToString(file), "file_name": "sogo.txt"}
}

// roles are the callers of the rules table: the organization's master,
// general users with no privileges or one each, and the master of another
// organization (stranger).
var roles = []string{"master", "none", "inquiry", "request", "approval", "stranger"}

// want lists the expected answers of the roles, in the order of roles:
// "200", or "403 forbidden" (status and error code).
func want(answers ...string) map[string]string {
	m := map[string]string{}
	for i, r := range roles {
		m[r] = answers[i]
	}
	return m
}

// TestBankingAPI_RulesTable: every endpoint x every role, in an
// organization with certificate login and one with ID + password login. A
// user of another organization gets 404 for this organization's IDs, never
// 403.
func TestBankingAPI_RulesTable(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := newBankingBank(t, db)
		svc := b.Services.Banking
		certOrg := newBankOrg(t, b, "証明書方式労組", true)
		pwOrg := newBankOrg(t, b, "ID方式生協", false)
		// The other organization has history of its own, which must not
		// show up.
		pwOrg.requestTransfer(t, pwOrg.requester, 500)
		certOrg.requestTransfer(t, certOrg.requester, 500)

		// Fresh objects for the steps that change them, made through the
		// service.
		fresh := func(o *bankOrg, by actor) int64 {
			tr, err := svc.RequestTransfer(ctx, user(t, b, by.creds.LoginID), banking.TransferRequest{FromAccountID: o.main.ID,
				Payee: banking.PayeeAccount{BankCode: thisBankCode, BranchCode: o.second.BranchCode, AccountType: o.second.Type,
					AccountNumber: o.second.Number, Name: o.second.HolderName}, Amount: 1000, ExecutionDate: calendar.DateOf(bankingNow)})
			if err != nil {
				t.Fatalf("request transfer: %v", err)
			}
			return tr.ID
		}
		sentBack := func(o *bankOrg) int64 {
			id := fresh(o, o.request)
			if _, err := svc.SendBack(ctx, user(t, b, o.approver.creds.LoginID), id, 1, "金額を確認してください"); err != nil {
				t.Fatalf("send back: %v", err)
			}
			return id
		}
		freshBatch := func(o *bankOrg) int64 {
			bt, err := svc.CreateBatch(ctx, user(t, b, o.requester.creds.LoginID), banking.BatchRequest{FromAccountID: o.main.ID,
				ExecutionDate: calendar.DateOf(bankingNow), SourceFile: "sogo.txt", Items: []banking.BatchItem{{
					Payee: banking.PayeeAccount{BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary,
						AccountNumber: "7654321", Name: "ﾄﾘﾋｷｻｷ"}, Amount: 700}}})
			if err != nil {
				t.Fatalf("create batch: %v", err)
			}
			return bt.ID
		}
		freshPayee := func(o *bankOrg) int64 {
			p, err := svc.RegisterPayee(ctx, user(t, b, o.org.Master.LoginID), banking.Payee{PayeeAccount: banking.PayeeAccount{
				BankCode: "0005", BranchCode: "123", AccountType: banking.Ordinary, AccountNumber: nextAccountNumber(), Name: "ﾄﾘﾋｷｻｷ"}})
			if err != nil {
				t.Fatalf("register payee: %v", err)
			}
			return p.ID
		}
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		comment := func(*bankOrg, actor) any { return map[string]string{"comment": "内容を確認してください"} }
		confirm := func(_ *bankOrg, a actor) any {
			return map[string]string{"confirmation_password": a.creds.Confirmation}
		}
		const (
			ok        = "200"
			created   = "201"
			noContent = "204"
			forbidden = "403 forbidden"
			notFound  = "404 not_found"
		)
		cases := []struct {
			name   string
			method string
			path   func(o *bankOrg) string
			body   func(o *bankOrg, a actor) any
			want   map[string]string
		}{
			{"list accounts", "GET", func(*bankOrg) string { return "/api/v1/accounts" }, nil,
				want(ok, forbidden, ok, forbidden, forbidden, ok)},
			{"get account", "GET", func(o *bankOrg) string { return "/api/v1/accounts/" + id(o.main.ID) }, nil,
				want(ok, forbidden, ok, forbidden, forbidden, notFound)},
			{"transactions", "GET", func(o *bankOrg) string {
				return "/api/v1/accounts/" + id(o.main.ID) + "/transactions?from=2026-12-01&to=2026-12-31"
			}, nil,
				want(ok, forbidden, ok, forbidden, forbidden, notFound)},
			{"transactions as CSV", "GET", func(o *bankOrg) string {
				return "/api/v1/accounts/" + id(o.main.ID) + "/transactions?format=csv&encoding=shift_jis"
			}, nil, want(ok, forbidden, ok, forbidden, forbidden, notFound)},
			{"search banks", "GET", func(*bankOrg) string { return "/api/v1/banks?q=0005" }, nil,
				want(ok, ok, ok, ok, ok, ok)},
			{"search branches", "GET", func(*bankOrg) string { return "/api/v1/banks/0005/branches?q=123" }, nil,
				want(ok, ok, ok, ok, ok, ok)},
			{"list payees", "GET", func(*bankOrg) string { return "/api/v1/payees" }, nil,
				want(ok, forbidden, forbidden, ok, forbidden, ok)},
			{"register payee", "POST", func(*bankOrg) string { return "/api/v1/payees" }, func(*bankOrg, actor) any {
				return map[string]any{"bank_code": "0005", "branch_code": "123", "account_type": "ordinary",
					"account_number": nextAccountNumber(), "name": "ﾄﾘﾋｷｻｷ", "nickname": "取引先"}
			}, want(created, forbidden, forbidden, created, forbidden, created)},
			{"delete payee", "DELETE", func(o *bankOrg) string { return "/api/v1/payees/" + id(freshPayee(o)) }, nil,
				want(noContent, forbidden, forbidden, noContent, forbidden, notFound)},
			{"list transfers", "GET", func(*bankOrg) string { return "/api/v1/transfers?status=awaiting_approval" }, nil,
				want(ok, forbidden, ok, ok, ok, ok)},
			{"request transfer", "POST", func(*bankOrg) string { return "/api/v1/transfers" }, func(o *bankOrg, _ actor) any {
				return o.transferBody(1000)
			}, want(created, forbidden, forbidden, created, forbidden, notFound)},
			{"get transfer", "GET", func(o *bankOrg) string { return "/api/v1/transfers/" + id(fresh(o, o.requester)) }, nil,
				want(ok, forbidden, ok, ok, ok, notFound)},
			{"get unknown transfer", "GET", func(*bankOrg) string { return "/api/v1/transfers/987654321" }, nil,
				want(notFound, forbidden, notFound, notFound, notFound, notFound)},
			{"approve transfer", "POST", func(o *bankOrg) string { return "/api/v1/transfers/" + id(fresh(o, o.requester)) + "/approval" }, confirm,
				want(ok, forbidden, forbidden, forbidden, ok, notFound)},
			{"send back transfer", "POST", func(o *bankOrg) string { return "/api/v1/transfers/" + id(fresh(o, o.requester)) + "/send-back" }, comment,
				want(ok, forbidden, forbidden, forbidden, ok, notFound)},
			{"reject transfer", "POST", func(o *bankOrg) string { return "/api/v1/transfers/" + id(fresh(o, o.requester)) + "/rejection" }, comment,
				want(ok, forbidden, forbidden, forbidden, ok, notFound)},
			{"cancel transfer (requested by request)", "POST", func(o *bankOrg) string {
				return "/api/v1/transfers/" + id(fresh(o, o.request)) + "/cancellation"
			}, comment, want(forbidden, forbidden, forbidden, ok, forbidden, notFound)},
			{"resubmit transfer (requested by request)", "PUT", func(o *bankOrg) string { return "/api/v1/transfers/" + id(sentBack(o)) },
				func(o *bankOrg, _ actor) any { return o.transferBody(900) },
				want(forbidden, forbidden, forbidden, ok, forbidden, notFound)},
			{"upload batch", "POST", func(*bankOrg) string { return "/api/v1/transfer-batches" }, func(o *bankOrg, _ actor) any {
				return o.batchBody(o.zenginFile(t, 300, 400))
			}, want(created, forbidden, forbidden, created, forbidden, notFound)},
			{"list batches", "GET", func(*bankOrg) string { return "/api/v1/transfer-batches" }, nil,
				want(ok, forbidden, ok, ok, ok, ok)},
			{"get batch", "GET", func(o *bankOrg) string { return "/api/v1/transfer-batches/" + id(freshBatch(o)) }, nil,
				want(ok, forbidden, ok, ok, ok, notFound)},
			{"approve batch", "POST", func(o *bankOrg) string { return "/api/v1/transfer-batches/" + id(freshBatch(o)) + "/approval" }, confirm,
				want(ok, forbidden, forbidden, forbidden, ok, notFound)},
			{"send back batch", "POST", func(o *bankOrg) string { return "/api/v1/transfer-batches/" + id(freshBatch(o)) + "/send-back" }, comment,
				want(ok, forbidden, forbidden, forbidden, ok, notFound)},
			{"reject batch", "POST", func(o *bankOrg) string { return "/api/v1/transfer-batches/" + id(freshBatch(o)) + "/rejection" }, comment,
				want(ok, forbidden, forbidden, forbidden, ok, notFound)},
			{"get privileges of request", "GET", func(o *bankOrg) string { return "/api/v1/users/" + o.request.creds.LoginID + "/privileges" }, nil,
				want(ok, forbidden, forbidden, ok, forbidden, notFound)},
			{"set privileges of none", "PUT", func(o *bankOrg) string { return "/api/v1/users/" + o.none.creds.LoginID + "/privileges" },
				func(_ *bankOrg, a actor) any {
					return map[string]any{"inquiry": false, "transfer_request": false, "approval": false,
						"transaction_limit": 0, "daily_limit": 0, "confirmation_password": a.creds.Confirmation}
				}, want(ok, forbidden, forbidden, forbidden, forbidden, notFound)},
		}
		for _, pair := range []struct {
			name     string
			o, other *bankOrg
		}{{"certificate login", certOrg, pwOrg}, {"password login", pwOrg, certOrg}} {
			o := pair.o
			callers := map[string]actor{"master": o.master, "none": o.none, "inquiry": o.inquiry, "request": o.request,
				"approval": o.approval, "stranger": pair.other.master}
			for _, c := range cases {
				for _, role := range roles {
					t.Run(pair.name+"/"+c.name+"/"+role, func(t *testing.T) {
						a := callers[role]
						var body any
						if c.body != nil {
							body = c.body(o, a)
						}
						r := a.decide(c.method, c.path(o), body)
						status, code, _ := strings.Cut(c.want[role], " ")
						wantStatus, _ := strconv.Atoi(status)
						expect(t, c.method+" as "+role, r, wantStatus, code)
						if role == "stranger" && r.Status < 300 {
							// The stranger's own lists: nothing of o in them.
							for _, s := range []string{o.main.Number, o.second.Number, fmt.Sprintf(`"from_account_id":%d,`, o.main.ID)} {
								if bytes.Contains(r.Raw, []byte(s)) {
									t.Fatalf("another organization's answer holds %s: %s", s, r.Raw)
								}
							}
						}
					})
				}
			}
		}
		if problems, err := svc.VerifyLedger(ctx); err != nil || len(problems) != 0 {
			t.Fatalf("ledger: %v %v", problems, err)
		}
	})
}

// TestBankingAPI_TransferApprovedByAnotherUser: a general user requests a
// transfer, another approves it with the confirmation password; both
// balances change, both statements show it, its history tells each step.
func TestBankingAPI_TransferApprovedByAnotherUser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		for _, certificateLogin := range []bool{true, false} {
			t.Run(fmt.Sprintf("certificate login %t", certificateLogin), func(t *testing.T) {
				o := newBankOrg(t, b, "振込労組", certificateLogin)
				before := balances(t, o.approver)
				r := o.requester.do(http.MethodPost, "/api/v1/transfers", o.transferBody(12_345))
				expect(t, "request", r, http.StatusCreated, "")
				id := idOf(t, r)
				if r.String("status") != "awaiting_approval" || r.String("requested_by") != o.requester.creds.LoginID ||
					r.String("execution_date") != bankingToday || r.Header.Get("Location") != "/api/v1/transfers/"+strconv.FormatInt(id, 10) {
					t.Fatalf("request answer: %s (Location %q)", r.Raw, r.Header.Get("Location"))
				}
				if got := balances(t, o.approver); got[o.main.ID] != before[o.main.ID] {
					t.Fatalf("a request moved money: %v -> %v", before, got)
				}
				// The approver sees it awaiting approval.
				r = o.approver.do(http.MethodGet, "/api/v1/transfers?status=awaiting_approval", nil)
				expect(t, "list", r, http.StatusOK, "")
				if !bytes.Contains(r.Raw, []byte(fmt.Sprintf(`"id":%d,`, id))) {
					t.Fatalf("transfer %d not in the approver's list: %s", id, r.Raw)
				}

				r = o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", id), map[string]string{"confirmation_password": o.approver.creds.Confirmation})
				expect(t, "approval", r, http.StatusOK, "")
				if r.String("status") != "executed" || r.String("approved_by") != o.approver.creds.LoginID || r.String("executed_at") == "" {
					t.Fatalf("approval answer: %s", r.Raw)
				}
				after := balances(t, o.approver)
				if after[o.main.ID] != before[o.main.ID]-12_345 || after[o.second.ID] != before[o.second.ID]+12_345 {
					t.Fatalf("balances %v -> %v, want 12,345 moved from %d to %d", before, after, o.main.ID, o.second.ID)
				}

				// Both statements show it, with the balance after it.
				for _, c := range []struct {
					account banking.Account
					amount  int64
					balance int64
					kind    string
				}{{o.main, -12_345, after[o.main.ID], "debit"}, {o.second, 12_345, after[o.second.ID], "credit"}} {
					r = o.inquiry.do(http.MethodGet, fmt.Sprintf("/api/v1/accounts/%d/transactions?from=%s&to=%s", c.account.ID, bankingToday, bankingToday), nil)
					expect(t, "transactions", r, http.StatusOK, "")
					rows, _ := r.Body["transactions"].([]any)
					found := false
					for _, x := range rows {
						m := x.(map[string]any)
						if tid, _ := m["transfer_id"].(float64); int64(tid) == id {
							found = true
							if int64(m["amount"].(float64)) != c.amount || int64(m["balance_after"].(float64)) != c.balance ||
								m["kind"] != c.kind || m["date"] != bankingToday {
								t.Fatalf("statement row %v, want amount %d balance %d %s", m, c.amount, c.balance, c.kind)
							}
						}
					}
					if !found {
						t.Fatalf("account %d: no statement row of transfer %d: %s", c.account.ID, id, r.Raw)
					}
				}

				r = o.requester.do(http.MethodGet, fmt.Sprintf("/api/v1/transfers/%d", id), nil)
				expect(t, "get", r, http.StatusOK, "")
				var actions []string
				for _, x := range r.Body["history"].([]any) {
					actions = append(actions, x.(map[string]any)["action"].(string))
				}
				if strings.Join(actions, ",") != "requested,approved,executed" {
					t.Fatalf("history %v, want requested, approved, executed", actions)
				}
				// Approving again is refused: it has been handled.
				r = o.master.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", id), map[string]string{"confirmation_password": o.org.Master.Confirmation})
				expect(t, "second approval", r, http.StatusConflict, "invalid_state")

				// Dated tomorrow, the approval schedules it: nothing moves yet.
				later := o.transferBody(7000)
				later["execution_date"] = "2026-12-10"
				r = o.requester.do(http.MethodPost, "/api/v1/transfers", later)
				expect(t, "request for tomorrow", r, http.StatusCreated, "")
				r = o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", idOf(t, r)), map[string]string{"confirmation_password": o.approver.creds.Confirmation})
				expect(t, "approval for tomorrow", r, http.StatusOK, "")
				if r.String("status") != "scheduled" || r.String("execution_date") != "2026-12-10" || r.String("executed_at") != "" {
					t.Fatalf("approval for tomorrow: %s", r.Raw)
				}
				if got := balances(t, o.approver); got[o.main.ID] != after[o.main.ID] {
					t.Fatalf("a scheduled transfer moved money: %v -> %v", after, got)
				}
			})
		}
	})
}

// TestBankingAPI_SendBackResubmitAndReject: an approver sends a transfer
// back with a comment, the requester corrects it, the approver rejects it.
func TestBankingAPI_SendBackResubmitAndReject(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "差戻し労組", true)
		id := o.requestTransfer(t, o.requester, 5000)
		path := fmt.Sprintf("/api/v1/transfers/%d", id)
		expect(t, "send back without a comment", o.approver.decide(http.MethodPost, path+"/send-back", map[string]string{"comment": ""}), http.StatusBadRequest, "invalid_comment")
		r := o.approver.decide(http.MethodPost, path+"/send-back", map[string]string{"comment": "金額は4,000円です"})
		expect(t, "send back", r, http.StatusOK, "")
		if r.String("status") != "sent_back" {
			t.Fatalf("send back answer: %s", r.Raw)
		}
		expect(t, "approval of a sent-back transfer", o.approver.decide(http.MethodPost, path+"/approval", map[string]string{"confirmation_password": o.approver.creds.Confirmation}),
			http.StatusConflict, "invalid_state")
		r = o.requester.do(http.MethodPut, path, o.transferBody(4000))
		expect(t, "resubmit", r, http.StatusOK, "")
		if r.String("status") != "awaiting_approval" || r.Body["amount"].(float64) != 4000 {
			t.Fatalf("resubmit answer: %s", r.Raw)
		}
		r = o.approver.decide(http.MethodPost, path+"/rejection", nil)
		expect(t, "rejection without a body", r, http.StatusOK, "")
		if r.String("status") != "rejected" {
			t.Fatalf("rejection answer: %s", r.Raw)
		}
		r = o.requester.do(http.MethodGet, path, nil)
		expect(t, "get", r, http.StatusOK, "")
		h := r.Body["history"].([]any)
		if len(h) != 4 || h[1].(map[string]any)["comment"] != "金額は4,000円です" || h[3].(map[string]any)["action"] != "rejected" {
			t.Fatalf("history: %s", r.Raw)
		}
		expect(t, "cancel a rejected transfer", o.requester.do(http.MethodPost, path+"/cancellation", nil), http.StatusConflict, "invalid_state")
	})
}

// TestBankingAPI_SelfApprovalForbidden: nobody approves their own
// request, the master included; the transfer stays awaiting approval.
func TestBankingAPI_SelfApprovalForbidden(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "自己承認禁止労組", false)
		before := balances(t, o.master)
		id := o.requestTransfer(t, o.master, 3000)
		for _, step := range []struct {
			path string
			body any
		}{
			{"/approval", map[string]string{"confirmation_password": o.org.Master.Confirmation}},
			{"/send-back", map[string]string{"comment": "自分で差戻し"}},
			{"/rejection", map[string]string{"comment": "自分で却下"}},
		} {
			r := o.master.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d%s", id, step.path), step.body)
			expect(t, "master's own transfer "+step.path, r, http.StatusForbidden, "self_approval_forbidden")
		}
		if s := transferStatus(t, b, o, id); s != banking.StatusAwaitingApproval {
			t.Fatalf("status %s after refused self-approval", s)
		}
		if after := balances(t, o.master); after[o.main.ID] != before[o.main.ID] {
			t.Fatalf("balances moved: %v -> %v", before, after)
		}
	})
}

// TestBankingAPI_WrongConfirmationPassword: an approval with a wrong
// confirmation password is refused and approves nothing.
func TestBankingAPI_WrongConfirmationPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "確認用パスワード労組", true)
		before := balances(t, o.approver)
		id := o.requestTransfer(t, o.requester, 8000)
		path := fmt.Sprintf("/api/v1/transfers/%d/approval", id)
		for _, pw := range []string{"Wrong-Password1", o.approver.creds.Password, ""} {
			expect(t, "approval with "+pw, o.approver.decide(http.MethodPost, path, map[string]string{"confirmation_password": pw}), http.StatusForbidden, "invalid_confirmation_password")
		}
		if s := transferStatus(t, b, o, id); s != banking.StatusAwaitingApproval {
			t.Fatalf("status %s after wrong passwords", s)
		}
		if after := balances(t, o.approver); after[o.main.ID] != before[o.main.ID] || after[o.second.ID] != before[o.second.ID] {
			t.Fatalf("balances moved: %v -> %v", before, after)
		}
		r := o.approver.do(http.MethodGet, fmt.Sprintf("/api/v1/transfers/%d", id), nil)
		expect(t, "get", r, http.StatusOK, "")
		if len(r.Body["history"].([]any)) != 1 {
			t.Fatalf("refused approvals wrote history: %s", r.Raw)
		}
		// The right password still works (three wrong ones do not lock).
		expect(t, "approval", o.approver.decide(http.MethodPost, path, map[string]string{"confirmation_password": o.approver.creds.Confirmation}), http.StatusOK, "")
	})
}

// TestBankingAPI_RacingApprovals: ten approvals of one transfer at once
// over HTTP: one executes it, the nine others are refused, the money moves
// once.
func TestBankingAPI_RacingApprovals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "同時承認労組", false)
		// Two approvers, each on five parallel requests.
		second := o.login(t, b, func() testutil.Creds {
			c := b.NewGeneralUser(t, o.org)
			if err := b.Services.Banking.SetPrivileges(context.Background(), user(t, b, o.org.Master.LoginID), c.LoginID,
				banking.Privileges{Approval: true}); err != nil {
				t.Fatal(err)
			}
			return c
		}())
		before := balances(t, o.master)
		id := o.requestTransfer(t, o.requester, 25_000)
		path := fmt.Sprintf("/api/v1/transfers/%d/approval", id)
		var wg sync.WaitGroup
		results := make([]testutil.Response, 10)
		start := make(chan struct{})
		for i := range results {
			a := o.approver
			if i%2 == 1 {
				a = second
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = a.decide(http.MethodPost, path, map[string]string{"confirmation_password": a.creds.Confirmation})
			}()
		}
		close(start)
		wg.Wait()
		okCount := 0
		for i, r := range results {
			switch {
			case r.Err == nil && r.Status == http.StatusOK:
				okCount++
			case r.Err == nil && r.Status == http.StatusConflict && r.ErrorCode() == "invalid_state":
			default:
				t.Errorf("approval %d: %d %q %s %v", i, r.Status, r.ErrorCode(), r.Raw, r.Err)
			}
		}
		if okCount != 1 {
			t.Fatalf("%d approvals succeeded, want 1", okCount)
		}
		after := balances(t, o.master)
		if after[o.main.ID] != before[o.main.ID]-25_000 || after[o.second.ID] != before[o.second.ID]+25_000 {
			t.Fatalf("balances %v -> %v, want 25,000 moved once", before, after)
		}
		if problems, err := b.Services.Banking.VerifyLedger(context.Background()); err != nil || len(problems) != 0 {
			t.Fatalf("ledger: %v %v", problems, err)
		}
	})
}

// TestBankingAPI_IdempotencyKey: a request repeated with its
// Idempotency-Key returns the first transfer; the key with another request
// is a conflict.
func TestBankingAPI_IdempotencyKey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "冪等性労組", true)
		body := jsonBody(t, o.transferBody(4321))
		h := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "order-2026-12-09-0001"}
		first := o.requester.send(http.MethodPost, "/api/v1/transfers", body, h)
		expect(t, "first", first, http.StatusCreated, "")
		again := o.requester.send(http.MethodPost, "/api/v1/transfers", body, h)
		expect(t, "repeat", again, http.StatusCreated, "")
		if idOf(t, first) != idOf(t, again) || first.String("requested_at") != again.String("requested_at") {
			t.Fatalf("repeat made another transfer: %s then %s", first.Raw, again.Raw)
		}
		expect(t, "same key, other amount", o.requester.send(http.MethodPost, "/api/v1/transfers", jsonBody(t, o.transferBody(4322)), h),
			http.StatusConflict, "idempotency_conflict")
		// Keys are per user: another user's same key is a new request.
		other := o.master.send(http.MethodPost, "/api/v1/transfers", body, h)
		expect(t, "another user's key", other, http.StatusCreated, "")
		if idOf(t, other) == idOf(t, first) {
			t.Fatal("another user's key returned the first user's transfer")
		}
		bad := map[string]string{"Content-Type": "application/json", "Idempotency-Key": strings.Repeat("k", 256)}
		expect(t, "bad key", o.requester.send(http.MethodPost, "/api/v1/transfers", body, bad), http.StatusBadRequest, "invalid_idempotency_key")
		r := o.requester.do(http.MethodGet, "/api/v1/transfers?mine=true", nil)
		expect(t, "list", r, http.StatusOK, "")
		if r.Body["total"].(float64) != 1 {
			t.Fatalf("%v transfers of the requester, want 1: %s", r.Body["total"], r.Raw)
		}
		// The repeat after approval still returns the first transfer, now
		// executed.
		expect(t, "approval", o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", idOf(t, first)),
			map[string]string{"confirmation_password": o.approver.creds.Confirmation}), http.StatusOK, "")
		late := o.requester.send(http.MethodPost, "/api/v1/transfers", body, h)
		expect(t, "repeat after approval", late, http.StatusCreated, "")
		if idOf(t, late) != idOf(t, first) || late.String("status") != "executed" {
			t.Fatalf("late repeat: %s", late.Raw)
		}
	})
}

// TestBankingAPI_StatementCSV: the statement downloads as CSV in UTF-8 and
// in Shift_JIS, with a file name, and reads back as the postings.
func TestBankingAPI_StatementCSV(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "明細労組", true)
		if _, err := b.Services.Banking.Deposit(context.Background(), o.main.ID, 30_000, "=会費（ｶｲﾋ）", "test", "REQ-DEP-2"); err != nil {
			t.Fatal(err)
		}
		id := o.requestTransfer(t, o.requester, 20_000)
		expect(t, "approval", o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", id),
			map[string]string{"confirmation_password": o.approver.creds.Confirmation}), http.StatusOK, "")
		want := [][]string{
			{"日付", "摘要", "お支払金額", "お預り金額", "差引残高"},
			{"2026/12/09", "組合費 12月分", "", "1000000", "1000000"},
			{"2026/12/09", "'=会費（ｶｲﾋ）", "", "30000", "1030000"},
			{"2026/12/09", "振込 " + o.second.HolderName, "20000", "", "1010000"},
		}
		for _, enc := range []string{"utf-8", "utf-8-bom", "shift_jis"} {
			t.Run(enc, func(t *testing.T) {
				path := fmt.Sprintf("/api/v1/accounts/%d/transactions?format=csv&encoding=%s&from=2026-12-01&to=2026-12-31", o.main.ID, enc)
				r := o.inquiry.do(http.MethodGet, path, nil)
				expect(t, "download", r, http.StatusOK, "")
				ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
				if err != nil || ct != "text/csv" || !strings.EqualFold(params["charset"], map[string]string{"utf-8": "utf-8", "utf-8-bom": "utf-8", "shift_jis": "shift_jis"}[enc]) {
					t.Fatalf("Content-Type %q", r.Header.Get("Content-Type"))
				}
				disp, dp, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
				suffix := map[string]string{"utf-8": "", "utf-8-bom": "-excel", "shift_jis": "-sjis"}[enc]
				wantName := fmt.Sprintf("statement-%s-%s-20261201-20261231%s.csv", o.main.BranchCode, o.main.Number, suffix)
				if err != nil || disp != "attachment" || dp["filename"] != wantName {
					t.Fatalf("Content-Disposition %q, want attachment; filename=%s", r.Header.Get("Content-Disposition"), wantName)
				}
				var rd io.Reader = bytes.NewReader(r.Raw)
				if enc == "utf-8-bom" {
					// Excel reads UTF-8 only after a byte order mark.
					rest, ok := bytes.CutPrefix(r.Raw, []byte("\ufeff"))
					if !ok {
						t.Fatalf("no byte order mark: %q", r.Raw[:min(len(r.Raw), 8)])
					}
					rd = bytes.NewReader(rest)
				} else if bytes.HasPrefix(r.Raw, []byte("\ufeff")) {
					t.Fatalf("%s begins with a byte order mark", enc)
				}
				if enc == "shift_jis" {
					if bytes.Contains(r.Raw, []byte("組合費")) {
						t.Fatal("the Shift_JIS download holds UTF-8 text")
					}
					rd = japanese.ShiftJIS.NewDecoder().Reader(rd)
				}
				text, err := io.ReadAll(rd)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasSuffix(text, []byte("\r\n")) || bytes.Count(text, []byte("\r\n")) != len(want) {
					t.Fatalf("lines do not end in CRLF: %q", text)
				}
				rows, err := csv.NewReader(bytes.NewReader(text)).ReadAll()
				if err != nil {
					t.Fatalf("read CSV: %v\n%s", err, text)
				}
				if len(rows) != len(want) {
					t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), text)
				}
				for i, row := range rows {
					w := want[i]
					if strings.Join(row, "|") != strings.Join(w, "|") {
						t.Errorf("row %d: %q, want %q", i, row, w)
					}
				}
			})
		}
		expect(t, "unknown encoding", o.inquiry.do(http.MethodGet, fmt.Sprintf("/api/v1/accounts/%d/transactions?format=csv&encoding=euc-jp", o.main.ID), nil),
			http.StatusBadRequest, "unknown_encoding")
		expect(t, "bad date", o.inquiry.do(http.MethodGet, fmt.Sprintf("/api/v1/accounts/%d/transactions?from=2026-13-01", o.main.ID), nil),
			http.StatusBadRequest, "invalid_date")
		expect(t, "reversed range", o.inquiry.do(http.MethodGet, fmt.Sprintf("/api/v1/accounts/%d/transactions?from=2026-12-31&to=2026-12-01", o.main.ID), nil),
			http.StatusBadRequest, "invalid_date")
		// JSON paging: one posting a page, oldest first.
		r := o.inquiry.do(http.MethodGet, fmt.Sprintf("/api/v1/accounts/%d/transactions?per_page=1&page=2", o.main.ID), nil)
		expect(t, "page 2", r, http.StatusOK, "")
		rows := r.Body["transactions"].([]any)
		if r.Body["total"].(float64) != 3 || r.Body["pages"].(float64) != 3 || len(rows) != 1 || rows[0].(map[string]any)["amount"].(float64) != 30_000 {
			t.Fatalf("page 2: %s", r.Raw)
		}
	})
}

// TestBankingAPI_ZenginBatch: a valid 総合振込 file makes a batch of
// transfers awaiting approval as one; an invalid file is refused with every
// error, by record and field.
func TestBankingAPI_ZenginBatch(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "総合振込労組", true)
		before := balances(t, o.approver)

		r := o.requester.do(http.MethodPost, "/api/v1/transfer-batches", o.batchBody(o.zenginFile(t, 1000, 2000, 3000)))
		expect(t, "upload", r, http.StatusCreated, "")
		batchID := idOf(t, r)
		if r.String("status") != "awaiting_approval" || r.Body["count"].(float64) != 3 || r.Body["total"].(float64) != 6000 ||
			r.String("file_name") != "sogo.txt" || r.String("execution_date") != bankingToday {
			t.Fatalf("upload answer: %s", r.Raw)
		}
		ts := r.Body["transfers"].([]any)
		if len(ts) != 3 {
			t.Fatalf("%d transfers, want 3: %s", len(ts), r.Raw)
		}
		var itemID int64
		for i, x := range ts {
			m := x.(map[string]any)
			if m["status"] != "awaiting_approval" || m["amount"].(float64) != float64(1000*(i+1)) || int64(m["batch_id"].(float64)) != batchID {
				t.Fatalf("item %d: %v", i, m)
			}
			itemID = int64(m["id"].(float64))
		}
		// An item is decided with its batch only.
		expect(t, "approve an item", o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfers/%d/approval", itemID),
			map[string]string{"confirmation_password": o.approver.creds.Confirmation}), http.StatusConflict, "batch_item")
		expect(t, "approval by a requester without the privilege", o.requester.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfer-batches/%d/approval", batchID),
			map[string]string{"confirmation_password": o.requester.creds.Confirmation}), http.StatusForbidden, "forbidden")
		// The master's own upload is not the master's to approve.
		r = o.master.do(http.MethodPost, "/api/v1/transfer-batches", o.batchBody(o.zenginFile(t, 100)))
		expect(t, "the master's upload", r, http.StatusCreated, "")
		expect(t, "self-approval of a batch", o.master.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfer-batches/%d/approval", idOf(t, r)),
			map[string]string{"confirmation_password": o.org.Master.Confirmation}), http.StatusForbidden, "self_approval_forbidden")
		expect(t, "the master cancels it", o.master.do(http.MethodPost, fmt.Sprintf("/api/v1/transfer-batches/%d/cancellation", idOf(t, r)), nil),
			http.StatusOK, "")
		r = o.approver.decide(http.MethodPost, fmt.Sprintf("/api/v1/transfer-batches/%d/approval", batchID),
			map[string]string{"confirmation_password": o.approver.creds.Confirmation})
		expect(t, "approve the batch", r, http.StatusOK, "")
		if r.String("status") != "executed" {
			t.Fatalf("approved batch: %s", r.Raw)
		}
		after := balances(t, o.approver)
		if after[o.main.ID] != before[o.main.ID]-6000 || after[o.second.ID] != before[o.second.ID]+6000 {
			t.Fatalf("balances %v -> %v, want 6,000 moved", before, after)
		}
		r = o.approver.do(http.MethodGet, fmt.Sprintf("/api/v1/transfer-batches/%d", batchID), nil)
		expect(t, "get batch", r, http.StatusOK, "")
		for _, x := range r.Body["transfers"].([]any) {
			if x.(map[string]any)["status"] != "executed" {
				t.Fatalf("item not executed: %s", r.Raw)
			}
		}
		if len(r.Body["history"].([]any)) < 2 {
			t.Fatalf("batch history: %s", r.Raw)
		}

		// Without from_account_id and execution_date, the header's account
		// and date are used.
		file := o.zenginFile(t, 500)
		r = o.requester.do(http.MethodPost, "/api/v1/transfer-batches", map[string]any{"file": base64.StdEncoding.EncodeToString(file), "file_name": "header.txt"})
		expect(t, "upload by the header", r, http.StatusCreated, "")
		if int64(r.Body["from_account_id"].(float64)) != o.main.ID || r.String("execution_date") != bankingToday {
			t.Fatalf("upload by the header: %s", r.Raw)
		}

		// An invalid file: every error with its record and field.
		bad := o.zenginFile(t, 1000, 2000, 3000)
		recs := bytes.SplitAfter(bad, []byte("\r\n"))
		copy(recs[1][50:], "ｶﾌﾞｼｷｶﾞｲｼｬ")   // record 2: 受取人名 in UTF-8, outside the set
		copy(recs[2][80:90], "00000ABCDE") // record 3: 振込金額 not numeric
		copy(recs[4][1:7], "000009")       // trailer: 合計件数 wrong
		bad = bytes.Join(recs, nil)
		r = o.requester.do(http.MethodPost, "/api/v1/transfer-batches", o.batchBody(bad))
		expect(t, "invalid file", r, http.StatusBadRequest, "invalid_zengin_file")
		errs, _ := r.Body["errors"].([]any)
		type loc struct {
			line  int
			field string
		}
		got := map[loc]string{}
		for _, x := range errs {
			m := x.(map[string]any)
			got[loc{int(m["line"].(float64)), m["field"].(string)}] = m["code"].(string)
			if msg, _ := m["message"].(string); !strings.Contains(msg, " / ") {
				t.Errorf("error without a Japanese / English message: %v", m)
			}
		}
		for l, code := range map[loc]string{{2, "受取人名"}: "invalid_character", {3, "振込金額"}: "not_numeric", {5, "合計件数"}: "count_mismatch"} {
			if got[l] != code {
				t.Errorf("record %d %s: %q, want %q (all: %s)", l.line, l.field, got[l], code, r.Raw)
			}
		}

		// A file in the format whose transfers cannot be made: every item's
		// problem, by record.
		f := &zengin.File{Header: zengin.Header{RequesterCode: "1", RequesterName: "ﾃｽﾄ", Date: zengin.DateOf(bankingNow),
			BankCode: thisBankCode, BranchCode: "001", AccountType: zengin.AccountOrdinary, AccountNumber: o.main.Number},
			Records: []zengin.Transfer{
				{BankCode: thisBankCode, BranchCode: "999", AccountType: zengin.AccountOrdinary, AccountNumber: "0000001", PayeeName: "ﾅｲ", Amount: 100},
				{BankCode: "0005", BranchCode: "123", AccountType: zengin.AccountOrdinary, AccountNumber: "1111111", PayeeName: "ｱﾙ", Amount: 100},
				{BankCode: "0005", BranchCode: "123", AccountType: zengin.AccountOrdinary, AccountNumber: "2222222", PayeeName: "ｵｵｽｷﾞﾙ", Amount: 9_000_000},
			}}
		var buf bytes.Buffer
		if err := zengin.Write(&buf, f, zengin.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		r = o.requester.do(http.MethodPost, "/api/v1/transfer-batches", o.batchBody(buf.Bytes()))
		expect(t, "invalid batch", r, http.StatusBadRequest, "invalid_batch")
		errs, _ = r.Body["errors"].([]any)
		if len(errs) != 2 {
			t.Fatalf("%d problems, want 2: %s", len(errs), r.Raw)
		}
		for i, w := range []struct {
			line int
			code string
		}{{2, "invalid_payee"}, {4, "limit_exceeded"}} {
			m := errs[i].(map[string]any)
			if int(m["line"].(float64)) != w.line || m["code"] != w.code {
				t.Errorf("problem %d: %v, want record %d %s", i, m, w.line, w.code)
			}
		}
		expect(t, "not base64", o.requester.do(http.MethodPost, "/api/v1/transfer-batches", map[string]any{"from_account_id": o.main.ID, "file": "%%%"}),
			http.StatusBadRequest, "invalid_request")
	})
}

// TestBankingAPI_Privileges: only the master sets privileges, with the
// confirmation password; what is set is what applies.
func TestBankingAPI_Privileges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "権限労組", true)
		path := "/api/v1/users/" + o.none.creds.LoginID + "/privileges"
		set := func(a actor, pw string) map[string]any {
			return map[string]any{"inquiry": true, "transfer_request": true, "approval": false,
				"transaction_limit": 100_000, "daily_limit": 300_000, "confirmation_password": pw}
		}
		expect(t, "before", o.none.do(http.MethodGet, "/api/v1/accounts", nil), http.StatusForbidden, "forbidden")
		// A general user with every privilege is still not the master.
		all := o.login(t, b, func() testutil.Creds {
			c := b.NewGeneralUser(t, o.org)
			if err := b.Services.Banking.SetPrivileges(context.Background(), user(t, b, o.org.Master.LoginID), c.LoginID,
				banking.Privileges{Inquiry: true, TransferRequest: true, Approval: true, TransactionLimit: 1, DailyLimit: 1}); err != nil {
				t.Fatal(err)
			}
			return c
		}())
		expect(t, "general user", all.do(http.MethodPut, path, set(all, all.creds.Confirmation)), http.StatusForbidden, "forbidden")
		expect(t, "wrong confirmation password", o.master.do(http.MethodPut, path, set(o.master, "Wrong-Password1")), http.StatusForbidden, "invalid_confirmation_password")
		expect(t, "login password for confirmation", o.master.do(http.MethodPut, path, set(o.master, o.org.Master.Password)), http.StatusForbidden, "invalid_confirmation_password")
		missing := set(o.master, o.org.Master.Confirmation)
		delete(missing, "approval")
		expect(t, "a field left out", o.master.do(http.MethodPut, path, missing), http.StatusBadRequest, "invalid_request")
		negative := set(o.master, o.org.Master.Confirmation)
		negative["daily_limit"] = -1
		expect(t, "negative limit", o.master.do(http.MethodPut, path, negative), http.StatusBadRequest, "invalid_amount")
		expect(t, "the master's own", o.master.do(http.MethodPut, "/api/v1/users/"+o.org.Master.LoginID+"/privileges", set(o.master, o.org.Master.Confirmation)),
			http.StatusForbidden, "forbidden")
		expect(t, "unknown user", o.master.do(http.MethodPut, "/api/v1/users/nosuch99/privileges", set(o.master, o.org.Master.Confirmation)),
			http.StatusNotFound, "not_found")
		expect(t, "still none", o.none.do(http.MethodGet, "/api/v1/accounts", nil), http.StatusForbidden, "forbidden")

		r := o.master.do(http.MethodPut, path, set(o.master, o.org.Master.Confirmation))
		expect(t, "set", r, http.StatusOK, "")
		if r.Body["inquiry"] != true || r.Body["transfer_request"] != true || r.Body["approval"] != false ||
			r.Body["transaction_limit"].(float64) != 100_000 || r.Body["daily_limit"].(float64) != 300_000 || r.String("role") != "general" {
			t.Fatalf("set answer: %s", r.Raw)
		}
		r = o.none.do(http.MethodGet, path, nil)
		expect(t, "own privileges", r, http.StatusOK, "")
		if r.Body["transaction_limit"].(float64) != 100_000 {
			t.Fatalf("own privileges: %s", r.Raw)
		}
		expect(t, "now inquiry", o.none.do(http.MethodGet, "/api/v1/accounts", nil), http.StatusOK, "")
		expect(t, "over the transaction limit", o.none.do(http.MethodPost, "/api/v1/transfers", o.transferBody(100_001)), http.StatusConflict, "limit_exceeded")
		expect(t, "within it", o.none.do(http.MethodPost, "/api/v1/transfers", o.transferBody(100_000)), http.StatusCreated, "")
		r = o.master.do(http.MethodGet, "/api/v1/users/"+o.org.Master.LoginID+"/privileges", nil)
		expect(t, "the master's", r, http.StatusOK, "")
		if r.String("role") != "master" || r.Body["approval"] != true {
			t.Fatalf("the master's privileges: %s", r.Raw)
		}
	})
}

// TestBankingAPI_CrossOriginTransferRefused: a transfer request forged
// from another site, riding on a session, is refused and records nothing.
func TestBankingAPI_CrossOriginTransferRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := newBankingBank(t, db)
		o := newBankOrg(t, b, "CSRF振込労組", false)
		body := jsonBody(t, o.transferBody(50_000))
		for name, h := range map[string]map[string]string{
			"cross-site fetch":    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
			"foreign Origin only": {"Origin": "https://evil.example", "Content-Type": "application/json"},
			"form post":           {"Content-Type": "application/x-www-form-urlencoded"},
		} {
			r := o.requester.send(http.MethodPost, "/api/v1/transfers", body, h)
			if name == "form post" {
				expect(t, name, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
			} else {
				expect(t, name, r, http.StatusForbidden, "cross_origin")
			}
		}
		r := o.requester.do(http.MethodGet, "/api/v1/transfers", nil)
		expect(t, "list", r, http.StatusOK, "")
		if r.Body["total"].(float64) != 0 {
			t.Fatalf("a forged request recorded a transfer: %s", r.Raw)
		}
		same := o.requester.send(http.MethodPost, "/api/v1/transfers", body,
			map[string]string{"Origin": b.PortalURL, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"})
		expect(t, "same origin", same, http.StatusCreated, "")
	})
}
