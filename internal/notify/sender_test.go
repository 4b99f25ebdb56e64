package notify_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

var seq atomic.Int64

// newUser makes an organization whose master user has an address, and
// returns the master.
func newUser(t *testing.T, db *store.DB, t0 time.Time) identity.User {
	t.Helper()
	n := seq.Add(1)
	org := identity.Organization{Code: fmt.Sprintf("8%07d", n), Name: "ひかり労働組合", CreatedAt: t0}
	u := identity.User{LoginID: fmt.Sprintf("mailm%05d", n), Name: "山田 花子", Email: "treasurer@hikari.example",
		Role: identity.RoleMaster, PasswordHash: "h", ConfirmationHash: "h", CreatedAt: t0}
	ctx := context.Background()
	err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
		if err := tx.InsertOrganization(ctx, &org); err != nil {
			return err
		}
		u.OrganizationID = org.ID
		if err := tx.InsertUser(ctx, &u); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.Event{At: t0, Type: audit.OrganizationCreated, Actor: "operator:test", OrganizationID: org.ID, UserID: u.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// changePassword changes u's password at t0, which writes a mail.
func changePassword(t *testing.T, db *store.DB, u identity.User, t0 time.Time) {
	t.Helper()
	ctx := context.Background()
	err := db.InIdentityTx(ctx, func(tx identity.Tx) error {
		if err := tx.SetPassword(ctx, u.ID, identity.LoginPassword, "new", false); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.Event{At: t0, Type: audit.PasswordChanged, Actor: audit.UserActor(u.LoginID),
			OrganizationID: u.OrganizationID, UserID: u.ID, Password: audit.LoginPassword})
	})
	if err != nil {
		t.Fatal(err)
	}
}

type outboxState struct {
	attempts    int
	nextAttempt int64
	sentAt      sql.NullInt64
	lastError   sql.NullString
}

func mailState(t *testing.T, db *store.DB, userID int64) []outboxState {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT attempts, next_attempt_at, sent_at, last_error FROM mail_outbox WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outboxState
	for rows.Next() {
		var s outboxState
		if err := rows.Scan(&s.attempts, &s.nextAttempt, &s.sentAt, &s.lastError); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestSenderServerDownThenUp: the mail waits in the outbox while the mail
// server is down, is tried again after the back-off, and arrives once when
// the server is up.
func TestSenderServerDownThenUp(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 25, 6, 4, 0, 0, time.UTC)
		clock := testutil.NewClock(t0)
		u := newUser(t, db, t0)
		changePassword(t, db, u, t0)
		srv := testutil.NewSMTPServer(t, testutil.SMTPOptions{Username: "kinko", Password: "s3cret"}) // not started: down
		var logs bytes.Buffer
		s := &notify.Sender{Store: db, Transport: smtpFor(srv, "kinko", "s3cret"), From: testFrom, Now: clock.Now,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))}

		n, err := s.RunOnce(ctx)
		if err != nil || n != 0 {
			t.Fatalf("RunOnce while down: %d sent, %v", n, err)
		}
		st := mailState(t, db, u.ID)
		if len(st) != 1 || st[0].attempts != 1 || st[0].sentAt.Valid || st[0].nextAttempt != t0.Add(time.Minute).UnixMicro() || st[0].lastError.String == "" {
			t.Fatalf("after a failed attempt: %+v, want attempts 1, next in 1m, not sent", st)
		}
		if !strings.Contains(logs.String(), "mail delivery failed") {
			t.Errorf("failure not logged:\n%s", logs.String())
		}

		srv.Start(t)
		clock.Advance(30 * time.Second) // not due yet
		if n, err := s.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("RunOnce before the next attempt: %d sent, %v", n, err)
		}
		if got := srv.Received(); len(got) != 0 {
			t.Fatalf("%d mails before the next attempt", len(got))
		}

		clock.Advance(30 * time.Second)
		if n, err := s.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce when up: %d sent, %v", n, err)
		}
		if n, err := s.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("RunOnce again: %d sent, %v", n, err)
		}
		got := srv.Received()
		if len(got) != 1 {
			t.Fatalf("received %d mails, want exactly 1", len(got))
		}
		msg, err := mail.ReadMessage(bytes.NewReader(got[0].Raw))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(msg.Body)
		if got[0].To[0] != "treasurer@hikari.example" || len(body) == 0 {
			t.Errorf("mail to %v, body %d bytes", got[0].To, len(body))
		}
		st = mailState(t, db, u.ID)
		if st[0].attempts != 2 || st[0].sentAt.Int64 != clock.Now().UnixMicro() {
			t.Errorf("after delivery: %+v, want attempts 2, sent now", st[0])
		}
		evs, err := db.ListAudit(ctx, store.AuditFilter{Type: audit.MailSent, UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("%d mail.sent events, want 1", len(evs))
		}
		ev := evs[0]
		if ev.Actor != audit.System || ev.OrganizationID != u.OrganizationID || !strings.Contains(ev.Detail, "password_changed to hikari.example") ||
			strings.Contains(ev.Detail, "treasurer@") {
			t.Errorf("mail.sent event %+v: want kind and the recipient's domain only", ev)
		}
	})
}

