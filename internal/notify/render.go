package notify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"kinko/internal/calendar"
)

// Render writes m as an RFC 5322 message from from, dated date: CRLF line
// ends, MIME 1.0, a UTF-8 text/plain body in base64, the subject encoded
// per RFC 2047. The Message-ID depends on the message alone (its outbox ID,
// creation time, recipient's user ID when it has one, and the sender's
// domain), so that a mail delivered twice is
// recognisably the same mail.
func Render(m Message, from string, date time.Time) []byte {
	fromHeader, fromDomain := formatFrom(from)
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name + ": " + value + "\r\n")
	}
	header("From", fromHeader)
	header("To", headerValue(m.To))
	header("Subject", encodeSubject(headerValue(m.Subject)))
	header("Date", date.In(calendar.JST).Format(time.RFC1123Z))
	header("Message-ID", MessageID(m, fromDomain))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	header("Auto-Submitted", "auto-generated")
	header("X-Kinko-Kind", headerValue(string(m.Kind)))
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\r\n")
	}
	return b.Bytes()
}

// MessageID returns the Message-ID of m from a sender at domain:
// <kinko-outbox.ID.CREATED@domain>, or, for one of the deliveries of a mail
// to several users, <kinko-outbox.ID.CREATED.uRECIPIENT@domain>; the same at
// every delivery.
func MessageID(m Message, domain string) string {
	if domain == "" {
		domain = "localhost"
	}
	if m.RecipientID != 0 {
		return fmt.Sprintf("<kinko-outbox.%d.%d.u%d@%s>", m.ID, m.CreatedAt.UnixMicro(), m.RecipientID, domain)
	}
	return fmt.Sprintf("<kinko-outbox.%d.%d@%s>", m.ID, m.CreatedAt.UnixMicro(), domain)
}

// formatFrom returns the From header for an address ("Bank <noreply@bank.example>"
// or "noreply@bank.example"), with a display name encoded per RFC 2047,
// and the address's domain.
func formatFrom(from string) (header, domain string) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		from = headerValue(from)
		if i := strings.LastIndexByte(from, '@'); i >= 0 {
			domain = strings.Trim(from[i+1:], "<> ")
		}
		return from, domain
	}
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		domain = a.Address[i+1:]
	}
	if a.Name == "" {
		return a.Address, domain
	}
	if isASCII(a.Name) {
		return a.String(), domain
	}
	return encodeWords(a.Name) + "\r\n <" + a.Address + ">", domain
}

// envelopeAddress returns the bare address of a From value, for SMTP's
// MAIL FROM.
func envelopeAddress(from string) (string, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrBadAddress, from, err)
	}
	return a.Address, nil
}

// headerValue keeps a value on one header line.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// encodeSubject encodes a subject per RFC 2047 when it is not plain ASCII.
func encodeSubject(s string) string {
	if isASCII(s) {
		return s
	}
	return encodeWords(s)
}

// encodeWords encodes s as RFC 2047 encoded words (base64, UTF-8) of at
// most 60 characters, one per line after the first, so that every header
// line stays within 78 characters. A character is never split.
func encodeWords(s string) string {
	const maxBytes = 36 // 48 characters of base64, 60 with the word's frame
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n > 0 && n+size > maxBytes {
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
