package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// authRig is kinko's services on a new SQLite database with a fake clock,
// without listeners.
type authRig struct {
	db    *store.DB
	clock *testutil.Clock
	svc   *server.Services
}

var authStart = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

func newAuthRig(t *testing.T, validity certs.Validity) *authRig {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko test bank", Now: authStart.AddDate(0, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	a, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &authRig{db: testutil.OpenSQLite(t), clock: testutil.NewClock(authStart)}
	r.svc, err = server.Assemble(server.Parts{DB: r.db, Authority: a, Now: r.clock.Now, Hasher: testutil.FastHasher,
		Validity: validity, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var authSeq atomic.Int64

func authPassword(loginID string) string { return "Login-" + loginID }

// org creates an organization and its master user, with certificate login
// when asked.
func (r *authRig) org(t *testing.T, certificateLogin bool) identity.User {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("m%07d", authSeq.Add(1))
	org, master, _, err := r.svc.Identity.CreateOrganization(ctx, identity.NewOrganization{Name: "テスト労組", MasterLoginID: id,
		MasterName: "マスター", MasterEmail: id + "@example.org",
		Passwords: identity.InitialPasswords{Password: authPassword(id), ConfirmationPassword: "Confirm-" + id}}, "operator:test")
	if err != nil {
		t.Fatal(err)
	}
	if certificateLogin {
		if _, err := r.svc.Identity.SetCertificateLogin(ctx, org.Code, true, "operator:test", "REQ-TEST"); err != nil {
			t.Fatal(err)
		}
	}
	return master
}

func (r *authRig) general(t *testing.T, master identity.User) identity.User {
	t.Helper()
	id := fmt.Sprintf("g%07d", authSeq.Add(1))
	u, _, err := r.svc.Identity.CreateGeneralUserWithPasswords(context.Background(), master, id, "一般", id+"@example.org",
		identity.InitialPasswords{Password: authPassword(id), ConfirmationPassword: "Confirm-" + id})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// issue issues a certificate to u and returns it as a TLS peer would
// present it.
func (r *authRig) issue(t *testing.T, u identity.User) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.svc.Certs.Issue(context.Background(), u.LoginID, authPassword(u.LoginID), netip.Addr{}, []byte(testutil.NewCSR(t, key)))
	if err != nil {
		t.Fatalf("issue to %s: %v", u.LoginID, err)
	}
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// certLogin logs u in with cert on the certificate portal.
func (r *authRig) certLogin(t *testing.T, u identity.User, cert *x509.Certificate) string {
	t.Helper()
	token, p, err := r.svc.Auth.CertificateLogin(context.Background(), cert, authPassword(u.LoginID), netip.Addr{})
	if err != nil {
		t.Fatalf("certificate login of %s: %v", u.LoginID, err)
	}
	if p.Certificate == nil || p.User.ID != u.ID {
		t.Fatalf("certificate login principal %+v", p)
	}
	return token
}

// passwordLogin logs u in with ID and password on the portal.
func (r *authRig) passwordLogin(t *testing.T, u identity.User) string {
	t.Helper()
	token, _, err := r.svc.Auth.PasswordLogin(context.Background(), u.LoginID, authPassword(u.LoginID), netip.Addr{})
	if err != nil {
		t.Fatalf("password login of %s: %v", u.LoginID, err)
	}
	return token
}

func (r *authRig) authenticate(token string, peer *x509.Certificate) (auth.Principal, error) {
	return r.svc.Auth.Authenticate(context.Background(), token, peer)
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sessionRows returns every column of every session row as text.
func (r *authRig) sessionRows(t *testing.T) [][]string {
	t.Helper()
	rows, err := r.db.SQL().Query(`SELECT * FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = cols[i] + "=" + v.String
		}
		out = append(out, row)
	}
	return out
}

func (r *authRig) lastSeen(t *testing.T, token string) time.Time {
	t.Helper()
	var us int64
	if err := r.db.SQL().QueryRow(`SELECT last_seen_at FROM sessions WHERE id_hash = $1`, hashOf(token)).Scan(&us); err != nil {
		t.Fatalf("last_seen_at: %v", err)
	}
	return time.UnixMicro(us).UTC()
}

func TestSessionTokenIsRandomAndStoredHashed(t *testing.T) {
	r := newAuthRig(t, nil)
	u := r.org(t, false)
	tokens := map[string]bool{}
	for range 3 {
		token := r.passwordLogin(t, u)
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q: %d bytes of base64url (%v), want 32", token, len(raw), err)
		}
		if tokens[token] {
			t.Fatalf("token %q given twice", token)
		}
		tokens[token] = true
	}
	rows := r.sessionRows(t)
	if len(rows) != len(tokens) {
		t.Fatalf("%d session rows, want %d", len(rows), len(tokens))
	}
	hashes := map[string]bool{}
	for _, row := range rows {
		for _, col := range row {
			for token := range tokens {
				raw, _ := base64.RawURLEncoding.DecodeString(token)
				if strings.Contains(col, token) || strings.Contains(col, hex.EncodeToString(raw)) {
					t.Errorf("session column %s holds the token", strings.SplitN(col, "=", 2)[0])
				}
			}
			if v, ok := strings.CutPrefix(col, "id_hash="); ok {
				hashes[v] = true
			}
		}
	}
	for token := range tokens {
		if !hashes[hashOf(token)] {
			t.Errorf("no session stored under SHA-256 of token %q", token)
		}
		if _, err := r.authenticate(token, nil); err != nil {
			t.Errorf("token %q: %v", token, err)
		}
	}
	// The hash is not a token.
	for h := range hashes {
		if _, err := r.authenticate(h, nil); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("the stored hash used as a token: %v, want ErrNoSession", err)
		}
	}
	for _, token := range []string{"", "x", strings.Repeat("A", 43)} {
		if _, err := r.authenticate(token, nil); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("token %q: %v, want ErrNoSession", token, err)
		}
	}
}

func TestR7_SessionBoundToItsCertificate(t *testing.T) {
	ctx := context.Background()
	r := newAuthRig(t, nil)
	master := r.org(t, true)
	g, other := r.general(t, master), r.general(t, master)
	gCert, otherCert := r.issue(t, g), r.issue(t, other)
	token := r.certLogin(t, g, gCert)

	p, err := r.authenticate(token, gCert)
	if err != nil {
		t.Fatalf("same certificate: %v", err)
	}
	if p.User.ID != g.ID || p.Certificate == nil || p.Certificate.Fingerprint != pki.Fingerprint(gCert.Raw) {
		t.Fatalf("principal %+v", p)
	}
	// The same fields in other bytes, as a certificate from another CA with
	// the same subject and serial would be.
	forged := *gCert
	forged.Raw = append([]byte(nil), gCert.Raw...)
	forged.Raw[len(forged.Raw)-1] ^= 1
	cases := []struct {
		name string
		peer *x509.Certificate
		want error
	}{
		{"no certificate", nil, auth.ErrCertificateRequired},
		{"another user's certificate", otherCert, auth.ErrCertificateMismatch},
		{"same subject, other bytes", &forged, auth.ErrCertificateMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.authenticate(token, tc.peer); !errors.Is(err, tc.want) {
				t.Fatalf("authenticate: %v, want %v", err, tc.want)
			}
		})
	}
	// The refusals did not end the session for its own certificate.
	if _, err := r.authenticate(token, gCert); err != nil {
		t.Fatalf("own certificate after refusals: %v", err)
	}

	t.Run("revoked by the master", func(t *testing.T) {
		m, _, _ := r.svc.Identity.UserByLoginID(ctx, master.LoginID)
		if _, err := r.svc.Certs.RevokeByMaster(ctx, m, g.LoginID, "keyCompromise", "Confirm-"+master.LoginID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.authenticate(token, gCert); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after revocation: %v, want ErrNoSession", err)
		}
		if _, _, err := r.svc.Auth.CertificateLogin(ctx, gCert, authPassword(g.LoginID), netip.Addr{}); !errors.Is(err, auth.ErrCertificateRevoked) {
			t.Fatalf("login with the revoked certificate: %v, want ErrCertificateRevoked", err)
		}
	})

	t.Run("revoked while the session row survives", func(t *testing.T) {
		// Should a session outlive its certificate's revocation (a write
		// that missed it), the certificate check still refuses it.
		tok := r.certLogin(t, other, otherCert)
		if _, err := r.db.SQL().Exec(`UPDATE certificates SET status = 'revoked', active_slot = NULL, revoked_at = 1 WHERE fingerprint = $1`,
			pki.Fingerprint(otherCert.Raw)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.authenticate(tok, otherCert); !errors.Is(err, auth.ErrCertificateRevoked) {
			t.Fatalf("after revocation: %v, want ErrCertificateRevoked", err)
		}
	})

	t.Run("user locked", func(t *testing.T) {
		u := r.general(t, master)
		cert := r.issue(t, u)
		tok := r.certLogin(t, u, cert)
		if _, err := r.db.SQL().Exec(`UPDATE users SET locked_at = 1, failed_logins = 6 WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := r.authenticate(tok, cert); !errors.Is(err, auth.ErrUserUnavailable) {
			t.Fatalf("locked user: %v, want ErrUserUnavailable", err)
		}
	})
}

func TestBoundSessionEndsWithItsCertificate(t *testing.T) {
	// Certificates valid 10 minutes, shorter than a session.
	r := newAuthRig(t, func(nb time.Time) time.Time { return nb.Add(10 * time.Minute) })
	master := r.org(t, true)
	cert := r.issue(t, master)
	token := r.certLogin(t, master, cert)
	r.clock.Advance(9 * time.Minute)
	if _, err := r.authenticate(token, cert); err != nil {
		t.Fatalf("9 minutes in: %v", err)
	}
	r.clock.Advance(time.Minute) // notAfter itself is still valid
	if _, err := r.authenticate(token, cert); err != nil {
		t.Fatalf("at notAfter: %v", err)
	}
	r.clock.Advance(time.Second)
	if _, err := r.authenticate(token, cert); !errors.Is(err, auth.ErrCertificateExpired) {
		t.Fatalf("after the certificate expired: %v, want ErrCertificateExpired", err)
	}
}

func TestPasswordSessionRefusesACertificate(t *testing.T) {
	r := newAuthRig(t, nil)
	u := r.org(t, false)
	token := r.passwordLogin(t, u)

	other := r.org(t, true)
	cert := r.issue(t, other)
	if _, err := r.authenticate(token, cert); !errors.Is(err, auth.ErrCertificateMismatch) {
		t.Fatalf("password session with a certificate: %v, want ErrCertificateMismatch", err)
	}
	if p, err := r.authenticate(token, nil); err != nil || p.Certificate != nil || p.User.ID != u.ID {
		t.Fatalf("password session without a certificate: %+v, %v", p, err)
	}
	// R8: once the organization uses certificate login, the session is over.
	_, org, _ := r.svc.Identity.UserByLoginID(context.Background(), u.LoginID)
	if _, err := r.svc.Identity.SetCertificateLogin(context.Background(), org.Code, true, "operator:test", "REQ-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.authenticate(token, nil); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after certificate login was enabled: %v, want ErrNoSession", err)
	}
	if _, _, err := r.svc.Auth.PasswordLogin(context.Background(), u.LoginID, authPassword(u.LoginID), netip.Addr{}); !errors.Is(err, auth.ErrCertificateLoginRequired) {
		t.Fatalf("R8 password login: %v, want ErrCertificateLoginRequired", err)
	}
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		r := newAuthRig(t, nil)
		u := r.org(t, false)
		token := r.passwordLogin(t, u)
		r.clock.Advance(15*time.Minute - time.Second)
		if _, err := r.authenticate(token, nil); err != nil {
			t.Fatalf("idle 14m59s: %v", err)
		}
		r.clock.Advance(15*time.Minute - time.Second)
		if _, err := r.authenticate(token, nil); err != nil {
			t.Fatalf("idle 14m59s again (the last request counts): %v", err)
		}
		r.clock.Advance(15 * time.Minute)
		if _, err := r.authenticate(token, nil); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("idle 15m: %v, want ErrNoSession", err)
		}
		if rows := r.sessionRows(t); len(rows) != 0 {
			t.Errorf("expired session still stored: %v", rows)
		}
		r.clock.Advance(-time.Hour) // even if the clock goes back, it is gone
		if _, err := r.authenticate(token, nil); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after the clock went back: %v, want ErrNoSession", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		r := newAuthRig(t, nil)
		u := r.org(t, false)
		token := r.passwordLogin(t, u)
		for elapsed := 10 * time.Minute; elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
			r.clock.Advance(10 * time.Minute)
			if _, err := r.authenticate(token, nil); err != nil {
				t.Fatalf("active session %s in: %v", elapsed, err)
			}
		}
		r.clock.Advance(10 * time.Minute) // 12 hours since login
		if _, err := r.authenticate(token, nil); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("12 hours after login: %v, want ErrNoSession", err)
		}
	})
}

