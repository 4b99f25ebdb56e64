package certs_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ocsp"

	"kinko/internal/audit"
	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// certsRig is a certificate service on a new SQLite database, with a new
// authority, a fake clock and fast password hashing.
type certsRig struct {
	db        *store.DB
	clock     *testutil.Clock
	authority *pki.Authority
	ident     *identity.Service
	svc       *certs.Service
}

// hookSigner is the issuing CA's key with a hook that runs before each
// signature and may refuse it.
type hookSigner struct {
	crypto.Signer
	before func() error
}

func (s hookSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.before(); err != nil {
		return nil, err
	}
	return s.Signer.Sign(r, digest, opts)
}

type certsRigOptions struct {
	validity   certs.Validity
	beforeSign func() error // nil: sign normally
}

func newCertsRig(t *testing.T, start time.Time, o certsRigOptions) *certsRig {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	if err := pki.Create(dir, pki.CreateOptions{Name: "kinko test bank", Now: start.AddDate(0, 0, -1)}); err != nil {
		t.Fatal(err)
	}
	a, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &certsRig{db: testutil.OpenSQLite(t), clock: testutil.NewClock(start), authority: a}
	r.ident, err = identity.New(identity.Config{Store: r.db, Hasher: identity.Hasher{Params: testutil.FastHasher}, Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = r.service(t, o)
	return r
}

// service returns another certificate service on the rig's database,
// authority and clock.
func (r *certsRig) service(t *testing.T, o certsRigOptions) *certs.Service {
	t.Helper()
	var signer crypto.Signer = r.authority.IssuingKey
	if o.beforeSign != nil {
		signer = hookSigner{Signer: signer, before: o.beforeSign}
	}
	issuer, err := pki.NewIssuer(r.authority.Issuing, signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	return certs.New(certs.Config{Store: r.db.Certs(), Identity: r.ident, Issuer: issuer, Validity: o.validity, Now: r.clock.Now})
}

var certsSeq atomic.Int64

func certsLoginID(prefix string) string { return fmt.Sprintf("%s%07d", prefix, certsSeq.Add(1)) }

func certsPasswords(loginID string) identity.InitialPasswords {
	return identity.InitialPasswords{Password: "Login-" + loginID, ConfirmationPassword: "Confirm-" + loginID}
}

// org creates an organization, with certificate login when asked, and its
// master user.
func (r *certsRig) org(t *testing.T, name string, certificateLogin bool) (identity.Organization, identity.User) {
	t.Helper()
	ctx := context.Background()
	id := certsLoginID("m")
	org, master, _, err := r.ident.CreateOrganization(ctx, identity.NewOrganization{Name: name, MasterLoginID: id,
		MasterName: "マスター", MasterEmail: id + "@example.org", Passwords: certsPasswords(id)}, "operator:test")
	if err != nil {
		t.Fatal(err)
	}
	if certificateLogin {
		if org, err = r.ident.SetCertificateLogin(ctx, org.Code, true, "operator:test", "REQ-TEST"); err != nil {
			t.Fatal(err)
		}
	}
	return org, master
}

func (r *certsRig) general(t *testing.T, master identity.User) identity.User {
	t.Helper()
	id := certsLoginID("g")
	u, _, err := r.ident.CreateGeneralUserWithPasswords(context.Background(), master, id, "一般", id+"@example.org", certsPasswords(id))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// user reloads a user and the organization.
func (r *certsRig) user(t *testing.T, loginID string) (identity.User, identity.Organization) {
	t.Helper()
	u, org, err := r.ident.UserByLoginID(context.Background(), loginID)
	if err != nil {
		t.Fatal(err)
	}
	return u, org
}

// csr returns a parsed request for a new P-256 key, with a subject the bank
// must ignore.
func certsCSR(t *testing.T) (*x509.CertificateRequest, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	req, err := pki.ParseCSR([]byte(testutil.NewCSR(t, key)))
	if err != nil {
		t.Fatal(err)
	}
	return req, key
}

// issue issues a certificate to u.
func (r *certsRig) issue(t *testing.T, u identity.User) certs.Certificate {
	t.Helper()
	u, org := r.user(t, u.LoginID)
	req, _ := certsCSR(t)
	c, err := r.svc.IssueFor(context.Background(), u, org, req)
	if err != nil {
		t.Fatalf("issue to %s: %v", u.LoginID, err)
	}
	return c
}

func (r *certsRig) events(t *testing.T, f store.AuditFilter) []audit.Event {
	t.Helper()
	evs, err := r.db.ListAudit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// rows returns, for each certificate row of a user, its status and whether
// it holds a DER.
func (r *certsRig) rows(t *testing.T, userID int64) []string {
	t.Helper()
	rows, err := r.db.SQL().Query(`SELECT status, der IS NOT NULL, COALESCE(revocation_reason, '') FROM certificates WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var status, reason string
		var der bool
		if err := rows.Scan(&status, &der, &reason); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s der=%v %s", status, der, reason))
	}
	return out
}

var certsStart = time.Date(2026, 6, 1, 1, 2, 3, 0, time.UTC)

func TestIssueForRecordsBeforeSigning(t *testing.T) {
	for _, tc := range []struct {
		name     string
		signErr  error
		wantRows []string
	}{
		{"signature succeeds", nil, []string{"issued der=true "}},
		{"signature fails", errors.New("HSM unavailable"), []string{"revoked der=false unspecified"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *certsRig
			var u identity.User
			var seen []string
			r = newCertsRig(t, certsStart, certsRigOptions{beforeSign: func() error {
				// What the database holds at the moment of the signature.
				seen = r.rows(t, u.ID)
				if evs := r.events(t, store.AuditFilter{UserID: u.ID, Type: audit.CertificateRequested}); len(evs) != 1 {
					t.Errorf("requested events at signing: %d, want 1", len(evs))
				}
				return tc.signErr
			}})
			_, master := r.org(t, "テスト労組", true)
			u = r.general(t, master)
			u, org := r.user(t, u.LoginID)
			req, _ := certsCSR(t)
			c, err := r.svc.IssueFor(context.Background(), u, org, req)
			if diff := cmp.Diff([]string{"pending der=false "}, seen); diff != "" {
				t.Errorf("certificate rows when the CA key signed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRows, r.rows(t, u.ID)); diff != "" {
				t.Errorf("certificate rows afterwards (-want +got):\n%s", diff)
			}
			var types []string
			for _, ev := range r.events(t, store.AuditFilter{UserID: u.ID}) {
				if strings.HasPrefix(string(ev.Type), "certificate.") {
					types = append(types, string(ev.Type)+" "+ev.Summary())
				}
			}
			if tc.signErr == nil {
				if err != nil {
					t.Fatalf("issue: %v", err)
				}
				want := []string{string(audit.CertificateRequested) + " ", string(audit.CertificateIssued) + " not after " + c.NotAfter.Format(time.RFC3339)}
				if diff := cmp.Diff(want, types); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tc.signErr) || c.ID != 0 || c.DER != nil {
				t.Fatalf("issue with a failing signer: %+v, %v; want no certificate and the signer's error", c, err)
			}
			want := []string{string(audit.CertificateRequested) + " ", string(audit.CertificateRevoked) + " signing failed"}
			if diff := cmp.Diff(want, types); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if _, err := r.svc.CurrentCertificate(context.Background(), u.ID); !errors.Is(err, certs.ErrNotFound) {
				t.Errorf("current certificate after the failure: %v, want ErrNotFound (place freed)", err)
			}
			// Once the key works again, the user gets a certificate.
			good := r.service(t, certsRigOptions{})
			req, _ = certsCSR(t)
			if _, err := good.IssueFor(context.Background(), u, org, req); err != nil {
				t.Fatalf("issue after the failure: %v", err)
			}
		})
	}
}

func TestR9_IssuedCertificateFields(t *testing.T) {
	cases := []struct {
		name                        string
		now                         time.Time
		validity                    certs.Validity
		wantNotBefore, wantNotAfter time.Time
	}{
		{"one calendar year", time.Date(2026, 6, 1, 1, 2, 3, 456789000, time.UTC), nil,
			time.Date(2026, 6, 1, 1, 2, 3, 0, time.UTC), time.Date(2027, 6, 1, 1, 2, 3, 0, time.UTC)},
		{"over a leap day", time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), nil,
			time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		// 29 February has no anniversary: the year ends on 1 March, the
		// day after 28 February (Go's calendar normalization).
		{"from 29 February", time.Date(2028, 2, 29, 23, 30, 0, 0, time.UTC), nil,
			time.Date(2028, 2, 29, 23, 30, 0, 0, time.UTC), time.Date(2029, 3, 1, 23, 30, 0, 0, time.UTC)},
		{"in another time zone", time.Date(2026, 12, 31, 23, 59, 59, 0, calendar.JST), nil,
			time.Date(2026, 12, 31, 14, 59, 59, 0, time.UTC), time.Date(2027, 12, 31, 14, 59, 59, 0, time.UTC)},
		{"custom validity", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(nb time.Time) time.Time { return nb.Add(90 * 24 * time.Hour) },
			time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 8, 30, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r := newCertsRig(t, tc.now, certsRigOptions{validity: tc.validity})
			org, master := r.org(t, "全国テスト労働組合", true)
			g := r.general(t, master)
			req, key := certsCSR(t)
			c, err := r.svc.IssueFor(ctx, g, org, req)
			if err != nil {
				t.Fatal(err)
			}
			cert, err := x509.ParseCertificate(c.DER)
			if err != nil {
				t.Fatal(err)
			}
			testutil.LintCertificate(t, c.DER)

			if !regexp.MustCompile(`^[1-9a-f][0-9a-f]*$`).MatchString(c.Serial) || c.Serial != fmt.Sprintf("%x", cert.SerialNumber) {
				t.Errorf("serial %q, certificate's %x", c.Serial, cert.SerialNumber)
			}
			if cert.SerialNumber.Cmp(new(big.Int).Lsh(big.NewInt(1), 63)) < 0 {
				t.Errorf("serial %x has fewer than 64 bits", cert.SerialNumber)
			}
			if !c.NotBefore.Equal(tc.wantNotBefore) || !cert.NotBefore.Equal(tc.wantNotBefore) {
				t.Errorf("not before: record %s, certificate %s; want %s", c.NotBefore, cert.NotBefore, tc.wantNotBefore)
			}
			if !c.NotAfter.Equal(tc.wantNotAfter) || !cert.NotAfter.Equal(tc.wantNotAfter) {
				t.Errorf("not after: record %s, certificate %s; want %s", c.NotAfter, cert.NotAfter, tc.wantNotAfter)
			}
			var names []string
			for _, n := range cert.Subject.Names {
				names = append(names, fmt.Sprintf("%v=%v", n.Type, n.Value))
			}
			if diff := cmp.Diff([]string{"2.5.4.10=全国テスト労働組合", "2.5.4.3=" + g.LoginID}, names); diff != "" {
				t.Errorf("subject (-want +got):\n%s", diff)
			}
			if !key.PublicKey.Equal(cert.PublicKey) {
				t.Error("certificate key is not the CSR's")
			}
			sum := sha256.Sum256(c.DER)
			if c.Fingerprint != hex.EncodeToString(sum[:]) {
				t.Errorf("fingerprint %s, want SHA-256 of the DER", c.Fingerprint)
			}
			stored, err := r.svc.ByFingerprint(ctx, c.Fingerprint)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != certs.StatusIssued || stored.Serial != c.Serial || string(stored.DER) != string(c.DER) ||
				stored.UserID != g.ID || !stored.NotAfter.Equal(tc.wantNotAfter) || !stored.IssuedAt.Equal(tc.wantNotBefore) {
				t.Errorf("stored record %+v", stored)
			}
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(r.authority.Root)
			inter.AddCert(r.authority.Issuing)
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: tc.wantNotBefore.Add(time.Hour),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("certificate does not chain to the bank's root for client auth: %v", err)
			}
		})
	}
}

func TestIssueForRefusals(t *testing.T) {
	ctx := context.Background()
	r := newCertsRig(t, certsStart, certsRigOptions{})
	passwordOrg, passwordMaster := r.org(t, "ID方式の団体", false)
	_, master := r.org(t, "証明書方式の団体", true)
	holder := r.general(t, master)
	r.issue(t, holder)
	locked := r.general(t, master)
	for range identity.LockAfter {
		u, _ := r.user(t, locked.LoginID)
		_ = r.ident.CheckPassword(ctx, u, identity.LoginPassword, "wrong-password", "certificate login")
	}
	cases := []struct {
		name    string
		loginID string
		org     *identity.Organization
		want    error
		refused bool // recorded as certificate.refused
	}{
		{"R2 organization without certificate login", passwordMaster.LoginID, &passwordOrg, certs.ErrCertificateLoginNotEnabled, true},
		{"R6 one certificate per login ID", holder.LoginID, nil, certs.ErrActiveCertificateExists, true},
		{"locked user", locked.LoginID, nil, identity.ErrAccountLocked, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, org := r.user(t, tc.loginID)
			before := len(r.rows(t, u.ID))
			req, _ := certsCSR(t)
			if _, err := r.svc.IssueFor(ctx, u, org, req); !errors.Is(err, tc.want) {
				t.Fatalf("issue: %v, want %v", err, tc.want)
			}
			if n := len(r.rows(t, u.ID)); n != before {
				t.Errorf("certificate rows %d -> %d after a refusal", before, n)
			}
			if n := len(r.events(t, store.AuditFilter{UserID: u.ID, Type: audit.CertificateRefused})); (n == 1) != tc.refused {
				t.Errorf("refusal events %d, want recorded=%v", n, tc.refused)
			}
		})
	}

	// Issue: the password is checked, and the CSR read, before anything else.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr := []byte(testutil.NewCSR(t, key))
	u := r.general(t, master)
	for _, tc := range []struct {
		name, loginID, password string
		csr                     []byte
		want                    error
	}{
		{"wrong password", u.LoginID, "wrong-password", csr, identity.ErrInvalidCredentials},
		{"unknown login ID", "nobody99", "Login-nobody99", csr, identity.ErrInvalidCredentials},
		{"not a CSR", u.LoginID, certsPasswords(u.LoginID).Password, []byte("hello"), certs.ErrInvalidCSR},
	} {
		t.Run("Issue "+tc.name, func(t *testing.T) {
			if _, err := r.svc.Issue(ctx, tc.loginID, tc.password, netip.Addr{}, tc.csr); !errors.Is(err, tc.want) {
				t.Fatalf("issue: %v, want %v", err, tc.want)
			}
		})
	}
	c, err := r.svc.Issue(ctx, u.LoginID, certsPasswords(u.LoginID).Password, netip.Addr{}, csr)
	if err != nil {
		t.Fatalf("issue with the right password: %v", err)
	}
	if c.UserID != u.ID || c.Status != certs.StatusIssued {
		t.Errorf("issued %+v", c)
	}
}

func TestR12_RevokeByMaster(t *testing.T) {
	ctx := context.Background()
	r := newCertsRig(t, certsStart, certsRigOptions{})
	_, mA := r.org(t, "A労組", true)
	g1, g2, noCert := r.general(t, mA), r.general(t, mA), r.general(t, mA)
	_, mB := r.org(t, "B労組", true)
	gB := r.general(t, mB)
	issued := map[string]certs.Certificate{}
	for _, u := range []identity.User{mA, g1, g2, mB, gB} {
		issued[u.LoginID] = r.issue(t, u)
	}
	confirm := certsPasswords(mA.LoginID).ConfirmationPassword
	cases := []struct {
		name                 string
		actor                identity.User
		target, reason, conf string
		want                 error
	}{
		{"general user revokes another", g1, g2.LoginID, "keyCompromise", certsPasswords(g1.LoginID).ConfirmationPassword, certs.ErrForbidden},
		{"general user revokes own", g1, g1.LoginID, "keyCompromise", certsPasswords(g1.LoginID).ConfirmationPassword, certs.ErrForbidden},
		{"unknown reason", mA, g1.LoginID, "foo", confirm, certs.ErrInvalidReason},
		{"empty reason", mA, g1.LoginID, "", confirm, certs.ErrInvalidReason},
		{"reason in the wrong case", mA, g1.LoginID, "KeyCompromise", confirm, certs.ErrInvalidReason},
		{"reason not offered", mA, g1.LoginID, "certificateHold", confirm, certs.ErrInvalidReason},
		{"other organization's general user", mA, gB.LoginID, "keyCompromise", confirm, identity.ErrNotFound},
		{"other organization's master", mA, mB.LoginID, "keyCompromise", confirm, identity.ErrNotFound},
		{"unknown user", mA, "nobody99", "keyCompromise", confirm, identity.ErrNotFound},
		{"wrong confirmation password", mA, g1.LoginID, "keyCompromise", "wrong-password", identity.ErrInvalidConfirmation},
		{"login password instead of confirmation", mA, g1.LoginID, "keyCompromise", certsPasswords(mA.LoginID).Password, identity.ErrInvalidConfirmation},
		{"user without a certificate", mA, noCert.LoginID, "keyCompromise", confirm, certs.ErrNoActiveCertificate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			actor, _ := r.user(t, tc.actor.LoginID)
			if _, err := r.svc.RevokeByMaster(ctx, actor, tc.target, tc.reason, tc.conf); !errors.Is(err, tc.want) {
				t.Fatalf("revoke: %v, want %v", err, tc.want)
			}
		})
	}
	for id, c := range issued {
		if got, _ := r.svc.ByID(ctx, c.ID); got.Status != certs.StatusIssued {
			t.Fatalf("certificate of %s is %s after refused revocations", id, got.Status)
		}
	}
	if evs := r.events(t, store.AuditFilter{Type: audit.CertificateRevoked}); len(evs) != 0 {
		t.Fatalf("refused revocations recorded: %+v", evs)
	}

	t.Run("master revokes a general user's certificate", func(t *testing.T) {
		actor, _ := r.user(t, mA.LoginID)
		r.clock.Advance(time.Hour)
		got, err := r.svc.RevokeByMaster(ctx, actor, g1.LoginID, "keyCompromise", confirm)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != issued[g1.LoginID].ID || got.Status != certs.StatusRevoked || got.RevocationReason != "keyCompromise" ||
			got.RevokedBy != audit.UserActor(mA.LoginID) || !got.RevokedAt.Equal(r.clock.Now()) {
			t.Errorf("revoked %+v", got)
		}
		stored, _ := r.svc.ByID(ctx, got.ID)
		if stored.Status != certs.StatusRevoked || stored.RevocationReason != "keyCompromise" {
			t.Errorf("stored %+v", stored)
		}
		evs := r.events(t, store.AuditFilter{Type: audit.CertificateRevoked})
		if len(evs) != 1 || evs[0].Serial != got.Serial || evs[0].Actor != audit.UserActor(mA.LoginID) || evs[0].UserID != g1.ID {
			t.Errorf("revocation events %+v", evs)
		}
		if _, err := r.svc.RevokeByMaster(ctx, actor, g1.LoginID, "keyCompromise", confirm); !errors.Is(err, certs.ErrNoActiveCertificate) {
			t.Errorf("second revocation: %v, want ErrNoActiveCertificate", err)
		}
		if got, _ := r.svc.ByID(ctx, issued[g2.LoginID].ID); got.Status != certs.StatusIssued {
			t.Errorf("another user's certificate is %s", got.Status)
		}
	})

	t.Run("R13 master revokes own certificate", func(t *testing.T) {
		actor, _ := r.user(t, mA.LoginID)
		got, err := r.svc.RevokeByMaster(ctx, actor, mA.LoginID, "superseded", confirm)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != issued[mA.LoginID].ID || got.Status != certs.StatusRevoked {
			t.Errorf("revoked %+v", got)
		}
		// and may have a new one at once.
		r.issue(t, mA)
	})

	t.Run("expired certificate", func(t *testing.T) {
		r.clock.Advance(366 * 24 * time.Hour)
		actor, _ := r.user(t, mA.LoginID)
		if _, err := r.svc.RevokeByMaster(ctx, actor, g2.LoginID, "superseded", confirm); !errors.Is(err, certs.ErrNoActiveCertificate) {
			t.Errorf("revoke an expired certificate: %v, want ErrNoActiveCertificate", err)
		}
		// R11: an expired certificate does not block a new one.
		r.issue(t, g2)
	})
}

func TestR12_RevokeByBank(t *testing.T) {
	ctx := context.Background()
	r := newCertsRig(t, certsStart, certsRigOptions{})
	_, master := r.org(t, "A労組", true)
	c := r.issue(t, master)
	cases := []struct {
		name, serial, reason, ref string
		want                      error
	}{
		{"no request reference", c.Serial, "keyCompromise", "", certs.ErrRequestRefRequired},
		{"unknown reason", c.Serial, "foo", "REQ-1", certs.ErrInvalidReason},
		{"unknown serial", "0123456789abcdef", "keyCompromise", "REQ-1", certs.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.svc.RevokeByBank(ctx, tc.serial, tc.reason, "suzuki", tc.ref); !errors.Is(err, tc.want) {
				t.Fatalf("revoke: %v, want %v", err, tc.want)
			}
		})
	}
	got, err := r.svc.RevokeByBank(ctx, c.Serial, "cessationOfOperation", "suzuki", "REQ-2026-042")
	if err != nil {
		t.Fatalf("bank revokes the master's certificate: %v", err)
	}
	stored, _ := r.svc.ByID(ctx, c.ID)
	for _, x := range []certs.Certificate{got, stored} {
		if x.Status != certs.StatusRevoked || x.RequestRef != "REQ-2026-042" || x.RevokedBy != "operator:suzuki" || x.RevocationReason != "cessationOfOperation" {
			t.Errorf("revoked record %+v", x)
		}
	}
	evs := r.events(t, store.AuditFilter{Type: audit.CertificateRevoked})
	if len(evs) != 1 || evs[0].RequestRef != "REQ-2026-042" || evs[0].Actor != "operator:suzuki" || evs[0].Serial != c.Serial {
		t.Errorf("revocation events %+v", evs)
	}
	if _, err := r.svc.RevokeByBank(ctx, c.Serial, "superseded", "suzuki", "REQ-2026-043"); !errors.Is(err, certs.ErrAlreadyRevoked) {
		t.Errorf("second revocation: %v, want ErrAlreadyRevoked", err)
	}
}

func TestReasonCodeRFC5280(t *testing.T) {
	cases := []struct {
		name string
		code int
		ok   bool
	}{
		{"unspecified", ocsp.Unspecified, true},
		{"keyCompromise", ocsp.KeyCompromise, true},
		{"affiliationChanged", ocsp.AffiliationChanged, true},
		{"superseded", ocsp.Superseded, true},
		{"cessationOfOperation", ocsp.CessationOfOperation, true},
		{"cACompromise", 0, false},
		{"certificateHold", 0, false},
		{"removeFromCRL", 0, false},
		{"KeyCompromise", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, ok := certs.ReasonCode(tc.name)
			if ok != tc.ok || (ok && code != tc.code) {
				t.Errorf("ReasonCode(%q) = %d, %v; want %d, %v", tc.name, code, ok, tc.code, tc.ok)
			}
		})
	}
	// The RFC's numbers, independently of any library.
	want := map[string]int{"unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5}
	for name, code := range want {
		if got, ok := certs.ReasonCode(name); !ok || got != code {
			t.Errorf("ReasonCode(%q) = %d, %v; want %d", name, got, ok, code)
		}
	}
}

func TestDaysLeftAndValidity(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cases := []struct {
		name          string
		notAfter      time.Time
		days          int
		active, expir bool
	}{
		{"364 days and 1 hour", now.Add(364*day + time.Hour), 365, true, false},
		{"exactly 365 days", now.Add(365 * day), 365, true, false},
		{"365 days and 1 second", now.Add(365*day + time.Second), 366, true, false},
		{"40 days", now.Add(40 * day), 40, true, false},
		{"39 days and 23 hours", now.Add(39*day + 23*time.Hour), 40, true, false},
		{"1 second", now.Add(time.Second), 1, true, false},
		{"ends now", now, 0, true, false}, // notAfter is inside the validity
		{"ended a second ago", now.Add(-time.Second), 0, false, true},
		{"ended a year ago", now.AddDate(-1, 0, 0), 0, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := certs.Certificate{Status: certs.StatusIssued, NotBefore: now.AddDate(-1, 0, 0), NotAfter: tc.notAfter}
			if got := c.DaysLeft(now); got != tc.days {
				t.Errorf("DaysLeft = %d, want %d", got, tc.days)
			}
			if got := c.Active(now); got != tc.active {
				t.Errorf("Active = %v, want %v", got, tc.active)
			}
			if got := c.Expired(now); got != tc.expir {
				t.Errorf("Expired = %v, want %v", got, tc.expir)
			}
		})
	}
	t.Run("not active unless issued and begun", func(t *testing.T) {
		for _, c := range []certs.Certificate{
			{Status: certs.StatusPending, NotBefore: now, NotAfter: now.Add(day)},
			{Status: certs.StatusRevoked, NotBefore: now, NotAfter: now.Add(day)},
			{Status: certs.StatusIssued, NotBefore: now.Add(time.Second), NotAfter: now.Add(day)},
		} {
			if c.Active(now) {
				t.Errorf("%s certificate from %s is active at %s", c.Status, c.NotBefore, now)
			}
		}
	})
}
