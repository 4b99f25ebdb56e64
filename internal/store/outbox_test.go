package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/notify"
	mailbox "kinko/internal/outbox"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// outboxRow is a row of mail_outbox, or a mail as delivered, as the tests
// look at it.
type outboxRow struct {
	ID            int64
	Kind          string
	Role          string // recipient_role: whom the intent is for
	To            string
	Subject, Body string
	UserID        int64
	Serial        string
	Attempts      int
	NextAttempt   int64
	ClaimedUntil  sql.NullInt64
	SentAt        sql.NullInt64
	LastError     sql.NullString
}

// outbox returns the mails of an organization, in order of writing.
func outbox(t *testing.T, db *store.DB, orgID int64) []outboxRow {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT id, kind, recipient_role, recipient, subject, body, user_id, serial, attempts, next_attempt_at, claimed_until, sent_at, last_error
		FROM mail_outbox WHERE organization_id = $1 ORDER BY id`, orgID)
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		var serial, role sql.NullString
		if err := rows.Scan(&r.ID, &r.Kind, &role, &r.To, &r.Subject, &r.Body, &r.UserID, &serial, &r.Attempts, &r.NextAttempt,
			&r.ClaimedUntil, &r.SentAt, &r.LastError); err != nil {
			t.Fatalf("outbox: %v", err)
		}
		r.Serial, r.Role = serial.String, role.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("outbox: %v", err)
	}
	return out
}

// capture is a transport that keeps the mails it is given.
type capture struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (c *capture) Deliver(_ context.Context, m notify.Message, _ []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return nil
}

// deliverAll runs a sender over every due mail and returns those of the
// organization orgID that it delivered, in order of writing.
func deliverAll(t *testing.T, db *store.DB, orgID int64) []outboxRow {
	t.Helper()
	c := &capture{}
	s := &notify.Sender{Store: db, Transport: c, From: "noreply@bank.example", BankName: "テスト労働金庫",
		Now: func() time.Time { return unitT0.AddDate(1, 0, 0) }, Logger: slog.New(slog.DiscardHandler)}
	for {
		n, err := s.RunOnce(context.Background())
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if n == 0 {
			break
		}
	}
	var out []outboxRow
	for _, m := range c.msgs {
		if m.OrganizationID == orgID {
			out = append(out, outboxRow{ID: m.ID, Kind: string(m.Kind), To: m.To, Subject: m.Subject, Body: m.Body, UserID: m.UserID, Serial: m.Serial})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// sent is what the tests compare of a mail: kind and recipient.
func sent(rows []outboxRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Kind+" to "+r.To)
	}
	return out
}

// outboxOrg makes an organization whose master and general user have
// addresses of their own.
func outboxOrg(t *testing.T, db *store.DB) (identity.Organization, identity.User, identity.User) {
	t.Helper()
	ctx := context.Background()
	org := identity.Organization{Code: unitName("9"), Name: "ひかり労働組合 " + unitName("o"), CreatedAt: unitT0}
	master := identity.User{LoginID: unitName("m"), Name: "山田 花子", Email: "treasurer@hikari.example", Role: identity.RoleMaster,
		PasswordHash: "hash", ConfirmationHash: "hash", CreatedAt: unitT0}
	if err := unitCreateOrg(ctx, db, &org, &master, audit.Event{At: unitT0, Type: audit.OrganizationCreated, Actor: "operator:test"}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	general := identity.User{OrganizationID: org.ID, LoginID: unitName("g"), Name: "佐藤 一郎", Email: "clerk@hikari.example",
		Role: identity.RoleGeneral, PasswordHash: "hash", ConfirmationHash: "hash", CreatedAt: unitT0}
	if err := unitCreateUser(ctx, db, &general,
		audit.Event{At: unitT0, Type: audit.UserCreated, Actor: "user:test", OrganizationID: org.ID}); err != nil {
		t.Fatalf("create general user: %v", err)
	}
	return org, master, general
}

// lockUser records wrong passwords of a user until locked, each with the
// events that identity appends for it, in a transaction of its own.
func lockUser(t *testing.T, db *store.DB, u identity.User, at time.Time) error {
	t.Helper()
	ctx := context.Background()
	for failed := 1; failed <= identity.LockAfter; failed++ {
		err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
			var lockedAt time.Time
			if failed == identity.LockAfter {
				lockedAt = at
			}
			if err := tx.SetLoginFailures(ctx, u.ID, failed, lockedAt); err != nil {
				return err
			}
			ev := audit.Event{At: at, Type: audit.LoginFailed, Actor: audit.UserActor(u.LoginID), OrganizationID: u.OrganizationID, UserID: u.ID}
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
			if lockedAt.IsZero() {
				return nil
			}
			ev.Type, ev.Actor, ev.Detail = audit.UserLocked, audit.System, fmt.Sprintf("%d wrong passwords in a row", failed)
			return tx.AppendAudit(ctx, ev)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// setPassword replaces a user's password hash with ev, in one transaction
// of identity's.
func setPassword(ctx context.Context, db *store.DB, userID int64, kind identity.PasswordKind, ev audit.Event) error {
	return db.InIdentityTx(ctx, func(tx identity.Tx) error {
		if err := tx.SetPassword(ctx, userID, kind, "new", false); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, ev)
	})
}

func revoke(t *testing.T, db *store.DB, c certs.Certificate, reason string, at time.Time) {
	t.Helper()
	err := unitRevoke(context.Background(), db, c.ID, certs.Revocation{Reason: reason, At: at, By: "user:test"},
		audit.Event{At: at, Type: audit.CertificateRevoked, Actor: "user:test", OrganizationID: c.OrganizationID,
			UserID: c.UserID, Serial: c.Serial, Reason: reason})
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

// TestOutboxMailsOfEvents checks which mails each audited change writes to
// the outbox, in its transaction, and what they say when they are sent.
func TestOutboxMailsOfEvents(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := unitT0.Add(3 * time.Hour)
		tests := []struct {
			name string
			do   func(t *testing.T, org identity.Organization, master, general identity.User)
			want []string
			// check looks at the mails written by do.
			check func(t *testing.T, rows []outboxRow, master, general identity.User)
		}{
			{
				name: "certificate issued: to the user",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					unitIssued(t, db, general, at, at.AddDate(1, 0, 0))
				},
				want: []string{"certificate_issued to clerk@hikari.example"},
				check: func(t *testing.T, rows []outboxRow, _, general identity.User) {
					r := rows[0]
					if r.Serial == "" || !strings.Contains(r.Body, r.Serial) || r.UserID != general.ID {
						t.Errorf("serial %q, user %d; body:\n%s", r.Serial, r.UserID, r.Body)
					}
					// Expiry one year on, in Japan time.
					if !strings.Contains(r.Body, "2027年4月1日 21:00") || !strings.Contains(r.Body, "2027-04-01 21:00 JST") {
						t.Errorf("body does not give the expiry in Japan time:\n%s", r.Body)
					}
				},
			},
			{
				name: "certificate renewed: to the user",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					c := unitPending(t, db, general, at)
					if err := unitMarkIssued(ctx, db, c.ID, []byte("der"), unitRandomHex(32), at, audit.Event{At: at, Type: audit.CertificateRenewed,
						Actor: "user:test", OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: c.Serial}); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"certificate_renewed to clerk@hikari.example"},
			},
			{
				name: "general user's certificate revoked: to the user and the master",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					c := unitIssued(t, db, general, at, at.AddDate(1, 0, 0))
					revoke(t, db, c, "keyCompromise", at.Add(time.Hour))
				},
				want: []string{"certificate_issued to clerk@hikari.example", "certificate_revoked to clerk@hikari.example",
					"certificate_revoked to treasurer@hikari.example"},
				check: func(t *testing.T, rows []outboxRow, master, general identity.User) {
					ja, en := notify.ReasonWords("keyCompromise")
					for _, r := range rows[1:] {
						if !strings.Contains(r.Body, ja) || !strings.Contains(r.Body, en) || !strings.Contains(r.Body, general.LoginID) {
							t.Errorf("mail to %s does not give the reason and the login ID:\n%s", r.To, r.Body)
						}
					}
					if !strings.Contains(rows[2].Body, master.Name+" 様") {
						t.Errorf("master's copy does not greet the master:\n%s", rows[2].Body)
					}
				},
			},
			{
				name: "master's certificate revoked: to the master alone",
				do: func(t *testing.T, _ identity.Organization, master, _ identity.User) {
					c := unitIssued(t, db, master, at, at.AddDate(1, 0, 0))
					revoke(t, db, c, "cessationOfOperation", at.Add(time.Hour))
				},
				want: []string{"certificate_issued to treasurer@hikari.example", "certificate_revoked to treasurer@hikari.example"},
			},
			{
				name: "superseded by a renewal: no revocation mail",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					c := unitIssued(t, db, general, at, at.AddDate(1, 0, 0))
					revoke(t, db, c, "superseded", at.Add(time.Hour))
				},
				want: []string{"certificate_issued to clerk@hikari.example"},
			},
			{
				name: "never signed: no mail",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					c := unitPending(t, db, general, at)
					later := at.Add(time.Hour) // the pending record is stale: revoked as never signed
					if err := unitRevoke(ctx, db, c.ID, certs.Revocation{Reason: "unspecified", At: later, By: audit.System},
						audit.Event{At: later, Type: audit.CertificateRevoked, Actor: audit.System, OrganizationID: c.OrganizationID,
							UserID: c.UserID, Serial: c.Serial, Cause: audit.NeverSigned}); err != nil {
						t.Fatal(err)
					}
				},
				want: nil,
			},
			{
				name: "general user locked: to the user and the master",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					if err := lockUser(t, db, general, at); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"user_locked to clerk@hikari.example", "user_locked to treasurer@hikari.example"},
				check: func(t *testing.T, rows []outboxRow, _, _ identity.User) {
					if !strings.Contains(rows[0].Body, "マスターユーザに、ロックの解除をご依頼ください") {
						t.Errorf("general user's mail does not send them to the master:\n%s", rows[0].Body)
					}
				},
			},
			{
				name: "master locked: to the master alone",
				do: func(t *testing.T, _ identity.Organization, master, _ identity.User) {
					if err := lockUser(t, db, master, at); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"user_locked to treasurer@hikari.example"},
				check: func(t *testing.T, rows []outboxRow, _, _ identity.User) {
					if !strings.Contains(rows[0].Body, "お取引店にお申し込みください") {
						t.Errorf("master's mail does not send them to the bank:\n%s", rows[0].Body)
					}
				},
			},
			{
				name: "password changed: to the user",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					if err := setPassword(ctx, db, general.ID, identity.ConfirmationPassword, audit.Event{At: at,
						Type: audit.PasswordChanged, Actor: "user:test", OrganizationID: general.OrganizationID, UserID: general.ID,
						Password: audit.ConfirmationPassword}); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"password_changed to clerk@hikari.example"},
				check: func(t *testing.T, rows []outboxRow, _, _ identity.User) {
					if !strings.Contains(rows[0].Subject, "確認用パスワード") {
						t.Errorf("subject %q does not name the confirmation password", rows[0].Subject)
					}
				},
			},
			{
				name: "expiry notice: to the user, with the days left",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					c := unitIssued(t, db, general, at, at.Add(13*24*time.Hour+time.Minute))
					if err := db.AppendAudit(ctx, audit.Event{At: at, Type: audit.CertificateExpiryNotice, Actor: audit.System,
						OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: c.Serial}); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"certificate_issued to clerk@hikari.example", "expiry_notice to clerk@hikari.example"},
				check: func(t *testing.T, rows []outboxRow, _, _ identity.User) {
					if !strings.Contains(rows[1].Subject, "あと14日") { // 13 days and a minute: part of a day counts
						t.Errorf("subject %q, want 14 days left", rows[1].Subject)
					}
				},
			},
			{
				name: "other events: no mail",
				do: func(t *testing.T, _ identity.Organization, master, _ identity.User) {
					unitSession(t, db, master, nil, at, at.Add(time.Hour))
					if err := db.AppendAudit(ctx, audit.Event{At: at, Type: audit.LoginFailed, Actor: "user:x", UserID: master.ID}); err != nil {
						t.Fatal(err)
					}
				},
				want: nil,
			},
			{
				name: "user without an address: no mail, the master's copy still",
				do: func(t *testing.T, _ identity.Organization, _, general identity.User) {
					if _, err := db.SQL().Exec(`UPDATE users SET email = '' WHERE id = $1`, general.ID); err != nil {
						t.Fatal(err)
					}
					if err := lockUser(t, db, general, at); err != nil {
						t.Fatal(err)
					}
				},
				want: []string{"user_locked to treasurer@hikari.example"},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				org, master, general := outboxOrg(t, db)
				tt.do(t, org, master, general)
				for _, r := range outbox(t, db, org.ID) {
					if r.Attempts != 0 || r.SentAt.Valid || r.ClaimedUntil.Valid {
						t.Errorf("new mail %d: attempts %d, sent %v, claimed %v", r.ID, r.Attempts, r.SentAt, r.ClaimedUntil)
					}
					if r.To != "" || r.Subject != "" || r.Body != "" || (r.Role != "user" && r.Role != "master") {
						t.Errorf("new mail %d is not an intent: role %q, to %q, subject %q", r.ID, r.Role, r.To, r.Subject)
					}
				}
				rows := deliverAll(t, db, org.ID)
				if diff := cmp.Diff(tt.want, sent(rows)); diff != "" {
					t.Fatalf("mails (-want +got):\n%s", diff)
				}
				for _, r := range rows {
					if !strings.Contains(r.Body, org.Name) {
						t.Errorf("mail to %s does not name the organization:\n%s", r.To, r.Body)
					}
				}
				if tt.check != nil {
					tt.check(t, rows, master, general)
				}
			})
		}
	})
}

// TestOutboxInTheTransactionOfTheEvent checks that a mail is written with
// its event or not at all.
func TestOutboxInTheTransactionOfTheEvent(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t.Run("mail not writable: the change does not happen", func(t *testing.T) {
			org, _, general := outboxOrg(t, db)
			state, events := unitState(t, db), len(unitAudit(t, db, store.AuditFilter{}))
			if _, err := db.SQL().Exec(`ALTER TABLE mail_outbox RENAME TO mail_outbox_off`); err != nil {
				t.Fatal(err)
			}
			err := setPassword(ctx, db, general.ID, identity.LoginPassword, audit.Event{At: unitT0,
				Type: audit.PasswordChanged, Actor: "user:test", OrganizationID: org.ID, UserID: general.ID, Password: audit.LoginPassword})
			if _, rerr := db.SQL().Exec(`ALTER TABLE mail_outbox_off RENAME TO mail_outbox`); rerr != nil {
				t.Fatalf("restore outbox: %v", rerr)
			}
			if err == nil {
				t.Fatal("password changed although its mail could not be written")
			}
			if diff := cmp.Diff(state, unitState(t, db)); diff != "" {
				t.Errorf("state changed (-before +after):\n%s", diff)
			}
			if after := len(unitAudit(t, db, store.AuditFilter{})); after != events {
				t.Errorf("audit events %d -> %d", events, after)
			}
		})
		t.Run("transaction rolled back after a mail was written: no mail", func(t *testing.T) {
			org, _, general := outboxOrg(t, db)
			// The master's copy of the lock mail fails, after the user's
			// copy has been written in the same transaction.
			refuseMasterCopy(t, db)
			err := lockUser(t, db, general, unitT0)
			dropRefusal(t, db)
			if err == nil {
				t.Fatal("lock succeeded although the master's mail was refused")
			}
			if rows := outbox(t, db, org.ID); len(rows) != 0 {
				t.Errorf("mails of a rolled-back transaction: %v", sent(rows))
			}
			if n := unitCount(t, db, `SELECT COUNT(*) FROM users WHERE id = $1 AND locked_at IS NOT NULL`, general.ID); n != 0 {
				t.Error("the user is locked although the transaction failed")
			}
			if evs := unitAudit(t, db, store.AuditFilter{UserID: general.ID, Type: audit.UserLocked}); len(evs) != 0 {
				t.Errorf("lock events of a rolled-back transaction: %v", evs)
			}
		})
	})
}

// refuseMasterCopy makes the database refuse mails to the master user.
func refuseMasterCopy(t *testing.T, db *store.DB) {
	t.Helper()
	var stmts []string
	if db.Dialect() == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
				IF NEW.recipient_role = 'master' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox FOR EACH ROW EXECUTE FUNCTION refuse_mail()`,
		}
	} else {
		stmts = []string{`CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox WHEN NEW.recipient_role = 'master'
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`}
	}
	for _, s := range stmts {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatalf("trigger: %v", err)
		}
	}
}

