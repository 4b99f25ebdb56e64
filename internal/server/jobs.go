package server

import (
	"context"
	"time"

	"kinko/internal/calendar"
)

// Job is a background task run every Every until the server stops.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// jobs are every background job of a server. Each runs on every server of
// a bank at once, so each must be safe to run concurrently: it claims its
// rows or inserts unique ones, and does each piece of work once.
func (s *Services) jobs() []Job {
	p := s.Parts
	idle := s.Auth.IdleTimeout()
	jobs := []Job{{
		// The audit events committed since the last run are linked into
		// the chain, by one server at a time (the others find the head
		// taken and leave the work to it).
		Name: "audit chain", Every: time.Second,
		Run: func(ctx context.Context) error {
			_, err := p.DB.LinkAudit(ctx)
			return err
		},
	}, {
		Name: "expired sessions", Every: 5 * time.Minute,
		Run: func(ctx context.Context) error {
			_, err := p.DB.DeleteExpiredSessions(ctx, p.Now(), idle)
			return err
		},
	}, {
		// The throttles of failed logins, once their time is past; a row
		// deleted twice is deleted once.
		Name: "expired login throttles", Every: 10 * time.Minute,
		Run: func(ctx context.Context) error {
			_, err := p.DB.DeleteExpiredLoginThrottles(ctx, p.Now())
			return err
		},
	}, {
		// Every ten minutes: each reminder is recorded once per certificate
		// and occasion, so it is sent once, within minutes of its day coming.
		Name: "expiry reminders", Every: 10 * time.Minute,
		Run: func(ctx context.Context) error {
			_, err := s.Certs.SendExpiryReminders(ctx)
			return err
		},
	}, {
		// Transfers approved for a later date are executed once their day
		// has come; on several servers, each transfer once.
		Name: "scheduled transfers", Every: time.Minute,
		Run: func(ctx context.Context) error {
			_, err := s.Banking.ExecuteDue(ctx, calendar.DateOf(p.Now()))
			return err
		},
	}}
	if s.mail.Load() != nil {
		// The outbox's mails, claimed with a lease: each is sent once; by
		// the sender of the moment (Server.SetMail).
		jobs = append(jobs, Job{Name: "mail", Every: 5 * time.Second, Run: func(ctx context.Context) error {
			_, err := s.mail.Load().RunOnce(ctx)
			return err
		}})
	}
	return jobs
}
