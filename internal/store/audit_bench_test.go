package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// BenchmarkAuditedWrites writes audited transactions from 1, 4 and 16
// connections at once on PostgreSQL: an event in a transaction of its own
// (AppendAudit, as a failed login's) and a login (a session and its event,
// CreateSession). It reports the writes per second of all connections
// together; with writers that queue on one row, more connections add
// nothing. While it runs, the audit chain is linked as a server's job
// links it, and the chain is verified at the end.
func BenchmarkAuditedWrites(b *testing.B) {
	db := testutil.OpenPostgres(b)
	ctx := context.Background()
	userID, orgID, loginID := benchUser(b, db)
	for _, kind := range []string{"append", "login"} {
		for _, conns := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/conns=%d", kind, conns), func(b *testing.B) {
				stop := startLinker(db)
				var next atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, conns)
				b.ResetTimer()
				start := time.Now()
				for range conns {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							var err error
							ev := audit.Event{At: unitT0, Type: audit.LoginFailed, Actor: audit.UserActor(loginID),
								OrganizationID: orgID, UserID: userID, Detail: "bench"}
							if kind == "append" {
								err = db.AppendAudit(ctx, ev)
							} else {
								ev.Type = audit.LoginSucceeded
								err = db.CreateSession(ctx, auth.Session{IDHash: unitRandomHex(32), UserID: userID,
									CreatedAt: unitT0, LastSeenAt: unitT0, ExpiresAt: unitT0.Add(time.Hour)}, ev)
							}
							if err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				stop()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
			})
		}
	}
	v := linkAndVerify(b, db)
	if v.Break != nil {
		b.Fatalf("chain after the benchmark: %+v", v.Break)
	}
}

// benchUser inserts an organization and its master user, for benchmarks
// (unitOrg needs a *testing.T).
func benchUser(b *testing.B, db *store.DB) (userID, orgID int64, loginID string) {
	b.Helper()
	ctx := context.Background()
	code, loginID := unitName("9"), unitName("m")
	if err := db.SQL().QueryRowContext(ctx, `INSERT INTO organizations (code, name, certificate_login, created_at) VALUES ($1, $2, false, $3) RETURNING id`,
		code, "労組 "+code, unitT0.UnixMicro()).Scan(&orgID); err != nil {
		b.Fatal(err)
	}
	if err := db.SQL().QueryRowContext(ctx, `INSERT INTO users (organization_id, login_id, name, email, role, password_hash, confirmation_hash,
			password_change_required, confirmation_change_required, failed_logins, created_at)
		VALUES ($1, $2, 'マスター', 'm@example.org', 'master', 'hash', 'hash', false, false, 0, $3) RETURNING id`,
		orgID, loginID, unitT0.UnixMicro()).Scan(&userID); err != nil {
		b.Fatal(err)
	}
	return userID, orgID, loginID
}

// startLinker links the audit chain as the server's job does, until the
// returned function is called.
func startLinker(db *store.DB) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_, _ = db.LinkAudit(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// linkAndVerify links what is left to link and verifies the chain.
func linkAndVerify(tb testing.TB, db *store.DB) store.AuditVerification {
	tb.Helper()
	if _, err := db.LinkAudit(context.Background()); err != nil {
		tb.Fatal(err)
	}
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// BenchmarkAuditLink links events written and not linked yet, on
// PostgreSQL: how many events the one linker links per second, which must
// stay above the rate at which all servers write them.
func BenchmarkAuditLink(b *testing.B) {
	db := testutil.OpenPostgres(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO audit_events (at, type, actor, detail, recorded_at)
			SELECT $1, 'login.failed', 'system', 'bench ' || g, $1 FROM generate_series(1, 1000) AS g`, unitT0.UnixMicro()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := db.LinkAudit(ctx)
		if err != nil || n != 1000 {
			b.Fatalf("linked %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
	if v := linkAndVerify(b, db); v.Break != nil || v.Count != b.N*1000 {
		b.Fatalf("chain after the benchmark: %+v", v)
	}
}
