package server

import (
	"bytes"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestHandshakeLog_RateLimitedPerReason: refused handshakes are logged at
// info with reason and client address, at most HandshakeLogLines per
// reason and window; the first line of the next window counts the ones
// left out. Other lines of http.Server's log stay at debug.
func TestHandshakeLog_RateLimitedPerReason(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	hl := newHandshakeLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), "cert-portal",
		func() time.Time { return now })
	l := log.New(hl, "", 0)
	for i := range HandshakeLogLines + 3 {
		l.Printf("http: TLS handshake error from 192.0.2.7:%d: EOF", 40000+i)
	}
	l.Printf("http: TLS handshake error from [2001:db8::1]:443: client sent an HTTP request to an HTTPS server")
	l.Printf("http: superfluous response.WriteHeader call")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	count := func(s string) int {
		n := 0
		for _, line := range lines {
			if strings.Contains(line, s) {
				n++
			}
		}
		return n
	}
	if got := count("level=INFO msg=\"TLS handshake refused\" listener=cert-portal reason=connection_closed client=192.0.2.7:"); got != HandshakeLogLines {
		t.Errorf("%d lines of closed connections in one window, want %d:\n%s", got, HandshakeLogLines, buf.String())
	}
	if count("reason=not_tls client=[2001:db8::1]:443") != 1 {
		t.Errorf("the refusal of another reason is not logged once with its client:\n%s", buf.String())
	}
	if count("level=DEBUG msg=\"http: superfluous response.WriteHeader call\"") != 1 {
		t.Errorf("another line of http.Server's log is not at debug:\n%s", buf.String())
	}
	if count("suppressed") != 0 {
		t.Errorf("a line counts suppressed ones within the window:\n%s", buf.String())
	}

	buf.Reset()
	now = now.Add(HandshakeLogWindow)
	l.Printf("http: TLS handshake error from 192.0.2.7:50000: EOF")
	if got := buf.String(); !strings.Contains(got, "reason=connection_closed") || !strings.Contains(got, "suppressed=3") {
		t.Errorf("the first line of the next window: %q; want it to count the 3 left out", got)
	}
}

// TestHandshakeRefusalReason names the reasons of crypto/tls's errors as
// http.Server logs them.
func TestHandshakeRefusalReason(t *testing.T) {
	for detail, want := range map[string]string{
		untrustedPrefix + "x509: certificate signed by unknown authority":                  RefusedClientCertificateUntrusted,
		unknownPrefix + "auth: certificate unknown":                                        RefusedClientCertificateUnknown,
		"tls: failed to verify certificate: x509: certificate signed by unknown authority": RefusedClientCertificateUntrusted,
		"tls: client didn't provide a certificate":                                         RefusedClientCertificateMissing,
		"client sent an HTTP request to an HTTPS server":                                   RefusedNotTLS,
		"tls: client offered only unsupported versions: [301]":                             RefusedProtocolVersion,
		"tls: no cipher suite supported by both client and server":                         RefusedCipherSuite,
		"remote error: tls: bad certificate":                                               RefusedServerCertificate,
		"remote error: tls: unknown certificate authority":                                 RefusedServerCertificate,
		"EOF": RefusedConnectionClosed,
		"read tcp 127.0.0.1:8443->127.0.0.1:5000: read: connection reset by peer": RefusedConnectionClosed,
		"tls: something new": RefusedOther,
	} {
		if got := HandshakeRefusalReason(detail); got != want {
			t.Errorf("HandshakeRefusalReason(%q) = %s, want %s", detail, got, want)
		}
	}
}
