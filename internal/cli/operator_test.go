package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// bank is a data directory made by "kinko init", on one engine.
type bank struct {
	dir  string
	root string   // the root CA's key directory, outside dir
	dsn  string   // the database: SQLite in dir, or a PostgreSQL schema
	db   []string // the operator's database flags
}

// operator returns the arguments of "kinko operator" on the bank's database.
func (b bank) operator(args ...string) []string {
	return append(append([]string{"operator"}, b.db...), args...)
}

// open opens the bank's database to look at what the CLI did.
func (b bank) open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// initBank runs "kinko init" on a new data directory, with the database on
// SQLite (pgDSN empty) or PostgreSQL.
func initBank(t *testing.T, pgDSN string) bank {
	t.Helper()
	b := bank{dir: filepath.Join(t.TempDir(), "data"), root: filepath.Join(t.TempDir(), "offline-root")}
	args := []string{"init", "--data", b.dir, "--root-dir", b.root, "--name", "Example Rokin Bank"}
	if pgDSN != "" {
		args = append(args, "--db", pgDSN)
		b.dsn, b.db = pgDSN, []string{"--db", pgDSN}
	} else {
		b.dsn, b.db = store.SQLitePath(b.dir), []string{"--data", b.dir}
	}
	r := mustRun(t, args...)
	dialect := "sqlite"
	if pgDSN != "" {
		dialect = "postgres"
	}
	if !strings.Contains(r.stdout, "Database ready ("+dialect+")") {
		t.Errorf("init output does not say the %s database is ready:\n%s", dialect, r.stdout)
	}
	addStaff(t, b)
	return b
}

// checker is the approver who approves the tests' requests.
const checker = "checker"

// addStaff adds the bank's operators of the tests: the OS user (the
// default --operator) and suzuki, kobayashi and checker as approvers,
// yamada as a clerk, tanaka as an auditor.
func addStaff(t *testing.T, b bank) {
	t.Helper()
	db, err := store.Open(context.Background(), b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := operators.New(operators.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	staff := map[string]operators.Role{"yamada": operators.RoleClerk, "suzuki": operators.RoleApprover,
		"kobayashi": operators.RoleApprover, checker: operators.RoleApprover, "tanaka": operators.RoleAuditor}
	if u, err := user.Current(); err == nil {
		staff[u.Username] = operators.RoleApprover
	}
	for name, role := range staff {
		if _, err := svc.AddStaff(context.Background(), operators.NewStaff{Name: name, DisplayName: "職員 " + name, Role: role}, ""); err != nil {
			t.Fatalf("add operator %s: %v", name, err)
		}
	}
}

var filedID = regexp.MustCompile(`^request ([0-9]+) filed: waits for approval by a second operator \(承認者\)\n`)

// filed returns the ID of the request a filing command printed.
func filed(t *testing.T, args []string, r result) string {
	t.Helper()
	if slices.Contains(args, "--json") {
		var req struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &req); err != nil || req.ID == 0 || req.Status != "pending" {
			t.Fatalf("kinko %s: not a pending request (%v):\n%s", strings.Join(args, " "), err, r.stdout)
		}
		return strconv.FormatInt(req.ID, 10)
	}
	m := filedID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("kinko %s: no request filed:\n%s", strings.Join(args, " "), r.stdout)
	}
	return m[1]
}

// approveArgs are the arguments of the checker's approval of request id,
// with --json when the filing had it.
func (b bank) approveArgs(filing []string, id string) []string {
	args := []string{"--operator", checker}
	if slices.Contains(filing, "--json") {
		args = append(args, "--json")
	}
	return b.operator(append(args, "request", "approve", id)...)
}

