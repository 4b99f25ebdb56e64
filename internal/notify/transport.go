package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// TLS modes of SMTP.
const (
	TLSStartTLS = "starttls" // plain connection, then STARTTLS, required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only for a mail server on the same host
)

// DefaultSMTPTimeout bounds one delivery over SMTP when SMTP.Timeout is zero.
const DefaultSMTPTimeout = 30 * time.Second

// SMTP delivers mails to a mail server (a submission server or relay).
type SMTP struct {
	Host string
	// Port; zero means 587, or 465 with TLS "tls", or 25 with TLS "none".
	Port int
	// Username and Password authenticate with AUTH PLAIN, only over TLS;
	// no AUTH when Username is empty.
	Username string
	Password string
	From     string // the envelope sender: the address of the From header
	// TLS is "starttls" (the default: the server must offer STARTTLS, or
	// nothing is sent), "tls" (implicit TLS) or "none".
	TLS string
	// RootCAs verify the server's certificate; nil means the system's.
	RootCAs *x509.CertPool
	// Timeout bounds one delivery; zero means DefaultSMTPTimeout.
	Timeout time.Duration
	// HelloName is the name given in EHLO; empty means "localhost".
	HelloName string
}

var _ Transport = (*SMTP)(nil)

// Addr returns the server's host:port.
func (s *SMTP) Addr() string {
	port := s.Port
	if port == 0 {
		switch s.TLS {
		case TLSImplicit:
			port = 465
		case TLSNone:
			port = 25
		default:
			port = 587
		}
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(port))
}

// Deliver sends raw to m.To in one SMTP session.
func (s *SMTP) Deliver(ctx context.Context, m Message, raw []byte) error {
	mode := s.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	if mode != TLSStartTLS && mode != TLSImplicit && mode != TLSNone {
		return fmt.Errorf("%w, not %q", ErrBadTLSMode, s.TLS)
	}
	if s.Host == "" {
		return ErrNoSMTPHost
	}
	from, err := envelopeAddress(s.From)
	if err != nil {
		return err
	}
	to, err := envelopeAddress(m.To)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tlsConfig := &tls.Config{ServerName: s.Host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	addr := s.Addr()
	dialer := &net.Dialer{}
	var conn net.Conn
	if mode == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("notify: smtp %s: %w", addr, err)
	}
	// net/smtp knows no context: the deadline and a cancellation end the
	// connection instead.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("notify: smtp %s: greeting: %w", addr, err)
	}
	defer c.Close()
	if err := s.session(c, mode, tlsConfig, from, to, raw); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return fmt.Errorf("notify: smtp %s: %w", addr, err)
	}
	return nil
}

// session runs the commands of one delivery on a connected client.
func (s *SMTP) session(c *smtp.Client, mode string, tlsConfig *tls.Config, from, to string, raw []byte) error {
	hello := s.HelloName
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrNoSTARTTLS
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return ErrNoAuth
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The mail is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// Dir writes each mail to a file <ID>-<kind>.eml in a directory, for the
// demo and for banks that hand mails on by other means. A mail delivered
// again overwrites its file.
type Dir struct {
	Path string
}

var _ Transport = Dir{}

// FileName returns the name of m's file: ID-KIND.eml, or ID-uRECIPIENT-KIND.eml
// for one of the deliveries of a mail to several users.
func (Dir) FileName(m Message) string {
	kind := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, string(m.Kind))
	if m.RecipientID != 0 {
		return fmt.Sprintf("%d-u%d-%s.eml", m.ID, m.RecipientID, kind)
	}
	return fmt.Sprintf("%d-%s.eml", m.ID, kind)
}

// Deliver writes raw to the message's file, atomically: a reader sees the
// whole file or none. The directory is made with mode 0700, the file has
// mode 0600.
func (d Dir) Deliver(ctx context.Context, m Message, raw []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.Path == "" {
		return ErrNoMailDir
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("notify: mail directory: %w", err)
	}
	f, err := os.CreateTemp(d.Path, ".mail-*.tmp")
	if err != nil {
		return fmt.Errorf("notify: mail file: %w", err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(raw)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(d.Path, d.FileName(m)))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("notify: mail file: %w", err)
	}
	return nil
}
