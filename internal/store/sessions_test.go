package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

func TestSessionRoundTrip(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		c := unitIssued(t, db, master, unitT0, unitT0.AddDate(1, 0, 0))
		want := auth.Session{IDHash: unitRandomHex(32), UserID: master.ID, CertificateID: c.ID, Fingerprint: c.Fingerprint,
			CreatedAt: unitT0, LastSeenAt: unitT0.Add(time.Second), ExpiresAt: unitT0.Add(12 * time.Hour)}
		if err := db.CreateSession(ctx, want, audit.Event{At: unitT0, Type: audit.LoginSucceeded, Actor: "user:x", OrganizationID: org.ID}); err != nil {
			t.Fatal(err)
		}
		got, err := db.SessionPrincipal(ctx, want.IDHash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.Session); diff != "" {
			t.Errorf("session (-want +got):\n%s", diff)
		}
		if err := db.TouchSession(ctx, want.IDHash, unitT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ = db.SessionPrincipal(ctx, want.IDHash)
		if !got.Session.LastSeenAt.Equal(unitT0.Add(time.Minute)) {
			t.Errorf("last seen %s after touch, want %s", got.Session.LastSeenAt, unitT0.Add(time.Minute))
		}
		if err := db.DeleteSession(ctx, want.IDHash, audit.Event{At: unitT0, Type: audit.SessionEnded, Actor: "user:x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionPrincipal(ctx, want.IDHash); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("deleted session: %v, want ErrNoSession", err)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		_, u := unitOrg(t, db)
		now := unitT0.Add(24 * time.Hour)
		const idle = 15 * time.Minute
		cases := []struct {
			name             string
			lastSeen, expiry time.Time
			kept             bool
		}{
			{"past its absolute end", now.Add(-time.Minute), now.Add(-time.Second), false},
			{"at its absolute end", now.Add(-time.Minute), now, false},
			{"idle for the idle timeout", now.Add(-idle), now.Add(time.Hour), false},
			{"idle for longer", now.Add(-2 * idle), now.Add(time.Hour), false},
			{"idle for a second less", now.Add(-idle + time.Second), now.Add(time.Hour), true},
			{"fresh", now, now.Add(time.Hour), true},
		}
		hashes := make([]string, len(cases))
		wantDeleted := int64(0)
		for i, tc := range cases {
			hashes[i] = unitSession(t, db, u, nil, tc.lastSeen, tc.expiry)
			if !tc.kept {
				wantDeleted++
			}
		}
		n, err := db.DeleteExpiredSessions(ctx, now, idle)
		if err != nil {
			t.Fatal(err)
		}
		if n != wantDeleted {
			t.Errorf("deleted %d sessions, want %d", n, wantDeleted)
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if got := unitSessionExists(t, db, hashes[i]); got != tc.kept {
					t.Errorf("kept = %v, want %v", got, tc.kept)
				}
			})
		}
	})
}

// TestSessionPrincipalInOneRead: the session, its user, the organization
// and the bound certificate come back together, as the separate reads
// return them; an ID + password session has no certificate; an unknown
// hash is auth.ErrNoSession.
func TestSessionPrincipalInOneRead(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		org, master := unitOrg(t, db)
		c := unitIssued(t, db, master, unitT0, unitT0.AddDate(1, 0, 0))
		bound := auth.Session{IDHash: unitRandomHex(32), UserID: master.ID, CertificateID: c.ID, Fingerprint: c.Fingerprint,
			CreatedAt: unitT0, LastSeenAt: unitT0.Add(time.Second), ExpiresAt: unitT0.Add(12 * time.Hour)}
		plain := auth.Session{IDHash: unitRandomHex(32), UserID: master.ID, CreatedAt: unitT0, LastSeenAt: unitT0, ExpiresAt: unitT0.Add(time.Hour)}
		for _, s := range []auth.Session{bound, plain} {
			if err := db.CreateSession(ctx, s, audit.Event{At: unitT0, Type: audit.LoginSucceeded, Actor: "user:x", OrganizationID: org.ID}); err != nil {
				t.Fatal(err)
			}
		}
		u, o, err := db.UserByID(ctx, master.ID)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := db.CertificateByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		cert.TBS, cert.DER = nil, nil // a request's reads leave the bytes out
		for _, tc := range []struct {
			name string
			want auth.Principal
		}{
			{"bound to a certificate", auth.Principal{Session: bound, User: u, Organization: o, Certificate: &cert}},
			{"ID and password", auth.Principal{Session: plain, User: u, Organization: o}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.SessionPrincipal(ctx, tc.want.Session.IDHash)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("principal (-want +got):\n%s", diff)
				}
			})
		}
		if _, err := db.SessionPrincipal(ctx, unitRandomHex(32)); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("unknown session: %v, want ErrNoSession", err)
		}
		gc, gu, gorg, err := db.CertificateHolder(ctx, c.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{cert, u, o}, []any{gc, gu, gorg}); diff != "" {
			t.Errorf("certificate holder (-want +got):\n%s", diff)
		}
		if _, _, _, err := db.CertificateHolder(ctx, unitRandomHex(32)); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("unknown fingerprint: %v, want certs.ErrNotFound", err)
		}
	})
}