// approved files a request with the command line args, has the checker
// approve it, and returns the approval's output; with --json, stdout is
// the approval's "result", what the action did.
func approved(t *testing.T, b bank, args []string) result {
	t.Helper()
	r := tryApproved(t, b, args)
	if r.code != 0 {
		t.Fatalf("kinko %s, approved: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// tryApproved is approved that returns a refused filing's or approval's
// result instead of failing the test.
func tryApproved(t *testing.T, b bank, args []string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		return r
	}
	a := run(t, b.approveArgs(args, filed(t, args, r))...)
	if a.code != 0 || !slices.Contains(args, "--json") {
		return a
	}
	var out struct {
		Request map[string]any  `json:"request"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(a.stdout), &out); err != nil || out.Request["status"] != "approved" {
		t.Fatalf("approval --json (%v):\n%s", err, a.stdout)
	}
	a.stdout = string(out.Result)
	return a
}

// engines runs f on SQLite and, when KINKO_TEST_POSTGRES is set, on
// PostgreSQL.
func engines(t *testing.T, f func(t *testing.T, b bank)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, initBank(t, ""))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, initBank(t, postgresDSN(t)))
	})
}

// auditEvents returns the events of one type.
func auditEvents(t *testing.T, db *store.DB, typ audit.Type) []audit.Event {
	t.Helper()
	evs, err := db.ListAudit(context.Background(), store.AuditFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestInit(t *testing.T) {
	b := initBank(t, "")
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{
		{pki.RootCertFile, 0o644},
		{pki.IssuingCertFile, 0o644}, {pki.IssuingKeyFile, 0o600},
		{pki.OperatorCertFile, 0o644}, {pki.OperatorKeyFile, 0o600},
		{pki.ServerCertFile, 0o644}, {pki.ServerKeyFile, 0o600},
	} {
		st, err := os.Stat(filepath.Join(b.dir, "pki", f.name))
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if f.mode == 0o600 && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f.name, st.Mode().Perm())
		}
	}
	a, err := pki.Load(filepath.Join(b.dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Root.Subject.Organization; len(got) == 0 || got[0] != "Example Rokin Bank" {
		t.Errorf("root CA organization = %v, want the --name", got)
	}
	if _, err := os.Stat(store.SQLitePath(b.dir)); err != nil {
		t.Errorf("SQLite database: %v", err)
	}
	// A second init keeps the authority.
	root, _ := os.ReadFile(filepath.Join(b.dir, "pki", pki.RootCertFile))
	r := mustRun(t, "init", "--data", b.dir, "--root-dir", b.root)
	if !strings.Contains(r.stdout, "already exists; keeping it") {
		t.Errorf("second init output:\n%s", r.stdout)
	}
	if again, _ := os.ReadFile(filepath.Join(b.dir, "pki", pki.RootCertFile)); string(again) != string(root) {
		t.Errorf("second init replaced the root CA")
	}
	r = mustRun(t, "migrate", "--data", b.dir)
	if !strings.Contains(r.stdout, "Migrations applied (sqlite)") {
		t.Errorf("migrate output:\n%s", r.stdout)
	}
}

type orgCreated struct {
	Code             string `json:"code"`
	Name             string `json:"name"`
	CertificateLogin bool   `json:"certificate_login"`
	Master           struct {
		LoginID              string `json:"login_id"`
		Email                string `json:"email"`
		Password             string `json:"password"`
		ConfirmationPassword string `json:"confirmation_password"`
	} `json:"master"`
}

func decodeStrict(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, s)
	}
}

// TestOperator runs the bank's operator commands in the order of a bank's
// day: create organizations, enable certificate login on a written
// application, list and revoke certificates, unlock a user.
func TestOperator(t *testing.T) {
	engines(t, testOperator)
}

func testOperator(t *testing.T, b bank) {
	ctx := context.Background()
	db := b.open(t)
	ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: identity.DefaultParams}})
	if err != nil {
		t.Fatal(err)
	}

	// org create, text: the master's initial passwords, once.
	r := approved(t, b, b.operator("org", "create", "--name", "ひかり労働組合", "--master-login-id", "hikari01", "--master-email", "m@hikari.example", "--request-ref", "APP-2026-0041"))
	m := regexp.MustCompile(`Organization ([0-9]{8}) "ひかり労働組合" created \(certificate login off\)\.\nMaster user hikari01: initial login password (\S+), confirmation password (\S+)\n`).FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(r.stdout, "shown only now") {
		t.Fatalf("org create output:\n%s", r.stdout)
	}
	code1, pw1, conf1 := m[1], m[2], m[3]
	if pw1 == conf1 || identity.ValidatePassword(pw1, "hikari01") != nil || identity.ValidatePassword(conf1, "hikari01") != nil {
		t.Errorf("initial passwords %q, %q: want two different valid passwords", pw1, conf1)
	}
	// The printed password is the one stored (one argon2id check), and must
	// be changed at the first login.
	u, org, err := ident.Authenticate(ctx, "hikari01", pw1, "test", netip.Addr{})
	if err != nil {
		t.Fatalf("the printed initial password does not log in: %v", err)
	}
	if !u.PasswordChangeRequired || !u.ConfirmationChangeRequired || u.Role != identity.RoleMaster || org.Code != code1 || org.CertificateLogin {
		t.Errorf("created master %+v in %+v: want a master who must change both passwords, certificate login off", u, org)
	}

	// org create --json.
	r = approved(t, b, b.operator("--json", "--operator", "yamada", "org", "create", "--name", "みどり生協", "--master-login-id", "midori01", "--master-email", "m@midori.example", "--request-ref", "APP-2026-0042"))
	var created orgCreated
	decodeStrict(t, r.stdout, &created)
	if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(created.Code) || created.Code == code1 || created.Name != "みどり生協" || created.CertificateLogin ||
		created.Master.LoginID != "midori01" || created.Master.Email != "m@midori.example" ||
		identity.ValidatePassword(created.Master.Password, "midori01") != nil || identity.ValidatePassword(created.Master.ConfirmationPassword, "midori01") != nil {
		t.Errorf("org create --json = %+v", created)
	}
	evs := auditEvents(t, db, audit.OrganizationCreated)
	if len(evs) != 2 || evs[1].Actor != "operator:"+checker || !strings.Contains(evs[1].Detail, created.Code) || evs[1].RequestRef != "APP-2026-0042" || evs[0].RequestRef != "APP-2026-0041" {
		t.Errorf("organization.created events = %+v, want the second by the approver naming %s with request APP-2026-0042", evs, created.Code)
	}
	evs = auditEvents(t, db, audit.OperatorRequestFiled)
	if len(evs) != 2 || evs[1].Actor != "operator:yamada" || evs[1].RequestRef != "APP-2026-0042" {
		t.Errorf("operator.request_filed events = %+v, want the second by operator:yamada with request APP-2026-0042", evs)
	}
	osUser, err := user.Current()
	if err == nil && len(evs) == 2 && evs[0].Actor != "operator:"+osUser.Username {
		t.Errorf("without --operator the maker is %q, want operator:%s (the OS user)", evs[0].Actor, osUser.Username)
	}

	// The passwords are never shown again.
	for _, args := range [][]string{b.operator("org", "list"), b.operator("--json", "org", "list")} {
		r = mustRun(t, args...)
		for _, secret := range []string{pw1, conf1, created.Master.Password, created.Master.ConfirmationPassword} {
			if strings.Contains(r.stdout, secret) {
				t.Errorf("%v shows an initial password:\n%s", args, r.stdout)
			}
		}
	}
	var orgs []map[string]any
	decodeStrict(t, r.stdout, &orgs)
	if len(orgs) != 2 {
		t.Fatalf("org list --json: %v", orgs)
	}
	for _, o := range orgs {
		if _, err := time.Parse(time.RFC3339, o["created_at"].(string)); err != nil || o["certificate_login"] != false {
			t.Errorf("org list --json row %v", o)
		}
	}

	// A taken login ID.
	r = run(t, b.operator("org", "create", "--name", "別の団体", "--master-login-id", "hikari01", "--master-email", "x@example.jp", "--request-ref", "APP-X")...)
	if r.code != 1 || !strings.Contains(r.stderr, "login ID already in use") {
		t.Errorf("org create with a taken login ID: exit %d, %q", r.code, r.stderr)
	}

	// org certificate-login: the written request's reference is required (R4).
	r = run(t, b.operator("org", "certificate-login", "--org", code1, "--enable")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--request-ref") {
		t.Errorf("certificate-login without --request-ref: exit %d, %q; want 2 naming --request-ref", r.code, r.stderr)
	}
	if o, err := ident.OrganizationByCode(ctx, code1); err != nil || o.CertificateLogin {
		t.Errorf("after a refused command: %+v, %v; want certificate login still off", o, err)
	}
	r = approved(t, b, b.operator("--operator", "suzuki", "--json", "org", "certificate-login", "--org", code1, "--enable", "--request-ref", "APP-2026-0042"))
	var state map[string]any
	decodeStrict(t, r.stdout, &state)
	if diff := cmp.Diff(map[string]any{"code": code1, "name": "ひかり労働組合", "certificate_login": true}, state); diff != "" {
		t.Errorf("certificate-login --json (-want +got):\n%s", diff)
	}
	evs = auditEvents(t, db, audit.CertificateLoginEnabled)
	if len(evs) != 1 || evs[0].RequestRef != "APP-2026-0042" || evs[0].Actor != "operator:"+checker {
		t.Errorf("certificate login events = %+v, want one with the request's reference by the approver", evs)
	}
	r = run(t, b.operator("org", "certificate-login", "--org", code1, "--enable", "--request-ref", "APP-2026-0043")...)
	if r.code != 1 || !strings.Contains(r.stderr, "nothing to do") {
		t.Errorf("enabling twice: exit %d, %q", r.code, r.stderr)
	}

	// A certificate for the first organization's master, issued through the
	// services as the portal would.
	serial := issueDirect(t, b, db, "hikari01")

	// cert list --json.
	type certRow struct {
		Serial           string `json:"serial"`
		Organization     string `json:"organization"`
		LoginID          string `json:"login_id"`
		Status           string `json:"status"`
		NotBefore        string `json:"not_before"`
		NotAfter         string `json:"not_after"`
		RevokedAt        string `json:"revoked_at,omitempty"`
		RevocationReason string `json:"revocation_reason,omitempty"`
		RequestRef       string `json:"request_ref,omitempty"`
	}
	c, err := db.CertificateBySerial(ctx, serial)
	if err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, b.operator("--json", "cert", "list")...)
	var rows []certRow
	decodeStrict(t, r.stdout, &rows)
	want := []certRow{{Serial: serial, Organization: code1, LoginID: "hikari01", Status: "active",
		NotBefore: c.NotBefore.Format(time.RFC3339), NotAfter: c.NotAfter.Format(time.RFC3339)}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("cert list --json (-want +got):\n%s", diff)
	}
	r = mustRun(t, b.operator("--json", "cert", "list", "--org", created.Code)...)
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("cert list --org of an organization without certificates: %q, want []", r.stdout)
	}
	r = mustRun(t, b.operator("cert", "list", "--org", code1)...)
	if !strings.Contains(r.stdout, "SERIAL") || !strings.Contains(r.stdout, serial) || !strings.Contains(r.stdout, "active") {
		t.Errorf("cert list:\n%s", r.stdout)
	}

	// cert revoke: the bank revokes a master's certificate on a written
	// request (R12); the serial may be written as openssl prints it.
	colons := strings.ToUpper(regexp.MustCompile(`(..)`).ReplaceAllString(serial, "$1:"))
	colons = strings.TrimSuffix(colons, ":")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no request reference", []string{"--serial", serial, "--reason", "keyCompromise"}, 2, "--request-ref"},
		{"unknown reason", []string{"--serial", serial, "--reason", "lost", "--request-ref", "REV-1"}, 1, "invalid revocation reason"},
		{"unknown serial", []string{"--serial", "0123456789abcdef", "--reason", "keyCompromise", "--request-ref", "REV-1"}, 1, "not found"},
	}
	for _, tt := range tests {
		t.Run("revoke "+tt.name, func(t *testing.T) {
			r := run(t, b.operator(append([]string{"cert", "revoke"}, tt.args...)...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.contains) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.contains)
			}
		})
	}
	r = approved(t, b, b.operator("--operator", "kobayashi", "--json", "cert", "revoke", "--serial", colons, "--reason", "keyCompromise", "--request-ref", "REV-2026-0007"))
	var revoked map[string]string
	decodeStrict(t, r.stdout, &revoked)
	revokedAt, err := time.Parse(time.RFC3339, revoked["revoked_at"])
	if err != nil || time.Since(revokedAt) > time.Minute {
		t.Errorf("revoked_at %q: %v", revoked["revoked_at"], err)
	}
	if diff := cmp.Diff(map[string]string{"serial": serial, "revoked_at": revoked["revoked_at"], "reason": "keyCompromise", "request_ref": "REV-2026-0007",
		"login_id": "hikari01", "role": "master", "organization": code1}, revoked); diff != "" {
		t.Errorf("cert revoke --json (-want +got):\n%s", diff)
	}
	evs = auditEvents(t, db, audit.CertificateRevoked)
	if len(evs) != 1 || evs[0].RequestRef != "REV-2026-0007" || evs[0].Actor != "operator:"+checker || evs[0].Serial != serial {
		t.Errorf("revocation events = %+v, want one for %s by the approver with the reference", evs, serial)
	}
	if c, err := db.CertificateBySerial(ctx, serial); err != nil || c.Status != certs.StatusRevoked {
		t.Errorf("certificate after revocation: %+v, %v", c, err)
	}
	// The mails about it wait in the outbox as intents, to the user and
	// to the master, for the server's sender to compose and sign.
	var roles []string
	mails, err := db.SQL().QueryContext(ctx, `SELECT recipient_role, body FROM mail_outbox WHERE kind = 'certificate_revoked' ORDER BY id`)
	if err != nil {
		t.Fatalf("the revocation's mails: %v", err)
	}
	for mails.Next() {
		var role, body string
		if err := mails.Scan(&role, &body); err != nil {
			t.Fatal(err)
		}
		if body != "" {
			t.Errorf("the revocation's mail to the %s was composed by the command:\n%s", role, body)
		}
		roles = append(roles, role)
	}
	mails.Close()
	if diff := cmp.Diff([]string{"user", "master"}, roles); diff != "" {
		t.Errorf("the revocation's mails (-want +got):\n%s", diff)
	}
	r = mustRun(t, b.operator("--json", "cert", "list")...)
	rows = nil
	decodeStrict(t, r.stdout, &rows)
	want[0].Status, want[0].RevokedAt, want[0].RevocationReason, want[0].RequestRef = "revoked", revoked["revoked_at"], "keyCompromise", "REV-2026-0007"
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("cert list --json after revocation (-want +got):\n%s", diff)
	}
	r = run(t, b.operator("cert", "revoke", "--serial", serial, "--reason", "superseded", "--request-ref", "REV-2026-0008")...)
	if r.code != 1 || !strings.Contains(r.stderr, "already revoked") {
		t.Errorf("revoking twice: exit %d, %q", r.code, r.stderr)
	}

	// user unlock: the bank unlocks a master user on a written request.
	u, _, err = db.UserByLoginID(ctx, "midori01")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < identity.LockAfter; i++ {
		if err := ident.CheckPassword(ctx, u, identity.LoginPassword, "Wrong-password-1", "test"); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	}
	if u, _, _ = db.UserByLoginID(ctx, "midori01"); !u.Locked() {
		t.Fatalf("midori01 not locked after %d failures", identity.LockAfter)
	}
	r = approved(t, b, b.operator("--operator", "kobayashi", "--json", "user", "unlock", "--login-id", "midori01", "--request-ref", "UNL-0003"))
	var unlocked map[string]any
	decodeStrict(t, r.stdout, &unlocked)
	if diff := cmp.Diff(map[string]any{"login_id": "midori01", "locked": false}, unlocked); diff != "" {
		t.Errorf("user unlock --json (-want +got):\n%s", diff)
	}
	if u, _, _ = db.UserByLoginID(ctx, "midori01"); u.Locked() || u.FailedLogins != 0 {
		t.Errorf("after unlock: locked %v, failed logins %d", u.Locked(), u.FailedLogins)
	}
	evs = auditEvents(t, db, audit.UserUnlocked)
	if len(evs) != 1 || evs[0].RequestRef != "UNL-0003" || evs[0].Actor != "operator:"+checker || evs[0].UserID != u.ID {
		t.Errorf("unlock events = %+v", evs)
	}
	r = run(t, b.operator("user", "unlock", "--login-id", "midori01", "--request-ref", "UNL-0004")...)
	if r.code != 1 || !strings.Contains(r.stderr, "not locked") {
		t.Errorf("unlocking an unlocked user: exit %d, %q", r.code, r.stderr)
	}

	// Unknown names get a clear error.
	for _, args := range [][]string{
		{"org", "certificate-login", "--org", "00000000", "--enable", "--request-ref", "APP-1"},
		{"cert", "list", "--org", "00000000"},
		{"user", "unlock", "--login-id", "nobody99", "--request-ref", "UNL-0005"},
	} {
		r = run(t, b.operator(args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "not found: check the code, login ID or serial") {
			t.Errorf("%v: exit %d, %q; want 1 and a not-found explanation", args, r.code, r.stderr)
		}
	}
}

// issueDirect issues a certificate to loginID through the certificate
// service on the bank's authority and database, and returns its serial.
func issueDirect(t *testing.T, b bank, db *store.DB, loginID string) string {
	t.Helper()
	a, err := pki.Load(filepath.Join(b.dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := server.Assemble(server.Parts{DB: db, Authority: a, Hasher: testutil.FastHasher})
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: loginID}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, org, err := svc.Identity.UserByLoginID(ctx, loginID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Certs.IssueFor(ctx, u, org, req)
	if err != nil {
		t.Fatalf("issue for %s: %v", loginID, err)
	}
	testutil.LintCertificate(t, c.DER)
	return c.Serial
}

func TestUsage(t *testing.T) {
	data := t.TempDir() // an empty directory: SQLite makes its database there
	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string
		inStdout string
	}{
		{"no command", nil, 2, "Usage:", ""},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{"help", []string{"help"}, 0, "", "kinko operator"},
		{"unknown flag", []string{"demo", "--nope"}, 2, "flag provided but not defined: -nope", ""},
		{"init without data", []string{"init"}, 2, "--data is required", ""},
		{"init without root directory", []string{"init", "--data", data}, 2, "--root-dir is required", ""},
		{"init with the root key in the data directory", []string{"init", "--data", data, "--root-dir", filepath.Join(data, "root")}, 2, "must not be inside the data directory", ""},
		{"ca without subcommand", []string{"ca"}, 2, "want a subcommand", ""},
		{"ca server-cert without root", []string{"ca", "server-cert", "--data", data}, 2, "--root-dir are required", ""},
		{"migrate without database", []string{"migrate"}, 2, "--data or --db is required", ""},
		{"operator without command", []string{"operator", "--data", data}, 2, "a command is required", ""},
		{"operator unknown command", []string{"operator", "--data", data, "org", "delete"}, 2, `unknown command "org delete"`, ""},
		{"operator without database", []string{"operator", "org", "list"}, 2, "--data or --db is required", ""},
		{"operator org create without master", []string{"operator", "--data", data, "org", "create", "--name", "x"}, 2, "--master-login-id", ""},
		{"operator enable and disable", []string{"operator", "--data", data, "org", "certificate-login", "--org", "12345678", "--enable", "--disable", "--request-ref", "R"}, 2, "one of --enable or --disable", ""},
		{"operator stray argument", []string{"operator", "--data", data, "cert", "list", "extra"}, 2, "unexpected arguments", ""},
		{"operator user unlock without login ID", []string{"operator", "--data", data, "user", "unlock"}, 2, "--login-id and --request-ref are required", ""},
		{"operator request approve without ID", []string{"operator", "--data", data, "request", "approve"}, 2, "the request's ID is required", ""},
		{"operator request reject without reason", []string{"operator", "--data", data, "request", "reject", "1"}, 2, "--reason is required", ""},
		{"operator JSON error", []string{"operator", "--json", "--data", data, "user", "unlock"}, 2, `{"error":{"code":"usage","message":"usage: --login-id and --request-ref are required"}}`, ""},
		{"cert without enroll", []string{"cert"}, 2, "cert enroll", ""},
		{"serve with a bad flag", []string{"serve", "--confgi", "x"}, 2, "-confgi", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.stderr)
			}
			if !strings.Contains(r.stdout, tt.inStdout) {
				t.Errorf("stdout %q, want it to contain %q", r.stdout, tt.inStdout)
			}
		})
	}
}
