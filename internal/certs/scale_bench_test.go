package certs_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/notify"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// BenchmarkScale measures, on a bank the size of the demo's (10
// organizations, 200 users) and on a large one (KINKO_BENCH_SCALE times
// the 100,000 organizations of testutil.FullBank, 0.01 unless set; 1 is
// the full bank), on both engines:
//
//   - principal: a request's session with its user, organization and
//     certificate (store SessionPrincipal), over 200 sessions;
//   - holder: the lookup of a handshake's certificate, user and
//     organization by fingerprint (store CertificateHolder);
//   - top: the top screen's reads (the last 5 logins, the failed-login
//     report, the organization's accounts);
//   - crl-build: making and storing a new CRL of the unexpired revoked
//     certificates (each operation is half a CRL validity after or before
//     the one before it, so that each makes a new CRL), with the CPU time
//     of the test process (SQLite's included, PostgreSQL's not);
//   - crl-served: the CRL served again by a server that has it (the
//     store is asked only whether it is still the current one);
//   - ocsp-cached: OCSP answers from the responder's caches (signed
//     responses and statuses), by 8 clients;
//   - reminders: a run of the expiry-reminder job after the day's
//     reminders were sent.
func BenchmarkScale(b *testing.B) {
	large := 0.01
	if s := os.Getenv("KINKO_BENCH_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatalf("KINKO_BENCH_SCALE: %v", err)
		}
		large = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			for _, size := range []struct {
				name  string
				scale float64
			}{{"demo", 0.0001}, {fmt.Sprintf("orgs=%d", testutil.ScaledBank(large).Organizations), large}} {
				b.Run(size.name, func(b *testing.B) { benchmarkScale(b, engine, size.scale) })
			}
		})
	}
}

func benchmarkScale(b *testing.B, engine string, scale float64) {
	ctx := context.Background()
	dsn := ""
	if engine == "sqlite" {
		dsn = filepath.Join(b.TempDir(), "kinko.db")
	} else {
		dsn = testutil.PostgresDSN(b)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMailRules(notify.Rules{})
	b.Cleanup(func() { db.Close() })
	start := time.Now()
	bank, err := testutil.FillBank(ctx, db, testutil.ScaledBank(scale), scaleNow)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: filled %d organizations, %d users in %v", engine, bank.Size.Organizations, bank.Size.Users(), time.Since(start).Round(time.Second))
	dir := filepath.Join(b.TempDir(), "pki")
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko scale bank", Now: scaleNow.AddDate(-2, 0, 0)}); err != nil {
		b.Fatal(err)
	}
	a, err := pki.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	users := bank.Size.Users()
	pick := func(i int) int { return (i * 7727) % users }

	var sessions []string
	for i := 0; len(sessions) < 200 && i < users; i++ {
		c := bank.Certificate(pick(i))
		if c.Revoked {
			continue
		}
		h := fmt.Sprintf("%064x", 1<<40+i)
		err := db.CreateSession(ctx, auth.Session{IDHash: h, UserID: c.UserID, CertificateID: c.ID, Fingerprint: c.Fingerprint,
			CreatedAt: scaleNow, LastSeenAt: scaleNow, ExpiresAt: scaleNow.Add(time.Hour)},
			audit.Event{At: scaleNow, Type: audit.LoginSucceeded, Actor: audit.System, OrganizationID: c.OrganizationID, UserID: c.UserID})
		if err != nil {
			b.Fatal(err)
		}
		sessions = append(sessions, h)
	}
	b.Run("principal", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := db.SessionPrincipal(ctx, sessions[i%len(sessions)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("holder", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, _, _, err := db.CertificateHolder(ctx, bank.Certificate(pick(i)).Fingerprint); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("top", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			u := pick(i)
			if _, err := db.ListAudit(ctx, store.AuditFilter{UserID: bank.UserID(u), Type: audit.LoginSucceeded, Limit: 5, NewestFirst: true}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.FailureReport(ctx, bank.UserID(u)); err != nil {
				b.Fatal(err)
			}
			if _, err := db.Accounts(ctx, bank.Certificate(u).OrganizationID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crl-build", func(b *testing.B) {
		var step atomic.Int64
		revs, err := certs.NewRevocations(certs.RevocationConfig{Store: db.Certs(), Authority: a,
			Now: func() time.Time { return scaleNow.Add(time.Duration(step.Load()%2) * 13 * time.Hour) }})
		if err != nil {
			b.Fatal(err)
		}
		var size int
		cpu := processCPU()
		for b.Loop() {
			step.Add(1)
			der, err := revs.CRL(ctx)
			if err != nil {
				b.Fatal(err)
			}
			size = len(der)
		}
		cpu = processCPU() - cpu
		b.ReportMetric(float64(size), "crl-bytes")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	b.Run("crl-served", func(b *testing.B) {
		revs, err := certs.NewRevocations(certs.RevocationConfig{Store: db.Certs(), Authority: a,
			Now: func() time.Time { return scaleNow.Add(time.Hour) }})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := revs.CRL(ctx); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := revs.CRL(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ocsp-cached", func(b *testing.B) {
		revs, err := certs.NewRevocations(certs.RevocationConfig{Store: db.Certs(), Authority: a, Now: func() time.Time { return scaleNow }})
		if err != nil {
			b.Fatal(err)
		}
		reqs := make([][]byte, 1000)
		for i := range reqs {
			serial, _ := new(big.Int).SetString(bank.Certificate(pick(i)).Serial, 16)
			if reqs[i], err = ocsp.CreateRequest(&x509.Certificate{SerialNumber: serial}, a.Issuing, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := revs.OCSP(ctx, reqs[i]); err != nil {
				b.Fatal(err)
			}
		}
		var next atomic.Int64
		b.SetParallelism(4) // 8 clients on 2 cores
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := revs.OCSP(ctx, reqs[next.Add(1)%int64(len(reqs))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
	})
	b.Run("reminders", func(b *testing.B) {
		svc := certs.New(certs.Config{Store: db.Certs(), Now: func() time.Time { return scaleNow }})
		if _, err := svc.SendExpiryReminders(ctx); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := svc.SendExpiryReminders(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