func TestLastSeenWrittenAtMostOnceAMinute(t *testing.T) {
	r := newAuthRig(t, nil)
	u := r.org(t, false)
	token := r.passwordLogin(t, u)
	login := r.clock.Now()
	steps := []struct {
		advance time.Duration
		want    time.Time
	}{
		{10 * time.Second, login},                        // 10 s
		{10 * time.Second, login},                        // 20 s
		{41 * time.Second, login.Add(61 * time.Second)},  // 61 s: written
		{10 * time.Second, login.Add(61 * time.Second)},  // 71 s
		{50 * time.Second, login.Add(121 * time.Second)}, // 121 s: a minute after the last write
	}
	elapsed := time.Duration(0)
	for _, s := range steps {
		r.clock.Advance(s.advance)
		elapsed += s.advance
		if _, err := r.authenticate(token, nil); err != nil {
			t.Fatalf("request at %s: %v", elapsed, err)
		}
		if got := r.lastSeen(t, token); !got.Equal(s.want) {
			t.Errorf("last_seen_at after the request at %s: %s, want %s", elapsed, got, s.want)
		}
	}
}

func TestLogout(t *testing.T) {
	r := newAuthRig(t, nil)
	u := r.org(t, false)
	token := r.passwordLogin(t, u)
	keep := r.passwordLogin(t, u)
	p, err := r.authenticate(token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Auth.Logout(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := r.authenticate(token, nil); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after logout: %v, want ErrNoSession", err)
	}
	if _, err := r.authenticate(keep, nil); err != nil {
		t.Fatalf("the user's other session after logout: %v", err)
	}
}

// countingStore counts the calls into the store that auth makes.
type countingStore struct {
	auth.Store
	calls map[string]int
}

func (s *countingStore) SessionPrincipal(ctx context.Context, idHash string) (auth.Principal, error) {
	s.calls["SessionPrincipal"]++
	return s.Store.SessionPrincipal(ctx, idHash)
}

func (s *countingStore) CertificateHolder(ctx context.Context, fingerprint string) (certs.Certificate, identity.User, identity.Organization, error) {
	s.calls["CertificateHolder"]++
	return s.Store.CertificateHolder(ctx, fingerprint)
}

func (s *countingStore) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	s.calls["TouchSession"]++
	return s.Store.TouchSession(ctx, idHash, now)
}

