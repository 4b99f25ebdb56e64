package e2e_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/identity"
	"kinko/internal/testutil"
)

// fuzzRoute is an endpoint of the API that reads a JSON body, and who sends
// to it: the master of an organization with ID + password login (portal),
// a client without a session (anonymous), or the master of an organization
// with certificate login (certPortal).
type fuzzRoute struct {
	method, path string
	as           string // "portal", "anonymous", "certAnonymous", "certPortal"
	seeds        []string
}

// FuzzAPIRequestBodies sends arbitrary bodies to every endpoint of the API
// that decodes JSON, through the real listeners, as a logged-in user where
// the endpoint needs one. Whatever the body, the answer is never a server
// error: it is a success, or a refusal in JSON with an error code and a
// message. The seeds are valid bodies of each endpoint and their near
// misses; the corpus in testdata/fuzz keeps what the fuzzer found.
func FuzzAPIRequestBodies(f *testing.F) {
	b := testutil.NewBankAt(f, testutil.OpenSQLite(f), bankingNow, nil)
	ctx := context.Background()
	svc := b.Services.Banking

	org := b.NewOrg(f, "ファズ労働組合", false)
	from, err := svc.OpenAccount(ctx, org.Code, banking.Ordinary, "001", nextAccountNumber(), "ﾌｱｽﾞﾛｳｿ", "test", "REQ-FUZZ-1")
	if err != nil {
		f.Fatalf("open account: %v", err)
	}
	to, err := svc.OpenAccount(ctx, org.Code, banking.Current, "001", nextAccountNumber(), "ﾌｱｽﾞﾛｳｿ", "test", "REQ-FUZZ-2")
	if err != nil {
		f.Fatalf("open account: %v", err)
	}
	if _, err := svc.Deposit(ctx, from.ID, 1_000_000, "組合費", "test", "REQ-FUZZ-3"); err != nil {
		f.Fatalf("deposit: %v", err)
	}
	general := b.NewGeneralUser(f, org)
	master := passwordLogin(f, b, org.Master)
	transfer := map[string]any{"from_account_id": from.ID, "payee": payeeTo(to), "amount": 1000,
		"execution_date": bankingToday, "memo": "備品代"}
	r := master.Portal(http.MethodPost, "/api/v1/transfers", transfer)
	expect(f, "POST /api/v1/transfers", r, http.StatusCreated, "")
	transferID := idOf(f, r)

	certOrg := b.NewOrg(f, "ファズ証明書組合", true)
	cert := b.IssueCertificate(f, certOrg.Master)
	certMaster := certLogin(f, b, cert, certOrg.Master)
	certAnonymous := b.Client(cert)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	csr := testutil.NewCSR(f, key)
	js := func(v any) string {
		out, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return string(out)
	}
	id := func(n int64) string { return strings.TrimSpace(js(n)) }
	routes := []fuzzRoute{
		{"POST", "/api/v1/sessions", "anonymous", []string{
			js(map[string]string{"login_id": "nobody01", "password": "wrong-password"}),
			js(map[string]any{"login_id": 1, "password": nil})}},
		{"POST", "/api/v1/certificates", "anonymous", []string{
			js(map[string]string{"login_id": "nobody01", "password": "wrong-password", "csr": csr}),
			js(map[string]string{"login_id": "nobody01", "password": "x", "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"})}},
		{"POST", "/api/v1/sessions", "certAnonymous", []string{js(map[string]string{"password": "wrong-password"})}},
		{"POST", "/api/v1/certificates/renewal", "certPortal", []string{js(map[string]string{"csr": csr})}},
		{"POST", "/api/v1/me/password", "portal", []string{
			js(map[string]string{"current": "wrong-password", "new": "Another-Pass-93"})}},
		{"POST", "/api/v1/me/confirmation-password", "portal", []string{
			js(map[string]string{"current": "wrong-password", "new": "Another-Pass-93"})}},
		{"POST", "/api/v1/users", "portal", []string{
			js(map[string]string{"login_id": "fz0000001", "name": "一般 ユーザ", "email": "fz@example.org"}),
			js(map[string]string{"login_id": "", "name": "\u202e", "email": "@"})}},
		{"POST", "/api/v1/users/" + general.LoginID + "/unlock", "portal", []string{
			js(map[string]string{"confirmation_password": "wrong-password"})}},
		{"POST", "/api/v1/users/" + general.LoginID + "/certificate/revocation", "portal", []string{
			js(map[string]string{"reason": "keyCompromise", "confirmation_password": "wrong-password"})}},
		{"PUT", "/api/v1/users/" + general.LoginID + "/privileges", "portal", []string{
			js(map[string]any{"inquiry": true, "transfer_request": true, "approval": false, "transaction_limit": 1000, "daily_limit": 5000,
				"confirmation_password": "wrong-password"})}},
		{"POST", "/api/v1/payees", "portal", []string{js(payeeTo(to)),
			js(map[string]any{"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "1234567", "name": "ｱ"})}},
		{"POST", "/api/v1/transfers", "portal", []string{js(transfer),
			js(map[string]any{"from_account_id": from.ID, "payee": payeeTo(to), "amount": -1, "execution_date": "2026-02-30"}),
			js(map[string]any{"from_account_id": from.ID, "payee": payeeTo(to), "amount": 1e300, "execution_date": bankingToday})}},
		{"PUT", "/api/v1/transfers/" + id(transferID), "portal", []string{js(transfer)}},
		{"POST", "/api/v1/transfers/" + id(transferID) + "/approval", "portal", []string{
			js(map[string]string{"confirmation_password": "wrong-password"})}},
		{"POST", "/api/v1/transfers/" + id(transferID) + "/send-back", "portal", []string{js(map[string]string{"comment": "金額を確認"})}},
		{"POST", "/api/v1/transfer-batches", "portal", []string{
			js(map[string]any{"from_account_id": from.ID, "execution_date": bankingToday,
				"file": base64.StdEncoding.EncodeToString([]byte("1210000000000000000000000000\r\n")), "file_name": "sogo.txt"})}},
		{"POST", "/api/v1/transfer-batches/1/approval", "portal", []string{js(map[string]string{"confirmation_password": "x"})}},
	}
	clients := map[string]*testutil.Client{"portal": master, "certPortal": certMaster, "certAnonymous": certAnonymous}
	for i, rt := range routes {
		for _, s := range rt.seeds {
			f.Add(uint8(i), []byte(s))
		}
		f.Add(uint8(i), []byte(`{"`+strings.Repeat("a", 100)+`":`))
		f.Add(uint8(i), []byte(`[]`))
	}
	f.Add(uint8(0), bytes.Repeat([]byte("["), 10000))

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		cl := clients[rt.as]
		if cl == nil {
			// Anonymous: a client of its own, so no session is replaced,
			// from an address of its own, so that the throttling of its
			// failed logins never holds back the users' logins again.
			cl = clientFrom(b, nil, "127.0.0.9")
		}
		base := b.PortalURL
		if strings.HasPrefix(rt.as, "cert") {
			base = b.CertPortalURL
		}
		r := send(cl, rt.method, base+rt.path, body, map[string]string{"Content-Type": "application/json"})
		if r.Err != nil {
			t.Fatalf("%s %s: %v", rt.method, rt.path, r.Err)
		}
		if r.Status >= 500 {
			t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, body, r.Status, r.Raw)
		}
		if r.Status >= 400 && (r.ErrorCode() == "" || r.String("message") == "") {
			t.Fatalf("%s %s with %q: %d without error code and message: %s", rt.method, rt.path, body, r.Status, r.Raw)
		}
		// Wrong passwords lock a user, and a lock ends the user's
		// sessions: the bank unlocks and the user logs in again, so that
		// the next inputs reach the endpoints behind the login.
		if r.Status == http.StatusUnauthorized && r.ErrorCode() == "unauthenticated" && rt.as == "portal" {
			if err := b.Services.Identity.UnlockByBank(ctx, org.Master.LoginID, "test", "REQ-FUZZ-UNLOCK"); err != nil && !errors.Is(err, identity.ErrNotLocked) {
				t.Fatalf("unlock: %v", err)
			}
			clients["portal"] = passwordLogin(t, b, org.Master)
		}
	})
}
