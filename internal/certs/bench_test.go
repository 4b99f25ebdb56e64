package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// BenchmarkIssue measures the CA pipeline from a parsed CSR to a stored
// certificate: the rule checks, recording the certificate to be signed,
// the lint signature and profile check, the real signature and storing the
// signed certificate (certs.Service.IssueFor). The password check is not
// part of it. Every operation issues to a user of its own, made before the
// timer starts, 20 to an organization (R6's maximum), taken in turn from
// each organization as requests from many organizations would come.
//
// clients is the number of issuances in flight at once: 2 as with the two
// clients of the step-ca reference figure, 16 as on a server with many
// users, where the store commits several issuances' records at once.
func BenchmarkIssue(b *testing.B) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", testutil.OpenSQLite}, {"postgres", testutil.OpenPostgres}} {
		b.Run(engine.name, func(b *testing.B) {
			for _, clients := range []int{2, 16} {
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					benchmarkIssue(b, engine.open(b), clients)
				})
			}
		})
	}
}

func benchmarkIssue(b *testing.B, db *store.DB, clients int) {
	ctx := context.Background()
	svc := benchServices(b, db)
	users, orgs := seedBenchUsers(b, db, svc.Identity, "b", b.N, certs.MaxPerOrganization)
	req := benchCSR(b)

	var next atomic.Int64
	var failed atomic.Pointer[error]
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	runClients(b.N, clients, func() {
		i := next.Add(1) - 1
		if _, err := svc.Certs.IssueFor(ctx, users[i], orgs[i], req); err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	})
	b.StopTimer()
	cpu = processCPU() - cpu
	if err := failed.Load(); err != nil {
		b.Fatalf("issue: %v", *err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")

	// Every operation left exactly one issued certificate.
	var issued int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE status = 'issued'`).Scan(&issued); err != nil {
		b.Fatal(err)
	}
	if issued != b.N {
		b.Fatalf("%d issued certificates after %d issuances", issued, b.N)
	}
}

// runClients calls op n times in total from the given number of goroutines
// and returns when all calls have returned.
func runClients(n, clients int, op func()) {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				op()
			}
		})
	}
	wg.Wait()
}

// processCPU returns the CPU time (user and system) the process has used.
// Unlike a rate, it hardly depends on what else the machine is doing.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchServices builds kinko's services on db with a new authority and cheap
// password hashing.
func benchServices(tb testing.TB, db *store.DB) *server.Services {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "pki")
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko bench bank"}); err != nil {
		tb.Fatal(err)
	}
	authority, err := pki.Load(dir)
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := server.Assemble(server.Parts{DB: db, Authority: authority, Hasher: testutil.FastHasher,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// seedBenchUsers makes n users in organizations with certificate login of
// perOrg users each (the first one the master), in one transaction, and
// returns them as IssueFor wants them: users[i] belongs to orgs[i], and
// consecutive users belong to different organizations where there are
// several. Organization codes and login IDs start with prefix. The
// password hashes are placeholders: nobody logs in.
func seedBenchUsers(tb testing.TB, db *store.DB, ident *identity.Service, prefix string, n, perOrg int) ([]identity.User, []identity.Organization) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	orgIDs := make([]int64, (n+perOrg-1)/perOrg)
	for k := range orgIDs {
		err := tx.QueryRowContext(ctx, `INSERT INTO organizations (code, name, certificate_login, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, fmt.Sprintf("%s%08d", prefix, k), fmt.Sprintf("ベンチ労働組合 %s%d", prefix, k), true, now).Scan(&orgIDs[k])
		if err != nil {
			tb.Fatal(err)
		}
	}
	loginIDs := make([]string, n)
	for i := range n {
		role := identity.RoleGeneral
		if i < len(orgIDs) {
			role = identity.RoleMaster
		}
		loginIDs[i] = fmt.Sprintf("%s%09d", prefix, i)
		_, err := tx.ExecContext(ctx, `INSERT INTO users (organization_id, login_id, name, email, role, password_hash,
				confirmation_hash, password_change_required, confirmation_change_required, failed_logins, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)`,
			orgIDs[i%len(orgIDs)], loginIDs[i], "利用者 "+loginIDs[i], loginIDs[i]+"@example.org", string(role), "x", "x", false, false, now)
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	users := make([]identity.User, n)
	orgs := make([]identity.Organization, n)
	for i, id := range loginIDs {
		if users[i], orgs[i], err = ident.UserByLoginID(ctx, id); err != nil {
			tb.Fatal(err)
		}
		if orgs[i].ID != orgIDs[i%len(orgIDs)] || !orgs[i].CertificateLogin {
			tb.Fatalf("user %s: organization %+v", id, orgs[i])
		}
	}
	return users, orgs
}

// benchCSR returns a verified CSR for a new P-256 key.
func benchCSR(tb testing.TB) *x509.CertificateRequest {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := pki.ParseCSR(der)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// BenchmarkSQLiteCommit is the reference for the store: one small INSERT
// transaction per operation, one at a time, on a database opened by
// store.Open (WAL, synchronous=FULL), so each commit waits for the disk.
func BenchmarkSQLiteCommit(b *testing.B) {
	ctx := context.Background()
	db := testutil.OpenSQLite(b)
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE bench_commits (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, note TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_commits (at, note) VALUES ($1, $2)`, time.Now().UnixMicro(), "certificate.issued"); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkCreateCertificate is the reference for signing: one
// x509.CreateCertificate with a P-256 CA key per operation, on one core.
func BenchmarkCreateCertificate(b *testing.B) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"kinko bench bank"}, CommonName: "kinko bench bank Client Issuing CA"},
		NotBefore:             now,
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte{1, 2, 3, 4},
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{Organization: []string{"ベンチ労働組合"}, CommonName: "u000000001"},
		NotBefore:             now,
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          []byte{5, 6, 7, 8},
	}
	pub := benchCSR(b).PublicKey
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
}

// TestR6_ConcurrentCertificateWritesKeepTheRules runs at once, as the
// benchmark does, certificate writes that succeed and writes that are
// refused, so that on SQLite they share transactions (group commit), and
// checks that each got the answer and left the rows it would have got
// alone: one certificate per user (R6, R7), the organization limit (R6),
// and a refused write that had already revoked a stale record leaves it
// unrevoked.
func TestR6_ConcurrentCertificateWritesKeepTheRules(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := benchServices(t, db)
		full, fullOrgs := seedBenchUsers(t, db, svc.Identity, "f", 12, certs.MaxPerOrganization) // one organization
		users, orgs := seedBenchUsers(t, db, svc.Identity, "u", 40, certs.MaxPerOrganization)    // two more
		now := time.Now().UTC().Truncate(time.Second)
		staleBefore := now.Add(-2 * time.Minute)
		var serial atomic.Int64
		record := func(u identity.User, o identity.Organization, created time.Time, limit int) (certs.Certificate, error) {
			c := certs.Certificate{Serial: fmt.Sprintf("%x", 1<<40+serial.Add(1)), UserID: u.ID, OrganizationID: o.ID,
				Status: certs.StatusPending, TBS: []byte{0x30, 0}, NotBefore: created, NotAfter: created.AddDate(1, 0, 0), CreatedAt: created}
			ev := audit.Event{At: created, Type: audit.CertificateRequested, Actor: audit.UserActor(u.LoginID),
				OrganizationID: o.ID, UserID: u.ID, Serial: c.Serial}
			err := certs.RecordPending(ctx, db.Certs(), &c, limit, staleBefore, now, ev)
			return c, err
		}

		// The full organization: user 11 holds a record left unsigned by a
		// crash 10 minutes ago, users 0..9 fresh records.
		stale, err := record(full[11], fullOrgs[11], now.Add(-10*time.Minute), certs.MaxPerOrganization)
		if err != nil {
			t.Fatal(err)
		}
		fresh := make([]certs.Certificate, 10)
		for i := range fresh {
			if fresh[i], err = record(full[i], fullOrgs[i], now, certs.MaxPerOrganization); err != nil {
				t.Fatal(err)
			}
		}

		type outcome struct {
			what string
			err  error
		}
		var mu sync.Mutex
		var got []outcome
		var wg sync.WaitGroup
		start := make(chan struct{})
		do := func(what string, f func() error) {
			wg.Go(func() {
				<-start
				err := f()
				mu.Lock()
				got = append(got, outcome{what, err})
				mu.Unlock()
			})
		}
		// With a limit of 10, user 11's new record would revoke the stale
		// one, then find 10 active records and be refused.
		do("limit", func() error { _, err := record(full[11], fullOrgs[11], now, 10); return err })
		for i := range users {
			for range 2 { // two requests for each user: one wins
				do("user", func() error { _, err := record(users[i], orgs[i], now, certs.MaxPerOrganization); return err })
			}
		}
		for _, c := range fresh {
			do("mark", func() error {
				return certs.MarkIssued(ctx, db.Certs(), c.ID, []byte{0x30, 1, byte(c.ID)}, fmt.Sprintf("%064x", c.ID), now,
					audit.Event{At: now, Type: audit.CertificateIssued, Actor: audit.System, Serial: c.Serial})
			})
		}
		close(start)
		wg.Wait()

		count := map[string]int{}
		for _, o := range got {
			switch {
			case o.err == nil:
				count[o.what+" ok"]++
			case errors.Is(o.err, certs.ErrActiveCertificateExists):
				count[o.what+" active exists"]++
			case errors.Is(o.err, certs.ErrOrganizationLimit):
				count[o.what+" limit"]++
			default:
				t.Errorf("%s: unexpected error %v", o.what, o.err)
			}
		}
		want := map[string]int{"limit limit": 1, "user ok": 40, "user active exists": 40, "mark ok": 10}
		if diff := cmp.Diff(want, count); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}

		cur, err := db.CurrentCertificate(ctx, full[11].ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Serial != stale.Serial || cur.Status != certs.StatusPending {
			t.Errorf("user 11 holds %s (%s), want the stale record %s still pending", cur.Serial, cur.Status, stale.Serial)
		}
		for _, c := range fresh {
			if got, err := db.CertificateByID(ctx, c.ID); err != nil || got.Status != certs.StatusIssued {
				t.Errorf("certificate %d: %s %v, want issued", c.ID, got.Status, err)
			}
		}
		for i, u := range users {
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("user %d has %d certificates, want 1", i, n)
			}
		}
		events := map[string]int{}
		rows, err := db.SQL().QueryContext(ctx, `SELECT type, detail FROM audit_events WHERE type LIKE 'certificate.%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var typ, detail string
			if err := rows.Scan(&typ, &detail); err != nil {
				t.Fatal(err)
			}
			events[typ]++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		// 11 records before, 40 during; 10 marked issued; the revocation of
		// the stale record was rolled back with the refused write.
		wantEvents := map[string]int{string(audit.CertificateRequested): 51, string(audit.CertificateIssued): 10}
		if diff := cmp.Diff(wantEvents, events); diff != "" {
			t.Errorf("audit events (-want +got):\n%s", diff)
		}
	})
}
