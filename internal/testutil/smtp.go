package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPOptions configure an SMTPServer.
type SMTPOptions struct {
	// Username and Password, when Username is set, are required with AUTH
	// PLAIN before MAIL FROM.
	Username string
	Password string
	// NoTLS makes the server offer no STARTTLS (and allow AUTH in the
	// clear).
	NoTLS bool
}

// ReceivedMail is a mail that the SMTPServer accepted.
type ReceivedMail struct {
	From     string   // MAIL FROM
	To       []string // RCPT TO
	Raw      []byte   // the message as sent after DATA
	TLS      bool     // the session was under TLS
	AuthUser string   // the user who authenticated, if any
}

// SMTPServer is an in-process SMTP server on 127.0.0.1 that records the
// mails it accepts. Its address is fixed when it is made, and it listens
// only once started, so a test can send to it while it is down and start
// it later.
type SMTPServer struct {
	Host    string         // 127.0.0.1
	Port    int            // fixed at creation
	RootCAs *x509.CertPool // trusts the server's certificate (for STARTTLS)

	opts    SMTPOptions
	tlsConf *tls.Config

	mu       sync.Mutex
	srv      *smtp.Server
	received []ReceivedMail
	arrived  chan struct{}
}

// NewSMTPServer makes a server with a throwaway certificate for 127.0.0.1
// and a free port, not yet listening; it stops when the test ends.
func NewSMTPServer(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "kinko test mail server"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	// A free port, reserved by listening on it for a moment.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &SMTPServer{Host: "127.0.0.1", Port: port, RootCAs: roots, opts: opts, arrived: make(chan struct{}, 1),
		tlsConf: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
			MinVersion: tls.VersionTLS12}}
	t.Cleanup(s.Stop)
	return s
}

// StartSMTPServer makes a server and starts it.
func StartSMTPServer(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	s := NewSMTPServer(t, opts)
	s.Start(t)
	return s
}

// Addr returns the server's host:port.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Start listens on the server's address and serves until Stop.
func (s *SMTPServer) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		t.Fatal("smtp server already started")
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may still be in TIME_WAIT for a moment
		if ln, err = net.Listen("tcp", s.Addr()); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("smtp server: listen %s: %v", s.Addr(), err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{server: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.opts.NoTLS {
		srv.AllowInsecureAuth = true
	} else {
		srv.TLSConfig = s.tlsConf
	}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

// Stop closes the listener and every connection; the server can be
// started again.
func (s *SMTPServer) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Received returns the mails accepted so far.
func (s *SMTPServer) Received() []ReceivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedMail(nil), s.received...)
}

// WaitReceived waits until n mails have arrived, at most timeout, and
// returns those that have.
func (s *SMTPServer) WaitReceived(n int, timeout time.Duration) []ReceivedMail {
	deadline := time.After(timeout)
	for {
		if got := s.Received(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			return s.Received()
		}
	}
}

// smtpSession is one SMTP session.
type smtpSession struct {
	server   *SMTPServer
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

// AuthMechanisms offers PLAIN when the server wants a user.
func (ss *smtpSession) AuthMechanisms() []string {
	if ss.server.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks the user and password.
func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.server.opts.Username || password != ss.server.opts.Password {
			return errors.New("invalid username or password")
		}
		ss.authUser = username
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.opts.Username != "" && ss.authUser == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	s := ss.server
	s.mu.Lock()
	s.received = append(s.received, ReceivedMail{From: ss.from, To: append([]string(nil), ss.to...), Raw: raw,
		TLS: isTLS, AuthUser: ss.authUser})
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error { return nil }
