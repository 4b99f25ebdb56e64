package store_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// freshDB opens a new, empty database of the same engine as db.
func freshDB(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	if db.Dialect() == store.Postgres {
		return testutil.OpenPostgres(t)
	}
	return testutil.OpenSQLite(t)
}

// chainEvents appends n events, of which the even ones name no serial.
func chainEvents(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		ev := audit.Event{At: unitT0.Add(time.Duration(i) * time.Second), Type: audit.LoginSucceeded, Actor: "user:a",
			OrganizationID: 7, UserID: int64(100 + i), Detail: fmt.Sprintf("event %d", i+1)}
		if i%2 == 1 {
			ev.Serial = fmt.Sprintf("0a%02d", i)
		}
		if err := db.AppendAudit(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	link(t, db)
}

// link links the events not linked yet, as the server's job does.
func link(t testing.TB, db *store.DB) {
	t.Helper()
	if _, err := db.LinkAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func mustVerify(t *testing.T, db *store.DB) store.AuditVerification {
	t.Helper()
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL().Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// swapRows swaps the given columns of two rows.
func swapRows(t *testing.T, db *store.DB, a, b int64, cols string) {
	t.Helper()
	n := len(strings.Split(cols, ","))
	read := func(id int64) []any {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := db.SQL().QueryRow(`SELECT `+cols+` FROM audit_events WHERE id = $1`, id).Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		return vals
	}
	va, vb := read(a), read(b)
	var set []string
	for i, c := range strings.Split(cols, ",") {
		set = append(set, fmt.Sprintf("%s = $%d", strings.TrimSpace(c), i+1))
	}
	write := func(id int64, vals []any) {
		exec(t, db, `UPDATE audit_events SET `+strings.Join(set, ", ")+fmt.Sprintf(` WHERE id = $%d`, n+1), append(vals, id)...)
	}
	write(a, vb)
	write(b, va)
}

func TestAuditChainDetectsTampering(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		const all = "at, type, actor, organization_id, user_id, serial, request_ref, detail, prev_hash, hash"
		cases := []struct {
			name   string
			tamper func(t *testing.T, db *store.DB)
			id     int64  // the row named; 0 for the head
			reason string // part of the reason
		}{
			{"detail changed", func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET detail = 'nothing happened' WHERE id = 3`)
			}, 3, "content does not match"},
			{"time changed", func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET at = at + 1 WHERE id = 5`)
			}, 5, "content does not match"},
			{"NULL serial made empty", func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET serial = '' WHERE id = 1`)
			}, 1, "content does not match"},
			{"row removed", func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_events WHERE id = 3`)
			}, 4, "does not match the hash of row 2"},
			{"first row removed", func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_events WHERE id = 1`)
			}, 2, "not the start of the chain"},
			{"last row removed", func(t *testing.T, db *store.DB) {
				exec(t, db, `DELETE FROM audit_events WHERE id = 6`)
			}, 0, "the last row linked was 6"},
			{"two rows swapped, hashes and all", func(t *testing.T, db *store.DB) {
				swapRows(t, db, 2, 4, all)
			}, 2, "does not match the hash of row 1"},
			{"two rows' events swapped", func(t *testing.T, db *store.DB) {
				swapRows(t, db, 2, 4, "at, type, actor, organization_id, user_id, serial, request_ref, detail")
			}, 2, "content does not match"},
			{"row moved to the end", func(t *testing.T, db *store.DB) {
				exec(t, db, `INSERT INTO audit_events (`+all+`) SELECT `+all+` FROM audit_events WHERE id = 3`)
				exec(t, db, `DELETE FROM audit_events WHERE id = 3`)
			}, 7, "not the start of the chain"},
			{"row given a new id, its place in the chain kept", func(t *testing.T, db *store.DB) {
				exec(t, db, `CREATE TABLE moved AS SELECT `+all+`, chain_seq FROM audit_events WHERE id = 3`)
				exec(t, db, `DELETE FROM audit_events WHERE id = 3`)
				exec(t, db, `INSERT INTO audit_events (`+all+`, chain_seq) SELECT `+all+`, chain_seq FROM moved`)
			}, 7, "content does not match"},
			{"chain_seq changed", func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET chain_seq = 100 WHERE id = 6`)
			}, 6, "content does not match"},
			{"request ID set", func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET request_id = 'r-forged' WHERE id = 2`)
			}, 2, "content does not match"},
			{"prev_hash changed", func(t *testing.T, db *store.DB) {
				exec(t, db, `UPDATE audit_events SET prev_hash = $1 WHERE id = 5`, strings.Repeat("ab", 32))
			}, 5, "prev_hash abababababababab"},
			{"prev_hash and hash recomputed for a changed row", func(t *testing.T, db *store.DB) {
				// The forger rehashes the row he changed: the next row's link breaks.
				var r audit.Row
				var serial any
				if err := db.SQL().QueryRow(`SELECT id, chain_seq, at, type, actor, organization_id, user_id, serial, detail, prev_hash FROM audit_events WHERE id = 3`).
					Scan(&r.ID, &r.ChainSeq.V, &r.At, &r.Type, &r.Actor, &r.OrganizationID.V, &r.UserID.V, &serial, &r.Detail, &r.PrevHash); err != nil {
					t.Fatal(err)
				}
				r.ChainSeq.Valid, r.OrganizationID.Valid, r.UserID.Valid = true, true, true
				r.Detail = "forged"
				exec(t, db, `UPDATE audit_events SET detail = $1, hash = $2 WHERE id = 3`, r.Detail, audit.ComputeHash(r))
			}, 4, "does not match the hash of row 3"},
			{"row added outside the chain", func(t *testing.T, db *store.DB) {
				var head string
				if err := db.SQL().QueryRow(`SELECT hash FROM audit_head`).Scan(&head); err != nil {
					t.Fatal(err)
				}
				exec(t, db, `INSERT INTO audit_events (at, type, actor, detail, prev_hash) VALUES (1, 'login.succeeded', 'user:x', 'x', $1)`, head)
			}, 7, "no hash"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				db := freshDB(t, db)
				chainEvents(t, db, 6)
				if v := mustVerify(t, db); v.Break != nil || v.Count != 6 {
					t.Fatalf("before: %+v, want 6 good rows", v)
				}
				tc.tamper(t, db)
				v := mustVerify(t, db)
				if v.Break == nil {
					t.Fatalf("tampering not detected: %+v", v)
				}
				if v.Break.ID != tc.id || !strings.Contains(v.Break.Reason, tc.reason) {
					t.Errorf("break at %d %q, want at %d with %q", v.Break.ID, v.Break.Reason, tc.id, tc.reason)
				}
			})
		}
	})
}

func TestAuditChainEmpty(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		v := mustVerify(t, db)
		if v.Break != nil || v.Count != 0 || v.LastHash != audit.GenesisHash {
			t.Errorf("empty log: %+v", v)
		}
	})
}

// TestAuditChainConcurrentAppends appends from many goroutines, through the
// plain transactions and the batched certificate writes, and checks that
// the chain stays linear.
func TestAuditChainConcurrentAppends(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		const goroutines, each = 16, 20
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					errs <- db.AppendAudit(context.Background(), audit.Event{At: unitT0, Type: audit.LoginFailed,
						Actor: audit.System, UserID: int64(g + 1), Detail: fmt.Sprintf("%d/%d", g, i)})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		link(t, db)
		v := mustVerify(t, db)
		if v.Break != nil || v.Count != goroutines*each {
			t.Errorf("after %d concurrent appends: %+v", goroutines*each, v)
		}
		var head string
		if err := db.SQL().QueryRow(`SELECT hash FROM audit_head`).Scan(&head); err != nil {
			t.Fatal(err)
		}
		if v.LastHash != head {
			t.Errorf("last hash %s, head %s", v.LastHash, head)
		}
	})
}

// TestAuditChainAfterRealActivity runs a bank through the API — users,
// logins good and bad, certificates issued at the same time (batched on
// SQLite), certificate logins, revocations — and verifies the chain.
func TestAuditChainAfterRealActivity(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		bank := testutil.NewBank(t, db)
		org := bank.NewOrg(t, "監査 労働組合", true)
		users := []testutil.Creds{org.Master}
		for range 4 {
			users = append(users, bank.NewGeneralUser(t, org))
		}
		plain := bank.NewOrg(t, "監査 生協", false)
		if r := bank.Client(nil).Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": plain.Master.LoginID, "password": "wrong"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.Status)
		}
		if r := bank.Client(nil).Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": plain.Master.LoginID, "password": plain.Master.Password}); r.Status != http.StatusCreated {
			t.Fatalf("password login: %d %s", r.Status, r.Raw)
		}
		certsOf := make([]*tls.Certificate, len(users))
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() {
				certsOf[i] = bank.IssueCertificate(t, u)
				c := bank.Client(certsOf[i])
				if r := c.CertPortal(http.MethodPost, "/api/v1/sessions", map[string]string{"password": u.Password}); r.Status != http.StatusCreated {
					t.Errorf("certificate login of %s: %d %s", u.LoginID, r.Status, r.Raw)
				}
				c.CertPortal(http.MethodDelete, "/api/v1/sessions/current", nil)
			})
		}
		wg.Wait()
		master := bank.Client(certsOf[0])
		if r := master.CertPortal(http.MethodPost, "/api/v1/sessions", map[string]string{"password": org.Master.Password}); r.Status != http.StatusCreated {
			t.Fatalf("master login: %d %s", r.Status, r.Raw)
		}
		for _, u := range users[1:3] {
			r := master.CertPortal(http.MethodPost, "/api/v1/users/"+u.LoginID+"/certificate/revocation",
				map[string]string{"reason": "keyCompromise", "confirmation_password": org.Master.Confirmation})
			if r.Status != http.StatusOK {
				t.Fatalf("revoke %s: %d %s", u.LoginID, r.Status, r.Raw)
			}
			bank.IssueCertificate(t, u)
		}
		events, err := db.ListAudit(context.Background(), store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		types := map[audit.Type]int{}
		for _, ev := range events {
			types[ev.Type]++
		}
		for _, typ := range []audit.Type{audit.OrganizationCreated, audit.UserCreated, audit.LoginFailed, audit.LoginSucceeded,
			audit.CertificateRequested, audit.CertificateIssued, audit.CertificateRevoked, audit.SessionEnded} {
			if types[typ] == 0 {
				t.Errorf("no %s event among %v", typ, types)
			}
		}
		link(t, db)
		v := mustVerify(t, db)
		if v.Break != nil || v.Count != len(events) {
			t.Errorf("verify after %d events: %+v", len(events), v)
		}
	})
}

// TestAuditChainMigratesExistingRows rolls a database back to before the
// chain (the columns, the head and the migration's record gone, the rows
// kept) and opens it again: the migration chains the rows there were.
func TestAuditChainMigratesExistingRows(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "kinko.db")
			if engine == "postgres" {
				dsn = testutil.PostgresDSN(t)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			chainEvents(t, db, 5)
			for _, q := range []string{`DROP INDEX audit_events_unlinked`, `DROP INDEX audit_events_chain_seq`,
				`ALTER TABLE audit_events DROP COLUMN chain_seq`, `ALTER TABLE audit_events DROP COLUMN request_id`, `ALTER TABLE audit_events DROP COLUMN recorded_at`,
				`DROP TABLE audit_head`, `ALTER TABLE audit_events DROP COLUMN hash`,
				`ALTER TABLE audit_events DROP COLUMN prev_hash`, `DELETE FROM schema_migrations WHERE version IN (2, 10)`} {
				exec(t, db, q)
			}
			db.Close()
			db, err = store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if v := mustVerify(t, db); v.Break != nil || v.Count != 5 || v.LastID != 5 {
				t.Fatalf("rows chained by the migration: %+v", v)
			}
			chainEvents(t, db, 2)
			if v := mustVerify(t, db); v.Break != nil || v.Count != 7 {
				t.Errorf("appended after: %+v", v)
			}
			exec(t, db, `UPDATE audit_events SET actor = 'user:b' WHERE id = 2`)
			if v := mustVerify(t, db); v.Break == nil || v.Break.ID != 2 {
				t.Errorf("changed row 2 of the migrated rows: %+v", v.Break)
			}
		})
	}
}

// TestTypedEventsMigrateOverOldRows rolls a database back to before the
// typed fields of events and the outbox's intents (migration 6: the
// columns gone, the outbox's index as it was, the migration's record gone,
// the rows kept, a mail composed in the old way waiting) and opens it
// again: the old rows still verify, with version 1 of the canonical
// encoding; new rows with typed fields verify with version 2; and the old
// mail is sent as it was composed.
func TestTypedEventsMigrateOverOldRows(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "kinko.db")
			if engine == "postgres" {
				dsn = testutil.PostgresDSN(t)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			chainEvents(t, db, 3)
			for _, q := range []string{
				`DROP INDEX mail_outbox_due`,
				`ALTER TABLE mail_outbox DROP COLUMN dropped_at`, `ALTER TABLE mail_outbox DROP COLUMN audit_id`,
				`ALTER TABLE mail_outbox DROP COLUMN recipient_role`,
				`CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL`,
				`ALTER TABLE audit_events DROP COLUMN reason`, `ALTER TABLE audit_events DROP COLUMN cause`,
				`ALTER TABLE audit_events DROP COLUMN password`,
				`DELETE FROM schema_migrations WHERE version = 6`,
			} {
				exec(t, db, q)
			}
			exec(t, db, `INSERT INTO mail_outbox (created_at, kind, organization_id, user_id, serial, recipient, subject, body, next_attempt_at)
				VALUES ($1, 'password_changed', 7, 100, NULL, 'old@hikari.example', 'composed subject', 'composed body', $2)`,
				unitT0.UnixMicro(), unitT0.UnixMicro())
			db.Close()

			db, err = store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMailRules(notify.Rules{})
			if v := mustVerify(t, db); v.Break != nil || v.Count != 3 {
				t.Fatalf("old rows after the migration: %+v", v)
			}
			if err := db.AppendAudit(ctx, audit.Event{At: unitT0, Type: audit.CertificateRevoked, Actor: "operator:s",
				OrganizationID: 7, UserID: 100, Serial: "0abc", RequestRef: "REQ-1", Reason: "keyCompromise"}); err != nil {
				t.Fatal(err)
			}
			link(t, db)
			if v := mustVerify(t, db); v.Break != nil || v.Count != 4 {
				t.Fatalf("a typed row after the old ones: %+v", v)
			}
			evs, err := db.ListAudit(ctx, store.AuditFilter{Type: audit.CertificateRevoked})
			if err != nil || len(evs) != 1 || evs[0].Reason != "keyCompromise" || evs[0].Detail != "" {
				t.Fatalf("typed event read back: %+v, %v", evs, err)
			}

			// The old mail goes out as composed, to its address.
			c := &capture{}
			s := &notify.Sender{Store: db, Transport: c, From: "noreply@bank.example",
				Now: func() time.Time { return unitT0.Add(time.Hour) }, Logger: slog.New(slog.DiscardHandler)}
			if _, err := s.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var old []notify.Message
			for _, m := range c.msgs {
				if m.To == "old@hikari.example" {
					old = append(old, m)
				}
			}
			if len(old) != 1 || old[0].Subject != "composed subject" || old[0].Body != "composed body" || old[0].Kind != notify.PasswordChanged {
				t.Errorf("old mail delivered as %+v", old)
			}

			for _, tc := range []struct {
				q  string
				id int64
			}{
				{`UPDATE audit_events SET reason = 'superseded' WHERE id = 4`, 4},
				{`UPDATE audit_events SET reason = 'keyCompromise' WHERE id = 2`, 2},
			} {
				exec(t, db, `UPDATE audit_events SET reason = NULL WHERE id = 2`)
				exec(t, db, `UPDATE audit_events SET reason = 'keyCompromise' WHERE id = 4`)
				exec(t, db, tc.q)
				if v := mustVerify(t, db); v.Break == nil || v.Break.ID != tc.id {
					t.Errorf("%s: break %+v, want at row %d", tc.q, v.Break, tc.id)
				}
			}
		})
	}
}

// TestAuditChain_HeldTransactionDoesNotBlockAnotherLogin: a transaction
// that wrote an audit event and is held open (the 4.9 s of issue 11) no
// longer holds other audited writes: a login through the portal completes
// while it is still open. Its event, committed last, is linked last,
// though its id is lower.
func TestAuditChain_HeldTransactionDoesNotBlockAnotherLogin(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		if db.Dialect() == store.SQLite {
			t.Skip("SQLite has one writer at a time: a held write transaction holds every writer, audited or not")
		}
		ctx := context.Background()
		bank := testutil.NewBank(t, db)
		org := bank.NewOrg(t, "保留 労働組合", false)
		link(t, db)
		held, release, done := make(chan int64), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- db.InIdentityTx(ctx, func(tx identity.Tx) error {
				if err := tx.AppendAudit(ctx, audit.Event{At: unitT0, Type: audit.UserUnlocked, Actor: "operator:held",
					OrganizationID: org.ID, Detail: "held open"}); err != nil {
					return err
				}
				var id int64
				evs, err := db.ListAuditRecords(ctx, store.AuditFilter{NewestFirst: true, Limit: 1})
				if err != nil || len(evs) == 0 {
					return fmt.Errorf("the newest committed event: %v", err)
				}
				id = evs[0].ID
				held <- id
				<-release
				return nil
			})
		}()
		before := <-held
		r := bank.Client(nil).Portal(http.MethodPost, "/api/v1/sessions", map[string]string{"login_id": org.Master.LoginID, "password": org.Master.Password})
		if r.Status != http.StatusCreated {
			t.Fatalf("login while a transaction with an audit event is held open: %d %s", r.Status, r.Raw)
		}
		select {
		case err := <-done:
			t.Fatalf("the held transaction ended before the login completed (%v)", err)
		default:
		}
		link(t, db)
		logins, err := db.ListAuditRecords(ctx, store.AuditFilter{OrganizationID: org.ID, Type: audit.LoginSucceeded})
		if err != nil || len(logins) != 1 || logins[0].Hash == "" {
			t.Fatalf("the login's event, linked while the other is open: %+v, %v", logins, err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		link(t, db)
		v := mustVerify(t, db)
		if v.Break != nil || v.Unlinked != 0 {
			t.Fatalf("after the held transaction committed: %+v", v)
		}
		var heldID, heldSeq, loginSeq, maxSeq int64
		if err := db.SQL().QueryRow(`SELECT id, chain_seq FROM audit_events WHERE actor = 'operator:held'`).Scan(&heldID, &heldSeq); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow(`SELECT chain_seq FROM audit_events WHERE id = $1`, logins[0].ID).Scan(&loginSeq); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow(`SELECT MAX(chain_seq) FROM audit_events`).Scan(&maxSeq); err != nil {
			t.Fatal(err)
		}
		if heldID > logins[0].ID || heldID <= before || heldSeq != maxSeq || heldSeq <= loginSeq {
			t.Errorf("held event id %d (after %d) seq %d, login id %d seq %d, last seq %d: want the held event's id lower and its place last",
				heldID, before, heldSeq, logins[0].ID, loginSeq, maxSeq)
		}
	})
}

// TestAuditChain_LinkedByServersAtOnceOverGapsAndLateCommits writes from
// many connections on each engine, with transactions rolled back (gaps in
// the ids) and one that takes its id first and commits last, while two
// servers' linkers run at once: every committed event is linked once, in
// one chain that verifies, and nothing rolled back is in it.
func TestAuditChain_LinkedByServersAtOnceOverGapsAndLateCommits(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { linkedByServersAtOnce(t, engine) })
	}
}

func linkedByServersAtOnce(t *testing.T, engine string) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "kinko.db")
	if engine == "postgres" {
		dsn = testutil.PostgresDSN(t)
	}
	// Two servers on one database.
	var db, other *store.DB
	for _, d := range []**store.DB{&db, &other} {
		var err error
		if *d, err = store.Open(ctx, dsn); err != nil {
			t.Fatal(err)
		}
		defer (*d).Close()
	}
	late, release, lateDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	if db.Dialect() == store.Postgres { // SQLite's writers take turns: a held writer holds all
		go func() {
			lateDone <- db.InIdentityTx(ctx, func(tx identity.Tx) error {
				if err := tx.AppendAudit(ctx, audit.Event{At: unitT0, Type: audit.UserUnlocked, Actor: "operator:late", Detail: "late"}); err != nil {
					return err
				}
				close(late)
				<-release
				return nil
			})
		}()
		<-late
	}
	errRollback := errors.New("rolled back")
	const goroutines, each = 8, 15
	stop := make(chan struct{})
	var linkers, writers sync.WaitGroup
	for _, d := range []*store.DB{db, other} {
		linkers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := d.LinkAudit(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for g := range goroutines {
		writers.Go(func() {
			for i := range each {
				var err error
				if i%5 == 4 {
					err = db.InIdentityTx(ctx, func(tx identity.Tx) error {
						if err := tx.AppendAudit(ctx, audit.Event{At: unitT0, Type: audit.LoginFailed, Actor: "user:rolledback"}); err != nil {
							return err
						}
						return errRollback
					})
					if errors.Is(err, errRollback) {
						err = nil
					}
				} else {
					err = db.AppendAudit(ctx, audit.Event{At: unitT0, Type: audit.LoginFailed, Actor: audit.System,
						UserID: int64(g + 1), Detail: fmt.Sprintf("%d/%d", g, i)})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	linkers.Wait()
	// Every event committed so far is linked; then the late one commits:
	// its id is the lowest, its place the last.
	link(t, other)
	if db.Dialect() == store.Postgres {
		close(release)
		if err := <-lateDone; err != nil {
			t.Fatal(err)
		}
	}
	link(t, other)
	v := mustVerify(t, db)
	want := goroutines * each * 4 / 5
	if db.Dialect() == store.Postgres {
		want++
	}
	if v.Break != nil || v.Count != want || v.Unlinked != 0 {
		t.Fatalf("after %d committed events: %+v", want, v)
	}
	var rolledBack int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM audit_events WHERE actor = 'user:rolledback'`).Scan(&rolledBack); err != nil || rolledBack != 0 {
		t.Errorf("rolled-back events in the log: %d, %v", rolledBack, err)
	}
	if db.Dialect() == store.Postgres {
		var id, seq int64
		if err := db.SQL().QueryRow(`SELECT id, chain_seq FROM audit_events WHERE actor = 'operator:late'`).Scan(&id, &seq); err != nil {
			t.Fatal(err)
		}
		if id != 1 || seq != int64(want) {
			t.Errorf("the late event: id %d, chain_seq %d; want id 1 linked last (%d)", id, seq, want)
		}
	}
}

