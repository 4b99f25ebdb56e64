package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kinko/internal/operators"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestConsoleSearchFindsEachKeyInAFilledBank: the console's one search box
// finds an organization of a filled bank by its code, a part of its name,
// a user's login ID, a certificate's serial and an account's number.
func TestConsoleSearchFindsEachKeyInAFilledBank(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := fillSmall(t, db)
		const j = 37 // the organization of user 37*20+3
		i := j*b.Size.UsersPerOrganization + 3
		orgID := b.OrganizationID(j)
		code := fmt.Sprintf("9%07d", orgID)
		accts, err := db.Accounts(ctx, orgID)
		if err != nil || len(accts) != 1 {
			t.Fatalf("accounts %v %v", accts, err)
		}
		for name, q := range map[string]string{
			"code": code, "login ID": b.LoginID(i), "login ID, upper": strings.ToUpper(b.LoginID(i)),
			"serial": b.Certificate(i).Serial, "account number": accts[0].Number,
		} {
			orgs, err := db.SearchOrganizations(ctx, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(orgs) != 1 || orgs[0].Code != code {
				t.Errorf("%s %q: found %+v, want only %s", name, q, orgs, code)
			}
		}
		orgs, err := db.SearchOrganizations(ctx, "組合", 10)
		if err != nil || len(orgs) != 10 {
			t.Errorf("a part of the name: %d organizations (at most 10), %v", len(orgs), err)
		}
		if orgs, _ := db.SearchOrganizations(ctx, "%", 10); len(orgs) != 0 {
			t.Errorf("%% is a wildcard: %d organizations", len(orgs))
		}
		if orgs, _ := db.SearchOrganizations(ctx, "  ", 10); len(orgs) != 0 {
			t.Errorf("a blank search: %d organizations", len(orgs))
		}
	})
}

// TestConsoleSearchUsesIndexes proves by the engines' query plans that the
// exact keys of the console's search and the audit log by operator read
// through an index, not a scan of their table. (A part of a name reads
// the organizations' names: one short row per organization.)
func TestConsoleSearchUsesIndexes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		fillSmall(t, db)
		ctx := context.Background()
		conn, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		explain := "EXPLAIN QUERY PLAN "
		if db.Dialect() == store.Postgres {
			explain = "EXPLAIN "
			// The filled bank is small: the planner would rightly
			// read a few pages of a table instead of an index.
			if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name, query string
			indexes     []string
		}{
			{"account number", `SELECT organization_id FROM accounts WHERE number = '0000001'`, []string{"accounts_number"}},
			{"login ID", `SELECT organization_id FROM users WHERE lower(login_id) = 'fb00000001'`, []string{"users_login_id_lower"}},
			{"serial", `SELECT organization_id FROM certificates WHERE serial = 'abc'`, []string{"sqlite_autoindex_certificates", "certificates_serial_key"}},
			{"code", `SELECT id FROM organizations WHERE code = '90000001'`, []string{"sqlite_autoindex_organizations", "organizations_code_key"}},
			{"operator", `SELECT id FROM audit_events WHERE actor = 'operator:sato' ORDER BY id DESC LIMIT 50`, []string{"audit_events_actor"}},
			{"session", `SELECT staff_id FROM console_sessions WHERE id_hash = 'x'`, []string{"sqlite_autoindex_console_sessions", "console_sessions_pkey"}},
		} {
			rows, err := conn.QueryContext(ctx, explain+tc.query)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			var plan []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					switch v := v.(type) {
					case string:
						plan = append(plan, v)
					case []byte:
						plan = append(plan, string(v))
					}
				}
			}
			rows.Close()
			p := strings.Join(plan, "\n")
			if !slices.ContainsFunc(tc.indexes, func(ix string) bool { return strings.Contains(p, ix) }) {
				t.Errorf("%s: the plan uses none of %v:\n%s", tc.name, tc.indexes, p)
			}
		}
	})
}

func TestConsoleSessionsAreKeptAndEnd(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		s := operators.Session{IDHash: "h1", StaffID: 7, Fingerprint: "fp", FormToken: "tok", CreatedAt: at, LastSeenAt: at}
		if err := db.CreateConsoleSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := db.ConsoleSession(ctx, "h1")
		if err != nil || got != s {
			t.Fatalf("got %+v %v, want %+v", got, err, s)
		}
		if err := db.TouchConsoleSession(ctx, "h1", at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ConsoleSession(ctx, "h1"); !got.LastSeenAt.Equal(at.Add(time.Minute)) {
			t.Errorf("last seen %v", got.LastSeenAt)
		}
		if err := db.DeleteIdleConsoleSessions(ctx, at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ConsoleSession(ctx, "h1"); err != operators.ErrNoSession {
			t.Errorf("an idle session: %v, want ErrNoSession", err)
		}
	})
}