func dropRefusal(t *testing.T, db *store.DB) {
	t.Helper()
	q := `DROP TRIGGER refuse_mail`
	if db.Dialect() == store.Postgres {
		q += ` ON mail_outbox`
	}
	if _, err := db.SQL().Exec(q); err != nil {
		t.Fatalf("drop trigger: %v", err)
	}
}

// settleOutbox marks every mail sent, so that a test sees only its own.
func settleOutbox(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := db.SQL().Exec(`UPDATE mail_outbox SET sent_at = 1 WHERE sent_at IS NULL AND dropped_at IS NULL`); err != nil {
		t.Fatal(err)
	}
}

// enqueue writes n mails (password changes of u) at at.
func enqueue(t *testing.T, db *store.DB, u identity.User, n int, at time.Time) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := db.AppendAudit(context.Background(), audit.Event{At: at, Type: audit.PasswordChanged, Actor: "user:test",
			OrganizationID: u.OrganizationID, UserID: u.ID, Password: audit.LoginPassword}); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(msgs []mailbox.Mail) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// TestClaimMail checks the leases: a claimed mail is not claimed again
// until its lease ends, servers claiming at once get different mails, and
// a mail is due only from its next attempt on.
func TestClaimMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lease := 5 * time.Minute

		t.Run("lease, expiry of the lease, due time", func(t *testing.T) {
			org, _, general := outboxOrg(t, db)
			t0 := unitT0.Add(24 * time.Hour)
			enqueue(t, db, general, 3, t0)
			want := ids(nil)
			for _, r := range outbox(t, db, org.ID) {
				want = append(want, r.ID)
			}
			if got, err := db.ClaimMail(ctx, t0.Add(-time.Second), lease, 10); err != nil || len(got) != 0 {
				t.Fatalf("claim before due: %v, %v", ids(got), err)
			}
			got, err := db.ClaimMail(ctx, t0, lease, 2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[:2], ids(got)); diff != "" {
				t.Fatalf("first claim, oldest first (-want +got):\n%s", diff)
			}
			m := got[0]
			// An intent, with the event that caused it; no address, no text.
			if m.Kind != string(notify.PasswordChanged) || m.To != string(notify.ToUser) || m.UserID != general.ID || m.OrganizationID != org.ID ||
				!m.CreatedAt.Equal(t0) || m.Event.Type != audit.PasswordChanged || m.Event.Password != audit.LoginPassword ||
				m.Event.UserID != general.ID || !m.Event.At.Equal(t0) || m.Address != "" || m.Subject != "" || m.Body != "" {
				t.Errorf("claimed mail %+v", m)
			}
			got, err = db.ClaimMail(ctx, t0.Add(time.Minute), lease, 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[2:], ids(got)); diff != "" {
				t.Fatalf("claim while leased (-want +got):\n%s", diff)
			}
			if got, err := db.ClaimMail(ctx, t0.Add(lease), lease, 10); err != nil || len(got) != 0 {
				t.Fatalf("claim at the end of the lease: %v, %v", ids(got), err)
			}
			got, err = db.ClaimMail(ctx, t0.Add(lease+time.Second), lease, 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want[:2], ids(got)); diff != "" {
				t.Fatalf("claim after the lease ran out (-want +got):\n%s", diff)
			}
		})

		t.Run("sent and failed", func(t *testing.T) {
			settleOutbox(t, db)
			org, _, general := outboxOrg(t, db)
			t0 := unitT0.Add(48 * time.Hour)
			enqueue(t, db, general, 3, t0)
			got, err := db.ClaimMail(ctx, t0, lease, 10)
			if err != nil || len(got) != 3 {
				t.Fatalf("claim: %v, %v", ids(got), err)
			}
			next := t0.Add(2 * time.Minute)
			if err := db.MarkMailFailed(ctx, got[0].ID, next, "connection refused"); err != nil {
				t.Fatal(err)
			}
			ev := audit.Event{At: t0, Type: audit.MailSent, Actor: audit.System, OrganizationID: org.ID, UserID: general.ID,
				Detail: "password_changed to hikari.example"}
			if err := db.MarkMailSent(ctx, got[1].ID, t0, ev); err != nil {
				t.Fatal(err)
			}
			// Delivered twice (a lease ran out): marked once, audited once.
			if err := db.MarkMailSent(ctx, got[1].ID, t0.Add(time.Minute), ev); err != nil {
				t.Fatalf("second mark sent: %v", err)
			}
			if err := db.MarkMailFailed(ctx, got[1].ID, next, "late failure"); err != nil {
				t.Fatalf("mark failed after sent: %v", err)
			}
			if err := db.MarkMailDropped(ctx, got[2].ID, t0, "the recipient has no address"); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkMailDropped(ctx, got[2].ID, t0, "again"); err != nil {
				t.Fatalf("second mark dropped: %v", err)
			}
			rows := outbox(t, db, org.ID)
			failed, done, dropped := rows[0], rows[1], rows[2]
			if dropped.SentAt.Valid || dropped.ClaimedUntil.Valid || dropped.LastError.String != "the recipient has no address" {
				t.Errorf("dropped mail: %+v", dropped)
			}
			if failed.Attempts != 1 || failed.NextAttempt != next.UnixMicro() || failed.LastError.String != "connection refused" ||
				failed.SentAt.Valid || failed.ClaimedUntil.Valid {
				t.Errorf("failed mail: %+v", failed)
			}
			if done.Attempts != 1 || done.SentAt.Int64 != t0.UnixMicro() || done.ClaimedUntil.Valid {
				t.Errorf("sent mail: %+v", done)
			}
			if evs := unitAudit(t, db, store.AuditFilter{UserID: general.ID, Type: audit.MailSent}); len(evs) != 1 {
				t.Errorf("mail.sent events: %d, want 1", len(evs))
			}
			if got, err := db.ClaimMail(ctx, next.Add(-time.Second), lease, 10); err != nil || len(got) != 0 {
				t.Errorf("claim before the next attempt: %v, %v", ids(got), err)
			}
			// Neither the sent mail nor the dropped one comes again.
			if got, err := db.ClaimMail(ctx, next.Add(time.Hour), lease, 10); err != nil || len(got) != 1 || got[0].ID != failed.ID || got[0].Attempts != 1 {
				t.Errorf("claim at the next attempt: %+v, %v", got, err)
			}
			for _, err := range []error{
				db.MarkMailSent(ctx, 1<<40, t0, ev),
				db.MarkMailFailed(ctx, 1<<40, next, "x"),
				db.MarkMailDropped(ctx, 1<<40, next, "x"),
			} {
				if !errors.Is(err, notify.ErrMailNotFound) {
					t.Errorf("unknown mail: %v, want ErrMailNotFound", err)
				}
			}
		})

		t.Run("concurrent claimers get different mails", func(t *testing.T) {
			settleOutbox(t, db)
			org, _, general := outboxOrg(t, db)
			t0 := unitT0.Add(72 * time.Hour)
			const n = 40
			enqueue(t, db, general, n, t0)
			var want []int64
			for _, r := range outbox(t, db, org.ID) {
				want = append(want, r.ID)
			}
			var mu sync.Mutex
			var claimed []int64
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						got, err := db.ClaimMail(ctx, t0, lease, 3)
						if err != nil {
							errs <- err
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						claimed = append(claimed, ids(got)...)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("claim: %v", err)
			}
			// Mails of other subtests may be due too; look at this one's.
			mine := map[int64]bool{}
			for _, id := range want {
				mine[id] = true
			}
			var got []int64
			seen := map[int64]int{}
			for _, id := range claimed {
				seen[id]++
				if mine[id] {
					got = append(got, id)
				}
			}
			for id, k := range seen {
				if k > 1 {
					t.Errorf("mail %d claimed %d times", id, k)
				}
			}
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claimed (-want +got):\n%s", diff)
			}
		})
	})
}

