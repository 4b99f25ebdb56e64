package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// scaleNow is the present of the filled banks of the tests.
var scaleNow = time.Date(2027, 3, 10, 3, 0, 0, 0, time.UTC)

// fillSmall fills db with a bank of 1/1000 of the full size: 100
// organizations, 2,000 users.
func fillSmall(t *testing.T, db *store.DB) *testutil.FilledBank {
	t.Helper()
	b, err := testutil.FillBank(context.Background(), db, testutil.ScaledBank(0.001), scaleNow)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScale_FillWritesThePlannedBank(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := fillSmall(t, db)
		counts := map[string]int64{}
		for _, q := range []string{"organizations", "users", "certificates", "accounts", "postings", "audit_events"} {
			var n int64
			if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			counts[q] = n
		}
		s := b.Size
		want := map[string]int64{"organizations": 100, "users": 2000, "certificates": 2000, "accounts": 100,
			"postings": int64(100 * s.PostingsPerAccount), "audit_events": int64(2000 * s.LoginsPerUser)}
		if d := cmp.Diff(want, counts); d != "" {
			t.Errorf("rows (-want +got):\n%s", d)
		}
		for _, i := range []int{0, 1, 19, 20, 1999} {
			p := b.Certificate(i)
			c, u, o, err := db.CertificateHolder(ctx, p.Fingerprint)
			if err != nil {
				t.Fatalf("certificate %d: %v", i, err)
			}
			if c.ID != p.ID || c.Serial != p.Serial || u.ID != p.UserID || o.ID != p.OrganizationID ||
				!c.NotAfter.Equal(p.NotAfter) || (c.Status == "revoked") != p.Revoked || (p.Revoked && !c.RevokedAt.Equal(p.RevokedAt)) {
				t.Errorf("certificate %d: got %+v user %d org %d, planned %+v", i, c, u.ID, o.ID, p)
			}
			if u.LoginID != b.LoginID(i) {
				t.Errorf("user %d: login ID %q, want %q", i, u.LoginID, b.LoginID(i))
			}
		}
	})
}

func TestScale_ListRevokedReturnsExactlyTheUnexpiredRevoked(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := fillSmall(t, db)
		want := map[string]bool{}
		expired := 0
		for i := range b.Size.Users() {
			c := b.Certificate(i)
			switch {
			case c.Revoked && c.NotAfter.After(b.Now):
				want[c.Serial] = true
			case c.Revoked:
				expired++
			}
		}
		if len(want) == 0 || expired == 0 {
			t.Fatalf("the bank has %d unexpired and %d expired revoked certificates: both must be some", len(want), expired)
		}
		list, err := db.ListRevoked(context.Background(), b.Now)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range list {
			got[c.Serial] = true
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("revoked listed (-want +got):\n%s", d)
		}
	})
}

func TestScale_RecentLoginsAreTheUsersNewest(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := fillSmall(t, db)
		for _, i := range []int{0, 7, 1999} {
			evs, err := db.ListAudit(context.Background(), store.AuditFilter{UserID: b.UserID(i), Type: audit.LoginSucceeded, Limit: 3, NewestFirst: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Time
			for _, ev := range evs {
				got = append(got, ev.At)
			}
			if d := cmp.Diff(b.LoginTimes(i)[:3], got); d != "" {
				t.Errorf("user %d's last logins (-want +got):\n%s", i, d)
			}
		}
	})
}

// TestScale_JobAndTopScreenQueriesUseIndexes proves by the engines' query
// plans that the reminder job, the CRL and the top screen's recent logins
// read through an index, not a scan of their table.
func TestScale_JobAndTopScreenQueriesUseIndexes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		fillSmall(t, db)
		cases := []struct {
			name, query string
			indexes     []string // any of them
		}{
			{"expiry reminders", `SELECT id FROM certificates c WHERE c.status = 'issued' AND c.not_after > 1 AND c.not_after <= 2`, []string{"certificates_issued_not_after"}},
			{"crl", `SELECT id FROM certificates c WHERE c.status = 'revoked' AND c.not_after > 1`, []string{"certificates_revoked_not_after", "certificates_status"}},
			{"recent logins", `SELECT id FROM audit_events WHERE user_id = 5 AND type = 'login.succeeded' ORDER BY id DESC LIMIT 5`, []string{"audit_events_user_type"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				explain := "EXPLAIN QUERY PLAN "
				if db.Dialect() == store.Postgres {
					explain = "EXPLAIN "
				}
				rows, err := db.SQL().QueryContext(context.Background(), explain+tc.query)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
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
				p := strings.Join(plan, "\n")
				if !slices.ContainsFunc(tc.indexes, func(ix string) bool { return strings.Contains(p, ix) }) {
					t.Errorf("plan uses none of %v:\n%s", tc.indexes, p)
				}
			})
		}
	})
}