// TestAuditChainVersion4_TransferAndBatch: rows written before migration
// 17 keep their versions and still verify after it; events about a
// transfer or a batch are linked as version 4 with their transfer_id and
// batch_id, read back as typed fields, and a changed transfer_id or
// batch_id, or one given to an older row, breaks the chain there.
func TestAuditChainVersion4_TransferAndBatch(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "kinko.db")
			if engine == "postgres" {
				dsn = testutil.PostgresDSN(t)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			chainEvents(t, db, 3)
			for _, q := range []string{
				`ALTER TABLE audit_events DROP COLUMN transfer_id`, `ALTER TABLE audit_events DROP COLUMN batch_id`,
				`DELETE FROM schema_migrations WHERE version = 17`,
			} {
				exec(t, db, q)
			}
			db.Close()

			db, err = store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if v := mustVerify(t, db); v.Break != nil || v.Count != 3 {
				t.Fatalf("old rows after the migration: %+v", v)
			}
			for _, ev := range []audit.Event{
				{At: unitT0, Type: audit.TransferRequested, Actor: "user:a", OrganizationID: 7, UserID: 100, TransferID: 41},
				{At: unitT0, Type: audit.TransferRequested, Actor: "user:a", OrganizationID: 7, UserID: 100, BatchID: 5},
				{At: unitT0, Type: audit.LoginSucceeded, Actor: "user:a", OrganizationID: 7, UserID: 100},
			} {
				if err := db.AppendAudit(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			link(t, db)
			if v := mustVerify(t, db); v.Break != nil || v.Count != 6 {
				t.Fatalf("version 4 rows after the old ones: %+v", v)
			}
			evs, err := db.ListAudit(ctx, store.AuditFilter{Type: audit.TransferRequested})
			if err != nil || len(evs) != 2 || evs[0].TransferID != 41 || evs[0].BatchID != 0 || evs[1].BatchID != 5 || evs[1].TransferID != 0 {
				t.Fatalf("transfer events read back: %+v, %v", evs, err)
			}
			for _, tc := range []struct {
				name, q string
				id      int64
			}{
				{"transfer_id changed", `UPDATE audit_events SET transfer_id = 42 WHERE id = 4`, 4},
				{"transfer_id removed", `UPDATE audit_events SET transfer_id = NULL WHERE id = 4`, 4},
				{"batch_id changed", `UPDATE audit_events SET batch_id = 6 WHERE id = 5`, 5},
				{"transfer_id moved to batch_id", `UPDATE audit_events SET batch_id = 41, transfer_id = NULL WHERE id = 4`, 4},
				{"transfer_id given to a version 3 row", `UPDATE audit_events SET transfer_id = 41 WHERE id = 6`, 6},
				{"transfer_id given to an old row", `UPDATE audit_events SET transfer_id = 41 WHERE id = 2`, 2},
			} {
				t.Run(tc.name, func(t *testing.T) {
					exec(t, db, `UPDATE audit_events SET transfer_id = NULL, batch_id = NULL WHERE id IN (1, 2, 3, 6)`)
					exec(t, db, `UPDATE audit_events SET transfer_id = 41, batch_id = NULL WHERE id = 4`)
					exec(t, db, `UPDATE audit_events SET transfer_id = NULL, batch_id = 5 WHERE id = 5`)
					if v := mustVerify(t, db); v.Break != nil {
						t.Fatalf("restored: %+v", v.Break)
					}
					exec(t, db, tc.q)
					if v := mustVerify(t, db); v.Break == nil || v.Break.ID != tc.id {
						t.Errorf("break %+v, want at row %d", v.Break, tc.id)
					}
				})
			}
		})
	}
}