// TestOutboxCertificateIssuanceInABatch checks that the mails of
// certificate writes batched together (SQLite) each land with their own
// write.
func TestOutboxCertificateIssuanceInABatch(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		org, _ := unitOrg(t, db)
		const n = 12
		users := make([]identity.User, n)
		for i := range users {
			users[i] = unitUser(t, db, org)
		}
		var wg sync.WaitGroup
		for _, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := unitPendingRecord(u, unitT0)
				ctx := context.Background()
				if err := unitInsertPending(ctx, db, &c); err != nil {
					t.Error(err)
					return
				}
				if err := unitMarkIssued(ctx, db, c.ID, []byte("der"), unitRandomHex(32), unitT0, audit.Event{At: unitT0, Type: audit.CertificateIssued,
					Actor: "user:test", OrganizationID: c.OrganizationID, UserID: c.UserID, Serial: c.Serial}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		rows := outbox(t, db, org.ID)
		bySerial := map[string]int64{}
		for _, r := range rows {
			bySerial[r.Serial] = r.UserID
		}
		if len(rows) != n || len(bySerial) != n {
			t.Fatalf("%d mails for %d serials, want %d", len(rows), len(bySerial), n)
		}
		for _, u := range users {
			c, err := db.CurrentCertificate(context.Background(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if bySerial[c.Serial] != u.ID {
				t.Errorf("mail of %s: user %d, want %d", c.Serial, bySerial[c.Serial], u.ID)
			}
		}
	})
}