// TestSenderBackoffGrows: each failure waits twice as long, up to an hour,
// and the mail is kept for ever.
func TestSenderBackoffGrows(t *testing.T) {
	db := testutil.OpenSQLite(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 6, 4, 0, 0, time.UTC)
	clock := testutil.NewClock(t0)
	u := newUser(t, db, t0)
	changePassword(t, db, u, t0)
	srv := testutil.NewSMTPServer(t, testutil.SMTPOptions{}) // never started
	s := &notify.Sender{Store: db, Transport: smtpFor(srv, "", ""), From: testFrom, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for i := 1; i <= 9; i++ {
		if n, err := s.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("attempt %d: %d sent, %v", i, n, err)
		}
		st := mailState(t, db, u.ID)[0]
		wait := notify.Backoff(i)
		if st.attempts != i || st.nextAttempt != clock.Now().Add(wait).UnixMicro() {
			t.Fatalf("after %d failures: attempts %d, next in %v, want in %v", i, st.attempts,
				time.UnixMicro(st.nextAttempt).Sub(clock.Now()), wait)
		}
		clock.Advance(wait)
	}
}

// TestSenderToDir: without a mail server the mails become files.
func TestSenderToDir(t *testing.T) {
	db := testutil.OpenSQLite(t)
	t0 := time.Date(2026, 11, 25, 6, 4, 0, 0, time.UTC)
	u := newUser(t, db, t0)
	changePassword(t, db, u, t0)
	dir := t.TempDir()
	s := &notify.Sender{Store: db, Transport: notify.Dir{Path: dir}, From: "noreply@bank.example",
		Now: func() time.Time { return t0 }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if n, err := s.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d sent, %v", n, err)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*-password_changed.eml"))
	if err != nil || len(matches) != 1 {
		t.Fatalf("files %v (%v)", matches, err)
	}
}

// captured is a transport that keeps what it is given.
type captured struct{ msgs []notify.Message }

func (c *captured) Deliver(_ context.Context, m notify.Message, _ []byte) error {
	c.msgs = append(c.msgs, m)
	return nil
}

// TestSenderReadsTheAddressWhenItSends: the mail goes to the address and
// names the user as they stand when it is sent, not as they stood at the
// event; a user who has no address by then gets none, and the mail is
// dropped, not tried again.
func TestSenderReadsTheAddressWhenItSends(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 25, 6, 4, 0, 0, time.UTC)
		u := newUser(t, db, t0)
		changePassword(t, db, u, t0)
		if _, err := db.SQL().Exec(`UPDATE users SET email = $1, name = $2 WHERE id = $3`, "kaikei@hikari.example", "山田 春子", u.ID); err != nil {
			t.Fatal(err)
		}
		c := &captured{}
		s := &notify.Sender{Store: db, Transport: c, From: "noreply@bank.example", BankName: "テスト労働金庫",
			Now: func() time.Time { return t0.Add(time.Minute) }, Logger: slog.New(slog.DiscardHandler)}
		if n, err := s.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("RunOnce: %d sent, %v", n, err)
		}
		m := c.msgs[0]
		if m.To != "kaikei@hikari.example" || !strings.Contains(m.Body, "山田 春子 様") || strings.Contains(m.Body, "山田 花子") ||
			!strings.Contains(m.Subject, "【テスト労働金庫】ログインパスワードを変更しました") {
			t.Errorf("mail to %s, subject %q, body:\n%s", m.To, m.Subject, m.Body)
		}
		// The event's time, not the sending's, in the mail.
		if !strings.Contains(m.Body, "2026年11月25日 15:04") {
			t.Errorf("body does not give the time of the change:\n%s", m.Body)
		}

		changePassword(t, db, u, t0.Add(time.Hour))
		if _, err := db.SQL().Exec(`UPDATE users SET email = '' WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		s.Now = func() time.Time { return t0.Add(2 * time.Hour) }
		if n, err := s.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("RunOnce without an address: %d sent, %v", n, err)
		}
		st := mailState(t, db, u.ID)
		if len(st) != 2 || st[1].sentAt.Valid || st[1].lastError.String != "the recipient has no address" {
			t.Fatalf("outbox %+v, want the second mail dropped", st)
		}
		s.Now = func() time.Time { return t0.Add(48 * time.Hour) }
		if n, err := s.RunOnce(ctx); err != nil || n != 0 || len(c.msgs) != 1 {
			t.Errorf("a dropped mail came again: %d sent, %v", n, err)
		}
	})
}
