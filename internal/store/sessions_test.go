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
		got, gotCert, gotUser, gotOrg, err := db.SessionPrincipal(ctx, want.IDHash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("session (-want +got):\n%s", diff)
		}
		// The one read brings the bound certificate, the user and the
		// organization as their own reads do.
		wantCert, err := db.CertificateByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantCert.TBS, wantCert.DER = nil, nil // not read for a request
		wantUser, wantOrg, err := db.UserByID(ctx, master.ID)
		if err != nil {
			t.Fatal(err)
		}
		if gotCert == nil {
			t.Fatal("no certificate with a certificate-login session")
		}
		if diff := cmp.Diff(wantCert, *gotCert); diff != "" {
			t.Errorf("certificate (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantUser, gotUser); diff != "" {
			t.Errorf("user (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantOrg, gotOrg); diff != "" {
			t.Errorf("organization (-want +got):\n%s", diff)
		}
		holderCert, holder, holderOrg, err := db.CertificateHolder(ctx, c.Fingerprint)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{wantCert, wantUser, wantOrg}, []any{holderCert, holder, holderOrg}); diff != "" {
			t.Errorf("certificate holder (-want +got):\n%s", diff)
		}
		if _, _, _, err := db.CertificateHolder(ctx, unitRandomHex(32)); !errors.Is(err, certs.ErrNotFound) {
			t.Errorf("holder of an unknown fingerprint: %v, want certs.ErrNotFound", err)
		}
		// A session of ID + password login has no certificate.
		pw := auth.Session{IDHash: unitRandomHex(32), UserID: master.ID, CreatedAt: unitT0, LastSeenAt: unitT0, ExpiresAt: unitT0.Add(time.Hour)}
		if err := db.CreateSession(ctx, pw, audit.Event{At: unitT0, Type: audit.LoginSucceeded, Actor: "user:x", OrganizationID: org.ID}); err != nil {
			t.Fatal(err)
		}
		if gotPW, pwCert, pwUser, _, err := db.SessionPrincipal(ctx, pw.IDHash); err != nil || pwCert != nil || pwUser.ID != master.ID || gotPW.CertificateID != 0 {
			t.Errorf("password session: %+v, certificate %v, user %d, %v; want no certificate", gotPW, pwCert, pwUser.ID, err)
		}
		if err := db.TouchSession(ctx, want.IDHash, unitT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _, _, _, _ = db.SessionPrincipal(ctx, want.IDHash)
		if !got.LastSeenAt.Equal(unitT0.Add(time.Minute)) {
			t.Errorf("last seen %s after touch, want %s", got.LastSeenAt, unitT0.Add(time.Minute))
		}
		if err := db.DeleteSession(ctx, want.IDHash, audit.Event{At: unitT0, Type: audit.SessionEnded, Actor: "user:x"}); err != nil {
			t.Fatal(err)
		}
		if _, _, _, _, err := db.SessionPrincipal(ctx, want.IDHash); !errors.Is(err, auth.ErrNoSession) {
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
