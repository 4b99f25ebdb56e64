package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/store"
)

// auditDB is a database with a few audit events, on one engine, and the
// flags that name it.
type auditDB struct {
	db    *store.DB
	flags []string
	org   identity.Organization
	user  identity.User
}

var auditT0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func newAuditDB(t *testing.T, engine string) auditDB {
	t.Helper()
	var a auditDB
	dsn := ""
	if engine == "postgres" {
		dsn = postgresDSN(t)
		a.flags = []string{"--db", dsn}
	} else {
		dir := t.TempDir()
		dsn = store.SQLitePath(dir)
		a.flags = []string{"--data", dir}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a.db = db
	a.org = identity.Organization{Code: "70030871", Name: "監査 生協", CreatedAt: auditT0}
	a.user = identity.User{LoginID: "kansa0001", Name: "監査 太郎", Email: "kansa@example.org", Role: identity.RoleMaster,
		PasswordHash: "h", ConfirmationHash: "h", CreatedAt: auditT0}
	// The organization is created while serving a request: its event takes
	// the request's ID from the context.
	rctx := audit.WithRequestID(ctx, "r-0001")
	err = db.InIdentityTx(rctx, func(tx identity.Tx) error {
		if err := tx.InsertOrganization(ctx, &a.org); err != nil {
			return err
		}
		a.user.OrganizationID = a.org.ID
		if err := tx.InsertUser(ctx, &a.user); err != nil {
			return err
		}
		return tx.AppendAudit(rctx, audit.Event{At: auditT0, Type: audit.OrganizationCreated, Actor: "operator:suzuki",
			OrganizationID: a.org.ID, UserID: a.user.ID, RequestRef: "REQ-1", Detail: "created"})
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := []audit.Event{
		{At: auditT0.Add(24 * time.Hour), Type: audit.LoginFailed, Actor: audit.System, OrganizationID: a.org.ID, UserID: a.user.ID, Detail: "wrong password"},
		{At: auditT0.Add(48 * time.Hour), Type: audit.LoginSucceeded, Actor: "user:kansa0001", OrganizationID: a.org.ID, UserID: a.user.ID, Detail: "password login"},
		{At: auditT0.Add(72 * time.Hour), Type: audit.LoginFailed, Actor: audit.System, Detail: "unknown login ID"},
	}
	for _, ev := range evs {
		if err := db.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.LinkAudit(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAuditVerifyCommandReportsUnlinkedEvents: on PostgreSQL an event is
// linked after its commit, by a job; verify reports the events waiting,
// passes while they are recent and fails once one has waited too long. On
// SQLite an event is linked in its own transaction: nothing ever waits.
func TestAuditVerifyCommandReportsUnlinkedEvents(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			a := newAuditDB(t, engine)
			for range 2 {
				if err := a.db.AppendAudit(context.Background(), audit.Event{At: auditT0, Type: audit.LoginFailed, Actor: audit.System, Detail: "late"}); err != nil {
					t.Fatal(err)
				}
			}
			r := mustRun(t, a.args("verify")...)
			if engine == "sqlite" {
				if !strings.HasPrefix(r.stdout, "OK: 6 rows, last row 6,") || strings.Contains(r.stdout, "not linked") {
					t.Errorf("SQLite: stdout %q, want 6 rows linked at once", r.stdout)
				}
				return
			}
			if !strings.HasPrefix(r.stdout, "OK: 4 rows, last row 4,") || !strings.Contains(r.stdout, "\nand 2 events not linked yet (ids 5 to 6), the oldest written ") {
				t.Errorf("recent unlinked events: stdout %q", r.stdout)
			}
			if _, err := a.db.SQL().Exec(`UPDATE audit_events SET recorded_at = recorded_at - 3600000000 WHERE id = 5`); err != nil {
				t.Fatal(err)
			}
			r = run(t, a.args("verify")...)
			if r.code != 1 || !strings.Contains(r.stdout, "UNLINKED: 2 events not linked yet (ids 5 to 6), the oldest written 1h0m") {
				t.Errorf("an event waiting an hour: exit %d, stdout %q", r.code, r.stdout)
			}
			if r := run(t, a.args("verify", "--max-unlinked-age", "2h")...); r.code != 0 {
				t.Errorf("an event waiting an hour, 2h allowed: exit %d, stdout %q", r.code, r.stdout)
			}
			if r := mustRun(t, a.args("link")...); r.stdout != "linked 2 events\n" {
				t.Errorf("audit link: stdout %q", r.stdout)
			}
			r = mustRun(t, a.args("verify")...)
			if !strings.HasPrefix(r.stdout, "OK: 6 rows, last row 6,") || strings.Contains(r.stdout, "not linked") {
				t.Errorf("after linking: stdout %q", r.stdout)
			}
		})
	}
}

func (a auditDB) args(cmd string, more ...string) []string {
	return append(append([]string{"audit", cmd}, a.flags...), more...)
}

func TestAuditVerifyCommand(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			a := newAuditDB(t, engine)
			var head string
			if err := a.db.SQL().QueryRow(`SELECT hash FROM audit_head`).Scan(&head); err != nil {
				t.Fatal(err)
			}
			r := mustRun(t, a.args("verify")...)
			if want := fmt.Sprintf("OK: 4 rows, last row 4, last hash %s\n", head); r.stdout != want {
				t.Errorf("honest log: stdout %q, want %q", r.stdout, want)
			}
			if _, err := a.db.SQL().Exec(`UPDATE audit_events SET detail = 'right password' WHERE id = 2`); err != nil {
				t.Fatal(err)
			}
			r = run(t, a.args("verify")...)
			if r.code != 1 {
				t.Errorf("tampered log: exit %d, want 1", r.code)
			}
			if !strings.HasPrefix(r.stdout, "BROKEN at row 2: its content does not match its hash") ||
				!strings.Contains(r.stdout, "1 rows good before it; last good row 1") {
				t.Errorf("tampered log: stdout %q", r.stdout)
			}
			if _, err := a.db.SQL().Exec(`UPDATE audit_events SET detail = 'wrong password' WHERE id = 2`); err != nil {
				t.Fatal(err)
			}
			if _, err := a.db.SQL().Exec(`DELETE FROM audit_events WHERE id = 4`); err != nil {
				t.Fatal(err)
			}
			r = run(t, a.args("verify")...)
			if r.code != 1 || !strings.HasPrefix(r.stdout, "BROKEN at the end of the chain: the last row linked was 4") {
				t.Errorf("last row removed: exit %d, stdout %q", r.code, r.stdout)
			}
		})
	}
}

