package notify_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"kinko/internal/notify"
)

func testMessage(t *testing.T) notify.Message {
	t.Helper()
	subject, body, err := notify.Compose(notify.CertificateRevoked, baseData())
	if err != nil {
		t.Fatal(err)
	}
	return notify.Message{ID: 42, Kind: notify.CertificateRevoked, To: "clerk@hikari.example", Subject: subject, Body: body,
		CreatedAt: at, OrganizationID: 7, UserID: 9, Serial: "5f3a9c0e1b2d4f60"}
}

// checkRendered parses raw as a mail and checks that it is m, from from.
func checkRendered(t *testing.T, raw []byte, m notify.Message, from string) *mail.Message {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i, line)
		}
		if len(line) > 78 {
			t.Errorf("line %d is %d characters long: %q", i, len(line), line)
		}
		for _, b := range line {
			if b >= 0x80 {
				t.Fatalf("line %d is not ASCII: %q", i, line)
			}
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	h := msg.Header
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("subject %q (%v), want %q", subject, err, m.Subject)
	}
	if !strings.HasPrefix(h.Get("Subject"), "=?UTF-8?b?") && !strings.HasPrefix(h.Get("Subject"), "=?utf-8?b?") {
		t.Errorf("subject not encoded per RFC 2047: %q", h.Get("Subject"))
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type %q", h.Get("Content-Type"))
	}
	if h.Get("MIME-Version") != "1.0" || h.Get("Content-Transfer-Encoding") != "base64" {
		t.Errorf("MIME-Version %q, Content-Transfer-Encoding %q", h.Get("MIME-Version"), h.Get("Content-Transfer-Encoding"))
	}
	to, err := mail.ParseAddress(h.Get("To"))
	if err != nil || to.Address != m.To {
		t.Errorf("To %q (%v)", h.Get("To"), err)
	}
	wantFrom, _ := mail.ParseAddress(from)
	gotFrom, err := h.AddressList("From")
	if err != nil || len(gotFrom) != 1 || *gotFrom[0] != *wantFrom {
		t.Errorf("From %q (%v), want %v", h.Get("From"), err, wantFrom)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || !strings.Contains(id, "@") {
		t.Errorf("Message-ID %q", id)
	}
	b64, err := io.ReadAll(msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b64), "\r\n", ""))
	if err != nil {
		t.Fatalf("body not base64: %v", err)
	}
	if want := strings.ReplaceAll(m.Body, "\n", "\r\n"); string(body) != want {
		t.Errorf("body:\n%s\nwant:\n%s", body, want)
	}
	return msg
}

func TestRender(t *testing.T) {
	m := testMessage(t)
	for _, from := range []string{"noreply@bank.example", "テスト労働金庫 <noreply@bank.example>"} {
		t.Run(from, func(t *testing.T) {
			raw := notify.Render(m, from, at)
			msg := checkRendered(t, raw, m, from)
			date, _ := msg.Header.Date()
			if !date.Equal(at) {
				t.Errorf("Date %v, want %v", date, at)
			}
			if got := msg.Header.Get("Message-ID"); got != notify.MessageID(m, "bank.example") {
				t.Errorf("Message-ID %q", got)
			}
		})
	}
	t.Run("the same Message-ID at every delivery", func(t *testing.T) {
		a, _ := mail.ReadMessage(bytes.NewReader(notify.Render(m, "noreply@bank.example", at)))
		b, _ := mail.ReadMessage(bytes.NewReader(notify.Render(m, "noreply@bank.example", at.Add(time.Hour))))
		if a.Header.Get("Message-ID") != b.Header.Get("Message-ID") || a.Header.Get("Date") == b.Header.Get("Date") {
			t.Errorf("Message-ID %q then %q; Date %q then %q", a.Header.Get("Message-ID"), b.Header.Get("Message-ID"),
				a.Header.Get("Date"), b.Header.Get("Date"))
		}
		other := m
		other.ID++
		c, _ := mail.ReadMessage(bytes.NewReader(notify.Render(other, "noreply@bank.example", at)))
		if c.Header.Get("Message-ID") == a.Header.Get("Message-ID") {
			t.Error("two mails share a Message-ID")
		}
		// The deliveries of one mail to several users: one Message-ID
		// each, the same at every delivery, and a file each.
		toA, toB := m, m
		toA.RecipientID, toB.RecipientID = 11, 12
		idA, idB := notify.MessageID(toA, "bank.example"), notify.MessageID(toB, "bank.example")
		if idA == idB || idA == notify.MessageID(m, "bank.example") || idA != notify.MessageID(toA, "bank.example") {
			t.Errorf("Message-IDs %q and %q of one mail to two users", idA, idB)
		}
		if (notify.Dir{}).FileName(toA) == (notify.Dir{}).FileName(toB) {
			t.Errorf("two deliveries share the file %s", notify.Dir{}.FileName(toA))
		}
	})
	t.Run("no header injection", func(t *testing.T) {
		bad := m
		bad.To = "clerk@hikari.example\r\nBcc: all@evil.example"
		bad.Subject = "x\r\nBcc: all@evil.example"
		msg, err := mail.ReadMessage(bytes.NewReader(notify.Render(bad, "noreply@bank.example", at)))
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("Bcc") != "" {
			t.Errorf("a header was injected: %v", msg.Header)
		}
	})
}
