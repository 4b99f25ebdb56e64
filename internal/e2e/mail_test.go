package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"kinko/internal/notify"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TestMailsThroughTheServer: a server configured with an SMTP server sends,
// from its own job, the mails of what happens on its listeners: the
// certificate issued to the user, and its revocation to the user and to the
// master user, over STARTTLS with AUTH, named by the bank.
func TestMailsThroughTheServer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		smtpd := testutil.StartSMTPServer(t, testutil.SMTPOptions{Username: "kinko", Password: "smtp-secret"})
		b := testutil.NewBankWith(t, db, func(p *server.Parts) {
			p.BankName = "テスト労働金庫"
			p.SMTP = &notify.SMTP{Host: smtpd.Host, Port: smtpd.Port, Username: "kinko", Password: "smtp-secret",
				From: "noreply@bank.example", RootCAs: smtpd.RootCAs}
		})
		org := b.NewOrg(t, "メール労組", true)
		g := b.NewGeneralUser(t, org)
		mc := b.IssueCertificate(t, org.Master)
		gc := b.IssueCertificate(t, g)
		m := certLogin(t, b, mc, org.Master)
		expect(t, "revocation", revoke(m, org.Master, g.LoginID, "keyCompromise"), http.StatusOK, "")
		// The bank revokes the master's, on a written request: the mail
		// names the bank's action and the request's reference.
		if _, err := b.Services.Certs.RevokeByBank(context.Background(), serialOf(mc), "affiliationChanged", "yamada", "REV-2026-0042"); err != nil {
			t.Fatal(err)
		}

		// Issued to the master, issued to the user, revoked to both; the
		// master's revoked, to the master.
		got := smtpd.WaitReceived(5, 30*time.Second)
		if len(got) != 5 {
			t.Fatalf("%d mails arrived, want 5", len(got))
		}
		type mailSeen struct{ to, subject, body string }
		var seen []mailSeen
		dec := new(mime.WordDecoder)
		for _, r := range got {
			if !r.TLS || r.AuthUser != "kinko" || r.From != "noreply@bank.example" {
				t.Errorf("mail to %v: TLS %v, AUTH %q, from %q", r.To, r.TLS, r.AuthUser, r.From)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(r.Raw))
			if err != nil {
				t.Fatal(err)
			}
			subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			var bodyReader io.Reader = msg.Body
			if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "base64") {
				bodyReader = base64.NewDecoder(base64.StdEncoding, msg.Body)
			}
			body, err := io.ReadAll(bodyReader)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, mailSeen{to: strings.Join(r.To, ","), subject: subject, body: string(body)})
		}
		// count is the number of mails to to, signed by the bank, whose body
		// names serial.
		count := func(to, serial string) int {
			n := 0
			for _, s := range seen {
				if s.to == to && strings.Contains(s.subject, "テスト労働金庫") && strings.Contains(s.body, serial) &&
					strings.Contains(s.body, "メール労組") && !strings.Contains(s.body, "http") {
					n++
				}
			}
			return n
		}
		if n := count(g.LoginID+"@example.org", serialOf(gc)); n != 2 {
			t.Errorf("the general user got %d mails, want 2 (issued, revoked): %+v", n, seen)
		}
		if n := count(org.Master.LoginID+"@example.org", serialOf(mc)); n != 2 {
			t.Errorf("the master got %d mails about their own certificate, want 2 (issued, revoked by the bank): %+v", n, seen)
		}
		byBank := 0
		for _, s := range seen {
			if s.to == org.Master.LoginID+"@example.org" && strings.Contains(s.body, serialOf(mc)) &&
				strings.Contains(s.body, "受付番号 REV-2026-0042") && strings.Contains(s.body, "reference REV-2026-0042") {
				byBank++
			}
		}
		if byBank != 1 {
			t.Errorf("%d mails name the bank's revocation and its request, want 1: %+v", byBank, seen)
		}
		if n := count(org.Master.LoginID+"@example.org", serialOf(gc)); n != 1 {
			t.Errorf("the master got %d mails about the user's certificate, want 1 (revoked): %+v", n, seen)
		}
	})
}
