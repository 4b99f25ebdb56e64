package cli_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"kinko/internal/audit"
	"kinko/internal/banking"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/server"
)

// TestOperatorRequests: every action of the list is filed and waits; a
// second operator with the approver role approves or rejects it; the maker
// cannot decide their own request, a clerk or an auditor cannot decide, an
// auditor cannot file, a reference is used once per kind; the master's
// passwords are reset by the bank; --json makes errors JSON.
func TestOperatorRequests(t *testing.T) {
	engines(t, testOperatorRequests)
}

func testOperatorRequests(t *testing.T, b bank) {
	ctx := context.Background()
	db := b.open(t)
	ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: identity.DefaultParams}})
	if err != nil {
		t.Fatal(err)
	}
	org := createOrg(t, b, "ひかり労働組合", "hikari01")
	openAccount(t, b, org.Code, "ordinary", "001", "1234567", "ﾋｶﾘﾛｳﾄﾞｳｸﾐｱｲ")
	balance := func() int64 {
		a, err := db.AccountByNumber(ctx, "001", banking.Ordinary, "1234567")
		if err != nil {
			t.Fatal(err)
		}
		return a.Balance
	}

	// Filing a deposit does nothing yet.
	deposit := b.operator("--operator", "yamada", "account", "deposit", "--branch", "001", "--number", "1234567",
		"--amount", "50000", "--description", "ﾌﾘｺﾐ", "--request-ref", "DEP-1")
	r := mustRun(t, deposit...)
	id := filed(t, deposit, r)
	if balance() != 0 {
		t.Fatal("a filed deposit was posted before its approval")
	}
	if !strings.Contains(r.stdout, "request approve "+id) {
		t.Errorf("filing output does not say how to approve:\n%s", r.stdout)
	}

	// The pending list shows it; show tells its parameters.
	r = mustRun(t, b.operator("request", "list", "--status", "pending", "--kind", "deposit")...)
	if !regexp.MustCompile(`(?m)^` + id + `\s+deposit\s+DEP-1\s+` + org.Code + `\s+pending\s+yamada`).MatchString(r.stdout) {
		t.Errorf("request list:\n%s", r.stdout)
	}
	r = mustRun(t, b.operator("request", "show", id)...)
	if !strings.Contains(r.stdout, `"amount":50000`) || !strings.Contains(r.stdout, "pending") {
		t.Errorf("request show:\n%s", r.stdout)
	}

	// Who may not decide it.
	for _, c := range []struct{ operator, code, msg string }{
		{"yamada", "forbidden", "decides no requests"},             // a clerk
		{"tanaka", "forbidden", "decides no requests"},             // an auditor
		{"nobody", "not_staff", "not one of the bank's operators"}, // not staff
	} {
		r = run(t, b.operator("--operator", c.operator, "--json", "request", "approve", id)...)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.stderr), &e); r.code != 1 || err != nil || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.msg) {
			t.Errorf("approval by %s: exit %d, stderr %q; want 1 and a JSON error %s", c.operator, r.code, r.stderr, c.code)
		}
	}
	if balance() != 0 {
		t.Fatal("a refused approval posted the deposit")
	}

	// An auditor files nothing.
	r = run(t, b.operator("--operator", "tanaka", "limit", "set", "--org", org.Code, "--daily", "5", "--request-ref", "LIM-A")...)
	if r.code != 1 || !strings.Contains(r.stderr, "files no requests") {
		t.Errorf("an auditor files: exit %d, %q", r.code, r.stderr)
	}

	// An auditor opens no account either.
	r = run(t, b.operator("--operator", "tanaka", "account", "open", "--org", org.Code, "--branch", "001", "--number", "7777777", "--holder", "ｶﾅ", "--request-ref", "OPEN-A")...)
	if r.code != 1 || !strings.Contains(r.stderr, "only reads") {
		t.Errorf("an auditor opens an account: exit %d, %q", r.code, r.stderr)
	}

	// The maker cannot approve their own request, an approver's included.
	own := b.operator("--operator", "suzuki", "limit", "set", "--org", org.Code, "--daily", "5", "--request-ref", "LIM-1")
	ownID := filed(t, own, mustRun(t, own...))
	r = run(t, b.operator("--operator", "suzuki", "request", "approve", ownID)...)
	if r.code != 1 || !strings.Contains(r.stderr, "not by the one who filed it") {
		t.Errorf("approving one's own request: exit %d, %q", r.code, r.stderr)
	}

	// A second operator approves: the deposit is posted once.
	r = mustRun(t, b.operator("--operator", "kobayashi", "request", "approve", id)...)
	if !strings.Contains(r.stdout, "approved by kobayashi; filed by yamada") || !strings.Contains(r.stdout, "Deposited 50,000 yen") || balance() != 50000 {
		t.Errorf("approval: balance %d\n%s", balance(), r.stdout)
	}
	r = run(t, b.operator("--operator", "suzuki", "request", "approve", id)...)
	if r.code != 1 || !strings.Contains(r.stderr, "already decided") || balance() != 50000 {
		t.Errorf("a second approval: exit %d, %q, balance %d", r.code, r.stderr, balance())
	}

	// The same reference: refused for a deposit, allowed for another kind.
	r = run(t, deposit...)
	if r.code != 1 || !strings.Contains(r.stderr, "already used") {
		t.Errorf("a second deposit under DEP-1: exit %d, %q", r.code, r.stderr)
	}
	mustRun(t, b.operator("--operator", "yamada", "limit", "set", "--org", org.Code, "--daily", "7", "--request-ref", "DEP-1")...)

	// Rejected: nothing happens, and the reason stays.
	r = mustRun(t, b.operator("--operator", "kobayashi", "request", "reject", ownID, "--reason", "金額の記入漏れ")...)
	if !strings.Contains(r.stdout, "rejected by kobayashi: 金額の記入漏れ") {
		t.Errorf("reject output:\n%s", r.stdout)
	}
	o, err := db.OrganizationByCode(ctx, org.Code)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.OrganizationDailyLimit(ctx, o.ID); err != nil || ok {
		t.Errorf("a rejected limit was set: %v, %v", ok, err)
	}
	var shown map[string]any
	decodeStrict(t, mustRun(t, b.operator("--json", "request", "show", ownID)...).stdout, &shown)
	if shown["status"] != "rejected" || shown["reason"] != "金額の記入漏れ" || shown["checker"] != "kobayashi" || shown["maker"] != "suzuki" {
		t.Errorf("rejected request: %v", shown)
	}

	// The master forgot the passwords and is locked: the bank resets them.
	u, _, err := db.UserByLoginID(ctx, "hikari01")
	if err != nil {
		t.Fatal(err)
	}
	for range identity.LockAfter {
		_ = ident.CheckPassword(ctx, u, identity.LoginPassword, "Wrong-password-1", "test")
	}
	reset := b.operator("--operator", "yamada", "--json", "user", "reset-password", "--login-id", "hikari01", "--request-ref", "PWR-1")
	r = approved(t, b, reset)
	var pw struct {
		LoginID              string `json:"login_id"`
		Password             string `json:"password"`
		ConfirmationPassword string `json:"confirmation_password"`
		ChangeRequired       bool   `json:"change_required"`
	}
	decodeStrict(t, r.stdout, &pw)
	if pw.LoginID != "hikari01" || pw.Password == "" || pw.ConfirmationPassword == "" || !pw.ChangeRequired {
		t.Errorf("reset output: %+v", pw)
	}
	u, _, err = ident.Authenticate(ctx, "hikari01", pw.Password, "test", netip.Addr{})
	if err != nil || !u.PasswordChangeRequired || !u.ConfirmationChangeRequired || u.Locked() {
		t.Errorf("after the reset: %+v, %v; want a master, unlocked, who must change both passwords", u, err)
	}
	if err := ident.CheckPassword(ctx, u, identity.ConfirmationPassword, pw.ConfirmationPassword, "test"); err != nil {
		t.Errorf("the new confirmation password: %v", err)
	}
	// The passwords are never shown again.
	for _, args := range [][]string{b.operator("request", "list"), b.operator("--json", "request", "list")} {
		if out := mustRun(t, args...).stdout; strings.Contains(out, pw.Password) || strings.Contains(out, pw.ConfirmationPassword) {
			t.Errorf("%v shows a password:\n%s", args, out)
		}
	}
	if evs := auditEvents(t, db, audit.PasswordsReset); len(evs) != 1 || evs[0].RequestRef != "PWR-1" || evs[0].Actor != "operator:"+checker {
		t.Errorf("passwords reset events: %+v", evs)
	}
	// A general user's passwords are the master's to reset.
	master, _, err := db.UserByLoginID(ctx, "hikari01")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ident.CreateGeneralUserWithPasswords(ctx, master, "hgeneral1", "一般", "g@hikari.example",
		identity.InitialPasswords{Password: "Login-hgeneral1", ConfirmationPassword: "Confirm-hgeneral1"}); err != nil {
		t.Fatal(err)
	}
	r = run(t, b.operator("user", "reset-password", "--login-id", "hgeneral1", "--request-ref", "PWR-2")...)
	if r.code != 1 || !strings.Contains(r.stderr, "master user") {
		t.Errorf("reset of a general user: exit %d, %q", r.code, r.stderr)
	}

	// A failed action: the request is failed, with the reason.
	unlock := b.operator("--operator", "yamada", "user", "unlock", "--login-id", "hikari01", "--request-ref", "UNL-1")
	// (the master is not locked now: the filing is refused before a request is made)
	if r = run(t, unlock...); r.code != 1 || !strings.Contains(r.stderr, "not locked") {
		t.Errorf("unlock of a user not locked: exit %d, %q", r.code, r.stderr)
	}
	dep := b.operator("--operator", "yamada", "account", "deposit", "--branch", "001", "--number", "1234567",
		"--amount", "1", "--description", "ﾌﾘｺﾐ", "--request-ref", "DEP-2")
	depID := filed(t, dep, mustRun(t, dep...))
	if _, err := db.SQL().ExecContext(ctx, `UPDATE operator_requests SET params = $1 WHERE id = $2`,
		`{"branch_code":"001","account_type":"ordinary","account_number":"7777777","amount":1,"description":"x"}`, depID); err != nil {
		t.Fatal(err)
	}
	r = run(t, b.approveArgs(dep, depID)...)
	if r.code != 1 || !strings.Contains(r.stderr, "request "+depID+" failed, nothing was done") {
		t.Errorf("a failing approval: exit %d, %q", r.code, r.stderr)
	}
	decodeStrict(t, mustRun(t, b.operator("--json", "request", "show", depID)...).stdout, &shown)
	if shown["status"] != "failed" || !strings.Contains(shown["reason"].(string), "not found") {
		t.Errorf("failed request: %v", shown)
	}

	// staff list.
	r = mustRun(t, b.operator("staff", "list")...)
	if !regexp.MustCompile(`(?m)^yamada\s+職員 yamada\s+担当者 \(clerk\)\s+active`).MatchString(r.stdout) {
		t.Errorf("staff list:\n%s", r.stdout)
	}
	r = mustRun(t, b.operator("staff", "add", "--name", "ito", "--display-name", "伊藤 一郎", "--role", "clerk")...)
	if !strings.Contains(r.stdout, "Operator ito (伊藤 一郎) added as 担当者 (clerk)") {
		t.Errorf("staff add:\n%s", r.stdout)
	}
	if r = run(t, b.operator("staff", "add", "--name", "ITO", "--display-name", "伊藤", "--role", "clerk")...); r.code != 1 || !strings.Contains(r.stderr, "exists") {
		t.Errorf("staff add of a taken name: exit %d, %q", r.code, r.stderr)
	}

	// The first operators' certificates are made on the server: a PKCS#12
	// file of the operator CA, its password shown once, the certificate
	// recorded for the operator, whom the console's check then finds.
	p12Path := filepath.Join(t.TempDir(), "kimura.p12")
	r = mustRun(t, append(b.operator("staff", "add", "--name", "kimura", "--display-name", "木村 花子", "--role", "approver",
		"--out", p12Path), "--data", b.dir, "--json")...)
	var added map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &added); err != nil || added["pkcs12_password"] == "" {
		t.Fatalf("staff add --out: %v\n%s", err, r.stdout)
	}
	fi, err := os.Stat(p12Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the PKCS#12 file: %v, mode %v; want 0600", err, fi.Mode())
	}
	raw, _ := os.ReadFile(p12Path)
	_, cert, _, err := pkcs12.DecodeChain(raw, added["pkcs12_password"])
	if err != nil {
		t.Fatalf("decode the operator's PKCS#12 file: %v", err)
	}
	ops, err := operators.New(operators.Config{Store: db, Actions: server.OperatorActions{}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := ops.StaffByCertificate(ctx, pki.Fingerprint(cert.Raw)); err != nil || st.Name != "kimura" || st.Role != operators.RoleApprover {
		t.Errorf("the certificate's operator: %+v %v, want kimura, approver", st, err)
	}
	ca, err := pki.LoadOperatorCA(filepath.Join(b.dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the operator's certificate does not chain to the operator CA: %v", err)
	}
	if r = run(t, append(b.operator("staff", "add", "--name", "kubo", "--display-name", "久保", "--role", "clerk", "--out", p12Path), "--data", b.dir)...); r.code != 2 {
		t.Errorf("staff add --out over an existing file: exit %d, %q", r.code, r.stderr)
	}
}
