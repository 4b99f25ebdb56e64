package server

import (
	"log/slog"
	"strings"
	"sync"
	"time"
)

// The refusals of TLS handshakes, by reason, as the log names them.
const (
	// RefusedNotTLS: the client did not speak TLS (plain HTTP, a scanner).
	RefusedNotTLS = "not_tls"
	// RefusedProtocolVersion: the client offered no TLS version the
	// listener accepts (TLS 1.2 and 1.3).
	RefusedProtocolVersion = "protocol_version"
	// RefusedCipherSuite: no cipher suite or curve in common.
	RefusedCipherSuite = "cipher_suite"
	// RefusedClientCertificateUntrusted: the client certificate does not
	// chain to the listener's CA for clientAuth (the client-issuing CA's
	// on the certificate portal, the operator CA's on the console).
	RefusedClientCertificateUntrusted = "client_certificate_untrusted"
	// RefusedClientCertificateUnknown: the client certificate chains to
	// the CA but the bank has no record of issuing it (on the console: it
	// is not the recorded certificate of active staff).
	RefusedClientCertificateUnknown = "client_certificate_unknown"
	// RefusedClientCertificateMissing: the console asked for an
	// operator's certificate and got none.
	RefusedClientCertificateMissing = "client_certificate_missing"
	// RefusedServerCertificate: the client refused the server's
	// certificate (it does not trust the bank's root, or the name).
	RefusedServerCertificate = "server_certificate_refused"
	// RefusedConnectionClosed: the connection ended or timed out in the
	// middle of the handshake.
	RefusedConnectionClosed = "connection_closed"
	// RefusedOther: anything else.
	RefusedOther = "other"
)

// The prefixes of the certificate portal's VerifyConnection errors, by
// which their refusals are told apart in http.Server's log.
const (
	untrustedPrefix = "server: client certificate: "
	unknownPrefix   = "server: client certificate refused: "
)

// HandshakeRefusalReason returns the reason (one of the Refused*
// constants) of a TLS handshake error as http.Server logs it.
func HandshakeRefusalReason(detail string) string {
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(detail, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has(unknownPrefix):
		return RefusedClientCertificateUnknown
	case has(untrustedPrefix, "tls: failed to verify certificate"):
		return RefusedClientCertificateUntrusted
	case has("tls: client didn't provide a certificate"):
		return RefusedClientCertificateMissing
	case has("client sent an HTTP request to an HTTPS server", "first record does not look like a TLS handshake", "oversized record", "unsupported SSLv2"):
		return RefusedNotTLS
	case has("protocol version", "unsupported versions"):
		return RefusedProtocolVersion
	case has("no cipher suite", "no ECDHE curve", "no mutually supported", "unsupported elliptic curve"):
		return RefusedCipherSuite
	case has("remote error: tls: bad certificate", "remote error: tls: unknown certificate", "remote error: tls: certificate"):
		return RefusedServerCertificate
	case detail == "EOF", has("connection reset", "broken pipe", "i/o timeout", "unexpected EOF", "use of closed network connection"):
		return RefusedConnectionClosed
	}
	return RefusedOther
}

// Defaults of the handshake refusals' log.
const (
	// HandshakeLogLines is how many lines per reason the log of refused
	// handshakes writes in HandshakeLogWindow; the rest are counted.
	HandshakeLogLines  = 10
	HandshakeLogWindow = time.Minute
)

// handshakeLog is the ErrorLog of a listener's http.Server (through
// log.New): a refused TLS handshake is logged at info with its reason and
// the client's address, at most HandshakeLogLines lines per reason in
// HandshakeLogWindow; the first line after a pause says how many were
// left out before it (suppressed). Anything else http.Server logs stays
// at debug.
type handshakeLog struct {
	logger   *slog.Logger
	listener string
	now      func() time.Time

	mu      sync.Mutex
	reasons map[string]*reasonLog
}

// reasonLog is the window of one reason.
type reasonLog struct {
	start      time.Time
	logged     int
	suppressed int
}

func newHandshakeLog(l *slog.Logger, listener string, now func() time.Time) *handshakeLog {
	return &handshakeLog{logger: l, listener: listener, now: now, reasons: map[string]*reasonLog{}}
}

// Write takes one line of http.Server's log.
func (h *handshakeLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(line, "http: TLS handshake error from ")
	if !ok {
		h.logger.Debug(line, "listener", h.listener)
		return len(p), nil
	}
	client, detail, _ := strings.Cut(rest, ": ")
	reason := HandshakeRefusalReason(detail)
	log, suppressed := h.allow(reason)
	if !log {
		return len(p), nil
	}
	attrs := []any{"listener", h.listener, "reason", reason, "client", client, "err", detail}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	h.logger.Info("TLS handshake refused", attrs...)
	return len(p), nil
}

// allow reports whether a refusal for reason is logged now, and how many
// of that reason were left out since the last one logged.
func (h *handshakeLog) allow(reason string) (bool, int) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.reasons[reason]
	if r == nil {
		r = &reasonLog{start: now}
		h.reasons[reason] = r // reasons are a few constants: the map stays small
	}
	if now.Sub(r.start) >= HandshakeLogWindow || now.Before(r.start) {
		r.start, r.logged = now, 0
	}
	if r.logged >= HandshakeLogLines {
		r.suppressed++
		return false, 0
	}
	r.logged++
	n := r.suppressed
	r.suppressed = 0
	return true, n
}
