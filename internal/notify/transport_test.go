package notify_test

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kinko/internal/notify"
	"kinko/internal/testutil"
)

const testFrom = "テスト労働金庫 <noreply@bank.example>"

func smtpFor(s *testutil.SMTPServer, user, password string) *notify.SMTP {
	return &notify.SMTP{Host: s.Host, Port: s.Port, Username: user, Password: password, From: testFrom,
		RootCAs: s.RootCAs, Timeout: 5 * time.Second}
}

func TestSMTPDeliversOverSTARTTLSWithAuth(t *testing.T) {
	srv := testutil.StartSMTPServer(t, testutil.SMTPOptions{Username: "kinko", Password: "s3cret"})
	m := testMessage(t)
	raw := notify.Render(m, testFrom, at)
	if err := smtpFor(srv, "kinko", "s3cret").Deliver(context.Background(), m, raw); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("received %d mails, want 1", len(got))
	}
	r := got[0]
	if !r.TLS || r.AuthUser != "kinko" || r.From != "noreply@bank.example" || len(r.To) != 1 || r.To[0] != m.To {
		t.Errorf("session: TLS %v, user %q, from %q, to %v", r.TLS, r.AuthUser, r.From, r.To)
	}
	if !bytes.Equal(bytes.TrimRight(r.Raw, "\r\n"), bytes.TrimRight(raw, "\r\n")) {
		t.Errorf("message changed on the way:\n%s\nwant:\n%s", r.Raw, raw)
	}
	checkRendered(t, r.Raw, m, testFrom)
}

func TestSMTPRefusals(t *testing.T) {
	m := testMessage(t)
	raw := notify.Render(m, testFrom, at)
	ctx := context.Background()
	t.Run("no STARTTLS offered: nothing sent in the clear", func(t *testing.T) {
		srv := testutil.StartSMTPServer(t, testutil.SMTPOptions{NoTLS: true, Username: "kinko", Password: "s3cret"})
		err := smtpFor(srv, "kinko", "s3cret").Deliver(ctx, m, raw)
		if !errors.Is(err, notify.ErrNoSTARTTLS) {
			t.Errorf("Deliver: %v, want ErrNoSTARTTLS", err)
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("%d mails received in the clear", n)
		}
	})
	t.Run("server certificate not trusted", func(t *testing.T) {
		srv := testutil.StartSMTPServer(t, testutil.SMTPOptions{})
		tr := smtpFor(srv, "", "")
		tr.RootCAs = testutil.NewSMTPServer(t, testutil.SMTPOptions{}).RootCAs // another server's
		if err := tr.Deliver(ctx, m, raw); err == nil {
			t.Error("delivered to a server whose certificate is not trusted")
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("%d mails received", n)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := testutil.StartSMTPServer(t, testutil.SMTPOptions{Username: "kinko", Password: "s3cret"})
		if err := smtpFor(srv, "kinko", "wrong").Deliver(ctx, m, raw); err == nil {
			t.Error("delivered with a wrong password")
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("%d mails received", n)
		}
	})
	t.Run("server down", func(t *testing.T) {
		srv := testutil.NewSMTPServer(t, testutil.SMTPOptions{})
		if err := smtpFor(srv, "", "").Deliver(ctx, m, raw); err == nil {
			t.Error("delivered to a server that is down")
		}
	})
	t.Run("bad TLS mode", func(t *testing.T) {
		srv := testutil.StartSMTPServer(t, testutil.SMTPOptions{})
		tr := smtpFor(srv, "", "")
		tr.TLS = "maybe"
		if err := tr.Deliver(ctx, m, raw); !errors.Is(err, notify.ErrBadTLSMode) {
			t.Errorf("Deliver: %v, want ErrBadTLSMode", err)
		}
	})
}

func TestSMTPWithoutTLSOnLoopback(t *testing.T) {
	srv := testutil.StartSMTPServer(t, testutil.SMTPOptions{NoTLS: true})
	tr := smtpFor(srv, "", "")
	tr.TLS = notify.TLSNone
	m := testMessage(t)
	if err := tr.Deliver(context.Background(), m, notify.Render(m, testFrom, at)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if got := srv.Received(); len(got) != 1 || got[0].TLS {
		t.Errorf("received %+v", got)
	}
}

func TestDirWritesEML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	d := notify.Dir{Path: dir}
	m := testMessage(t)
	ctx := context.Background()
	if err := d.Deliver(ctx, m, notify.Render(m, testFrom, at)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	// Delivered again (after a crash before it was marked sent): the same
	// file, overwritten.
	if err := d.Deliver(ctx, m, notify.Render(m, testFrom, at.Add(time.Minute))); err != nil {
		t.Fatalf("Deliver again: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "42-certificate_revoked.eml" {
		t.Fatalf("files %v, want only 42-certificate_revoked.eml", entries)
	}
	path := filepath.Join(dir, entries[0].Name())
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg := checkRendered(t, raw, m, testFrom)
	if date, _ := msg.Header.Date(); !date.Equal(at.Add(time.Minute)) {
		t.Errorf("Date %v: the second delivery should have replaced the first", date)
	}
	if _, err := mail.ReadMessage(bytes.NewReader(raw)); err != nil {
		t.Errorf("not a mail: %v", err)
	}
	if err := (notify.Dir{}).Deliver(ctx, m, raw); !errors.Is(err, notify.ErrNoMailDir) {
		t.Errorf("Deliver without a directory: %v", err)
	}
}
