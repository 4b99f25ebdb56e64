package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"kinko/internal/audit"
	"kinko/internal/outbox"
)

// Defaults of the Sender.
const (
	DefaultLease = 5 * time.Minute
	DefaultBatch = 20
	// MaxBackoff is the longest wait between two attempts at one mail.
	MaxBackoff = time.Hour
)

// Sender delivers the mails of the outbox: it claims the due ones, composes
// each from the facts as they stand (the recipient's address and names),
// delivers it, and marks it sent (with an audit event) or failed (to be
// tried again later), or dropped when there is no one to send it to. A mail is delivered at least once: a server that dies after
// delivering, before marking, leaves it to be delivered again when its lease
// ends. Several servers may run senders on one database; the Store's claim
// gives each mail to one of them.
type Sender struct {
	Store     Store
	Transport Transport
	From      string           // the From header
	BankName  string           // signs the mails; empty: DefaultBankName
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // default slog.Default()
	Lease     time.Duration    // how long a claim lasts; default DefaultLease
	Batch     int              // mails claimed at once; default DefaultBatch
}

// Backoff returns the wait after the given number of failed attempts
// (1 or more): 1m, 2m, 4m, ..., at most MaxBackoff.
func Backoff(failures int) time.Duration {
	d := time.Minute
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// RunOnce delivers the mails due now and returns how many were sent. A
// failed delivery is logged and scheduled again, not returned; the error
// is the store's. It stops early, leaving the rest of the claim to a later
// run, when half the lease is gone.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	if s.Store == nil || s.Transport == nil {
		return 0, ErrNotConfigured
	}
	now, logger := s.now, s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	lease, batch := s.Lease, s.Batch
	if lease <= 0 {
		lease = DefaultLease
	}
	if batch <= 0 {
		batch = DefaultBatch
	}
	start := now()
	msgs, err := s.Store.ClaimMail(ctx, start, lease, batch)
	if err != nil {
		return 0, fmt.Errorf("notify: claim mail: %w", err)
	}
	sent := 0
	var errs []error
	for _, q := range msgs {
		if ctx.Err() != nil {
			break
		}
		if now().Sub(start) > lease/2 {
			logger.Info("mail: lease half gone; the rest waits for the next run", "left", len(msgs)-sent)
			break
		}
		var facts outbox.Facts
		if q.To != "" {
			facts, err = s.Store.MailFacts(ctx, q)
			if err != nil {
				errs = append(errs, fmt.Errorf("notify: mail %d: %w", q.ID, err))
				continue
			}
		}
		msgs, drop, err := compose(q, facts, s.BankName)
		at := now()
		if err == nil && drop == "" {
			// A mail to several users is delivered to each; a failure
			// leaves the mail to be tried again, and the deliveries
			// that succeeded are repeated with the same Message-IDs.
			for _, m := range msgs {
				if err = s.Transport.Deliver(ctx, m, Render(m, s.From, at)); err != nil {
					break
				}
			}
		}
		if drop != "" {
			logger.Info("mail dropped", "mail", q.ID, "kind", q.Kind, "why", drop)
			if err := s.Store.MarkMailDropped(ctx, q.ID, at, drop); err != nil {
				errs = append(errs, fmt.Errorf("notify: mark mail %d dropped: %w", q.ID, err))
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				// Shutting down: the claim ends with the lease.
				break
			}
			next := now().Add(Backoff(q.Attempts + 1))
			logger.Warn("mail delivery failed", "mail", q.ID, "kind", q.Kind, "attempts", q.Attempts+1,
				"next_attempt", next, "err", err)
			if err := s.Store.MarkMailFailed(ctx, q.ID, next, truncate(err.Error(), 500)); err != nil {
				errs = append(errs, fmt.Errorf("notify: mark mail %d failed: %w", q.ID, err))
			}
			continue
		}
		m := msgs[0]
		var domains []string
		for _, one := range msgs {
			if d := RecipientDomain(one.To); !slices.Contains(domains, d) {
				domains = append(domains, d)
			}
		}
		to := strings.Join(domains, ",")
		if len(msgs) > 1 {
			to = fmt.Sprintf("%d recipients at %s", len(msgs), to)
		}
		ev := audit.Event{At: at, Type: audit.MailSent, Actor: audit.System, OrganizationID: m.OrganizationID,
			UserID: m.UserID, Serial: m.Serial, Detail: fmt.Sprintf("%s to %s (mail %d)", m.Kind, to, m.ID)}
		if err := s.Store.MarkMailSent(ctx, m.ID, at, ev); err != nil {
			errs = append(errs, fmt.Errorf("notify: mark mail %d sent: %w", m.ID, err))
			continue
		}
		logger.Info("mail sent", "mail", m.ID, "kind", m.Kind, "to_domain", to, "deliveries", len(msgs))
		sent++
	}
	return sent, errors.Join(errs...)
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// RecipientDomain returns the domain of an address, which the audit log
// and the logs record instead of the whole address.
func RecipientDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.TrimRight(addr[i+1:], ">")
	}
	return "?"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xc0 != 0x80 }
