package e2e_test

// Races: many requests at once through the real TLS listeners must leave
// the limits of R6 and the lockout exactly as one request at a time would.

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// parallel runs n requests at once, the i-th on client(i), and returns the
// answers in order. It then closes the clients' idle connections: a
// connection dialled for a request that another connection served stays
// new, never used, and holds up the server's graceful shutdown.
func parallel(n int, client func(i int) *testutil.Client, do func(i int, cl *testutil.Client) testutil.Response) []testutil.Response {
	out := make([]testutil.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	clients := make([]*testutil.Client, n)
	for i := range n {
		cl := client(i)
		clients[i] = cl
		wg.Go(func() {
			<-start
			out[i] = do(i, cl)
		})
	}
	close(start)
	wg.Wait()
	for _, cl := range clients {
		cl.CloseIdle()
	}
	return out
}

// tally counts answers by "status code".
func tally(t testing.TB, rs []testutil.Response) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, r := range rs {
		if r.Err != nil {
			t.Errorf("request failed: %v", r.Err)
			continue
		}
		got[fmt.Sprintf("%d %s", r.Status, r.ErrorCode())]++
	}
	return got
}

func TestR6_ParallelIssuanceGivesOneCertificate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "同時発行労組", true)
		g := b.NewGeneralUser(t, org)
		const n = 50
		keys := make([]*ecdsa.PrivateKey, n)
		csrs := make([]string, n)
		for i := range n {
			keys[i] = newKey(t)
			csrs[i] = testutil.NewCSR(t, keys[i])
		}
		rs := parallel(n, func(int) *testutil.Client { return b.Client(nil) }, func(i int, cl *testutil.Client) testutil.Response {
			return cl.Portal(http.MethodPost, pathCertificates, map[string]string{"login_id": g.LoginID, "password": g.Password, "csr": csrs[i]})
		})
		if d := cmp.Diff(map[string]int{"201 ": 1, "409 active_certificate_exists": n - 1}, tally(t, rs)); d != "" {
			t.Fatalf("answers to %d parallel issuances (-want +got):\n%s", n, d)
		}
		winner := -1
		for i, r := range rs {
			if r.Status == http.StatusCreated {
				winner = i
			}
		}
		cert := testutil.CertificateFromResponse(t, rs[winner], keys[winner])

		list, err := b.Services.Certs.List(context.Background(), org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Serial != serialOf(cert) || !list[0].Active(b.Clock.Now()) {
			t.Fatalf("certificate rows: %+v, want one active row for %s", list, serialOf(cert))
		}
		certLogin(t, b, cert, g)
	})
}

func TestR6_ParallelUserCreationStaysWithinLimit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "同時登録労組", false)
		m := passwordLogin(t, b, org.Master)
		const n = 30
		rs := parallel(n, func(int) *testutil.Client { return m }, func(i int, cl *testutil.Client) testutil.Response {
			id := fmt.Sprintf("rush%03d", i)
			return cl.Portal(http.MethodPost, pathUsers, map[string]string{"login_id": id, "name": "職員 " + id, "email": id + "@example.org"})
		})
		if d := cmp.Diff(map[string]int{"201 ": 19, "409 organization_user_limit": n - 19}, tally(t, rs)); d != "" {
			t.Fatalf("answers to %d parallel creations (-want +got):\n%s", n, d)
		}
		created := map[string]bool{}
		for _, r := range rs {
			if r.Status == http.StatusCreated {
				created[r.String("login_id")] = true
			}
		}
		r := m.Portal(http.MethodGet, pathUsers, nil)
		expect(t, "GET /api/v1/users", r, http.StatusOK, "")
		listed := map[string]bool{}
		for _, x := range r.Body["users"].([]any) {
			if u := x.(map[string]any); u["role"] == "general" {
				listed[u["login_id"].(string)] = true
			}
		}
		if d := cmp.Diff(created, listed); d != "" {
			t.Fatalf("general users listed vs created (-created +listed):\n%s", d)
		}

		t.Run("same login ID", func(t *testing.T) {
			other := b.NewOrg(t, "同名登録労組", false)
			om := passwordLogin(t, b, other.Master)
			rs := parallel(10, func(int) *testutil.Client { return om }, func(int, *testutil.Client) testutil.Response {
				return om.Portal(http.MethodPost, pathUsers, map[string]string{"login_id": "twin0001", "name": "双子", "email": "twin0001@example.org"})
			})
			if d := cmp.Diff(map[string]int{"201 ": 1, "409 login_id_taken": 9}, tally(t, rs)); d != "" {
				t.Fatalf("answers to parallel creations of one login ID (-want +got):\n%s", d)
			}
		})
	})
}

// TestParallelWrongPortalPasswordsNeverLock: a burst of wrong passwords on
// the portal, from one client at once, is refused and throttled but never
// locks the user, who logs in with the right password once the throttle
// lets go.
func TestParallelWrongPortalPasswordsNeverLock(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "同時失敗労組", false)
		g := b.NewGeneralUser(t, org)
		const n = 20
		rs := parallel(n, func(int) *testutil.Client { return b.Client(nil) }, func(_ int, cl *testutil.Client) testutil.Response {
			return cl.Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": wrongPassword})
		})
		got := tally(t, rs)
		if got["401 invalid_credentials"] < 5 || got["401 invalid_credentials"]+got["429 too_many_attempts"] != n {
			t.Fatalf("answers to %d parallel wrong passwords: %v, want at least 5 invalid_credentials, the others too_many_attempts", n, got)
		}
		u := user(t, b, g.LoginID)
		if u.Locked() || u.FailedLogins != 0 {
			t.Fatalf("user locked %v with %d failures counted towards the lock, want neither", u.Locked(), u.FailedLogins)
		}
		locks, err := b.DB.ListAudit(ctx, store.AuditFilter{UserID: u.ID, Type: audit.UserLocked})
		if err != nil {
			t.Fatal(err)
		}
		if len(locks) != 0 {
			t.Fatalf("lock events: %+v, want none", locks)
		}
		b.Clock.Advance(16 * time.Minute)
		expect(t, "right password", b.Client(nil).Portal(http.MethodPost, pathSessions, map[string]string{"login_id": g.LoginID, "password": g.Password}),
			http.StatusCreated, "")
	})
}
