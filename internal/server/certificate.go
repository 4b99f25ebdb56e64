package server

import (
	"crypto/tls"
	"fmt"
	"time"

	"kinko/internal/notify"
)

// LoadCertificate reads a server certificate (PEM, the leaf first, then
// its chain) and its key (PEM) from files, for a server to swap in
// (SetCertificate). A pair that does not match, or a leaf that is not
// valid at now, is refused: a server keeps the certificate it has rather
// than serve one that clients must refuse.
func LoadCertificate(certFile, keyFile string, now time.Time) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("server: certificate %s, key %s: %w", certFile, keyFile, err)
	}
	if now.Before(c.Leaf.NotBefore) || now.After(c.Leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("server: certificate %s is valid from %s to %s, not now (%s)", certFile,
			c.Leaf.NotBefore.UTC().Format(time.RFC3339), c.Leaf.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// SetCertificate makes c the server certificate of the TLS listeners: every
// handshake from now on presents it; connections already open keep theirs.
func (s *Server) SetCertificate(c tls.Certificate) { s.cert.Store(&c) }

// certificate is the listeners' tls.Config.GetCertificate.
func (s *Server) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cert.Load(), nil
}

// Mail are the settings of the outbox's delivery that a running server can
// change (SetMail): the mail server and the From address.
type Mail struct {
	// SMTP is the mail server; nil: the mails are written to Parts.MailDir.
	SMTP *notify.SMTP
	// From is the From address; empty: SMTP.From, or kinko@localhost.
	From string
}

// SetMail makes m the delivery of the mails that the mail job sends from
// its next run on. A server that had no way to deliver mail at start-up
// (neither SMTP nor a mail directory) runs no mail job and is not changed.
func (s *Server) SetMail(m Mail) {
	p := s.Services.Parts
	p.SMTP, p.MailFrom = m.SMTP, m.From
	if sender := mailSenderOf(p); sender != nil && s.Services.mail.Load() != nil {
		s.Services.mail.Store(sender)
	}
}

// MailSender returns the sender of the outbox's mails in force, nil when
// the server sends none.
func (s *Services) MailSender() *notify.Sender { return s.mail.Load() }