func TestAuditListCommand(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			a := newAuditDB(t, engine)
			cases := []struct {
				name  string
				flags []string
				want  []int64 // ids, in order
			}{
				{"all, oldest first", nil, []int64{1, 2, 3, 4}},
				{"organization", []string{"--org", a.org.Code}, []int64{1, 2, 3}},
				{"user (the organization's creation names its master)", []string{"--login-id", a.user.LoginID}, []int64{1, 2, 3}},
				{"event", []string{"--event", string(audit.LoginFailed)}, []int64{2, 4}},
				{"since a day in Japan, inclusive", []string{"--since", "2026-04-02"}, []int64{2, 3, 4}},
				{"since a time in Japan", []string{"--since", "2026-04-02T18:00"}, []int64{2, 3, 4}},
				{"since a minute later in Japan", []string{"--since", "2026-04-02 18:01"}, []int64{3, 4}},
				{"until RFC 3339, exclusive", []string{"--until", "2026-04-03T09:00:00Z"}, []int64{1, 2}},
				{"combined", []string{"--org", a.org.Code, "--event", string(audit.LoginFailed), "--since", "2026-04-01", "--until", "2026-05-01"}, []int64{2}},
				{"nothing", []string{"--event", "no.such"}, []int64{}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					r := mustRun(t, a.args("list", append(tc.flags, "--json")...)...)
					var got []struct {
						ID     int64  `json:"id"`
						At     string `json:"at"`
						Type   string `json:"type"`
						Detail string `json:"detail"`
						Hash   string `json:"hash"`
					}
					if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
						t.Fatalf("%v: %s", err, r.stdout)
					}
					ids := []int64{}
					for _, e := range got {
						ids = append(ids, e.ID)
						if len(e.Hash) != 64 {
							t.Errorf("row %d: hash %q", e.ID, e.Hash)
						}
					}
					if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
						t.Errorf("ids %v, want %v", ids, tc.want)
					}
				})
			}
			t.Run("json fields", func(t *testing.T) {
				r := mustRun(t, a.args("list", "--json", "--event", string(audit.OrganizationCreated))...)
				var got []map[string]any
				if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 1 {
					t.Fatalf("%v: %s", err, r.stdout)
				}
				for k, want := range map[string]any{"at": "2026-04-01T18:00:00+09:00", "type": "organization.created", "actor": "operator:suzuki",
					"request_ref": "REQ-1", "request_id": "r-0001", "organization_code": a.org.Code, "login_id": a.user.LoginID, "detail": "created"} {
					if got[0][k] != want {
						t.Errorf("%s = %v, want %v", k, got[0][k], want)
					}
				}
				// An organization by its code, a user by the login ID: never an internal ID.
				for _, k := range []string{"organization_id", "user_id"} {
					if _, ok := got[0][k]; ok {
						t.Errorf("the JSON has %s", k)
					}
				}
			})
			t.Run("table", func(t *testing.T) {
				r := mustRun(t, a.args("list", "--login-id", a.user.LoginID)...)
				lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
				if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") {
					t.Fatalf("table:\n%s", r.stdout)
				}
				if !strings.Contains(lines[0], "AT (JST)") {
					t.Errorf("header %q", lines[0])
				}
				for i, want := range [][]string{{"1", "2026-04-01 18:00:00", "organization.created", "operator:suzuki", a.org.Code, a.user.LoginID, "-", "REQ-1", "r-0001", "created"},
					{"2", "2026-04-02 18:00:00", "login.failed"}, {"3", "2026-04-03 18:00:00", "login.succeeded"}} {
					fields := regexp.MustCompile(`\s{2,}`).Split(lines[i+1], -1)
					if len(fields) < len(want) || fmt.Sprint(fields[:len(want)]) != fmt.Sprint(want) {
						t.Errorf("line %d %q, want it to begin with %q", i+1, lines[i+1], want)
					}
				}
			})
		})
	}
}

func TestAuditCommandUsage(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no subcommand", []string{"audit"}, 2, "verify, list or link is required"},
		{"unknown subcommand", []string{"audit", "erase"}, 2, "verify, list or link is required"},
		{"no database", []string{"audit", "verify"}, 2, "--data or --db is required"},
		{"bad time", []string{"audit", "list", "--data", dir, "--since", "yesterday"}, 2, `--since "yesterday"`},
		{"unknown organization", []string{"audit", "list", "--data", dir, "--org", "99999999"}, 1, "no organization with code 99999999"},
		{"unknown user", []string{"audit", "list", "--data", dir, "--login-id", "nobody01"}, 1, "no user with login ID nobody01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d with %q", r.code, r.stderr, tc.code, tc.msg)
			}
		})
	}
}