// TestOneReadPerCheck: a request's session, with its user, organization
// and bound certificate, is one read of the store, and so is the check of
// a connection's certificate with its user. The manager has no identity
// or certificate service, so any other read would fail.
func TestOneReadPerCheck(t *testing.T) {
	r := newAuthRig(t, nil)
	master := r.org(t, true)
	cert := r.issue(t, master)
	token := r.certLogin(t, master, cert)
	cs := &countingStore{Store: r.db, calls: map[string]int{}}
	m := auth.New(auth.Config{Store: cs, Now: r.clock.Now})

	p, err := m.Authenticate(context.Background(), token, cert)
	if err != nil || p.User.ID != master.ID || p.Certificate == nil || p.Certificate.Fingerprint != pki.Fingerprint(cert.Raw) {
		t.Fatalf("Authenticate: %+v, %v", p, err)
	}
	if _, u, _, err := m.CheckCertificate(context.Background(), cert); err != nil || u.ID != master.ID {
		t.Fatalf("CheckCertificate: user %d, %v", u.ID, err)
	}
	if want := map[string]int{"CertificateHolder": 1, "SessionPrincipal": 1}; fmt.Sprint(cs.calls) != fmt.Sprint(want) {
		t.Fatalf("store calls %v, want %v", cs.calls, want)
	}

	// Revoked: the revocation ended the session, and the certificate is
	// refused at once.
	if _, err := r.svc.Certs.RevokeByBank(context.Background(), cert.SerialNumber.Text(16), "keyCompromise", "operator:test", "REQ-REVOKE"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := m.Authenticate(context.Background(), token, cert); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("Authenticate after revocation: %v, want ErrNoSession", err)
	}
	if _, _, _, err := m.CheckCertificate(context.Background(), cert); !errors.Is(err, auth.ErrCertificateRevoked) {
		t.Fatalf("CheckCertificate after revocation: %v, want ErrCertificateRevoked", err)
	}
}
