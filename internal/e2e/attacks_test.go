package e2e_test

// Attacks that must fail, through the real TLS listeners, on both engines.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kinko/internal/auth"
	"kinko/internal/httpedge"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// TLS alerts as crypto/tls reports them to the client.
const (
	alertBadCertificate = "bad certificate"
)

// handshake opens a TLS connection to the certificate portal presenting
// cert (nil: none) whatever CAs the server names, sends nothing, and
// returns the error that ends the handshake or the first read ("" when the
// server accepted the certificate and the read timed out).
func handshake(t testing.TB, b *testutil.Bank, cert *tls.Certificate, version uint16) string {
	t.Helper()
	u, err := url.Parse(b.CertPortalURL)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{RootCAs: b.Roots, MinVersion: version, MaxVersion: version,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			return cert, nil
		}}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", u.Host, conf)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var buf [1]byte
	_, err = conn.Read(buf[:])
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return ""
	}
	if err == nil {
		return "read a byte"
	}
	return err.Error()
}

// expectAlert fails the test unless the certificate portal refuses cert in
// the TLS handshake with the given alert, in TLS 1.2 and in TLS 1.3.
func expectAlert(t testing.TB, what string, b *testutil.Bank, cert *tls.Certificate, alert string) {
	t.Helper()
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		if got := handshake(t, b, cert, v); !strings.Contains(got, "tls: "+alert) {
			t.Errorf("%s (%s): handshake ended with %q, want the alert %q", what, tls.VersionName(v), got, alert)
		}
	}
}

// forgeCA makes a CA certificate that is not the bank's, with the given
// subject and subject key identifier.
func forgeCA(t testing.TB, subject pkix.Name, skid []byte) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242), Subject: subject, SubjectKeyId: skid,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// forgeLeaf makes a client certificate for a new key, with the given serial
// and subject, signed by parent's key (self-signed when parent is nil), and
// checks it with zlint so that a refusal cannot come from a malformed
// certificate.
func forgeLeaf(t testing.TB, serial *big.Int, subject pkix.Name, notBefore, notAfter time.Time, parent *x509.Certificate, parentKey crypto.Signer, chain ...[]byte) *tls.Certificate {
	t.Helper()
	key := newKey(t)
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	skid := sha1.Sum(pub)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, SubjectKeyId: skid[:],
	}
	var signer crypto.Signer = key
	if parent == nil {
		parent = tmpl
		tmpl.AuthorityKeyId = skid[:]
	} else {
		signer = parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	testutil.LintCertificate(t, der)
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: append([][]byte{der}, chain...), PrivateKey: key, Leaf: leaf}
}

func TestAttack_CertificateFromAnotherCA(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "偽造対策労組", true)
		g := b.NewGeneralUser(t, org)
		genuine := b.IssueCertificate(t, g)
		issuing := b.Authority.Issuing

		evil, evilKey := forgeCA(t, pkix.Name{Organization: []string{"evil"}, CommonName: "Evil Root CA"}, []byte{1, 2, 3, 4})
		lookalike, lookalikeKey := forgeCA(t, issuing.Subject, issuing.SubjectKeyId)
		cases := []struct {
			name   string
			parent *x509.Certificate
			key    crypto.Signer
		}{
			{"unrelated CA", evil, evilKey},
			{"CA with the issuing CA's name and key identifier", lookalike, lookalikeKey},
			{"self-signed", nil, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var chain [][]byte
				if c.parent != nil {
					chain = append(chain, c.parent.Raw)
				}
				fake := forgeLeaf(t, genuine.Leaf.SerialNumber, genuine.Leaf.Subject, genuine.Leaf.NotBefore, genuine.Leaf.NotAfter, c.parent, c.key, chain...)
				if fake.Leaf.SerialNumber.Cmp(genuine.Leaf.SerialNumber) != 0 || fake.Leaf.Subject.String() != genuine.Leaf.Subject.String() {
					t.Fatalf("forgery differs from the real certificate: %s %s", fake.Leaf.SerialNumber, fake.Leaf.Subject)
				}
				// Sent anyway, the forgery fails the handshake.
				expectAlert(t, "forged certificate", b, fake, alertBadCertificate)
				// A browser sends only certificates of the CAs the server names:
				// then there is no certificate, and the portal says so.
				r := b.Client(fake).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password})
				if r.Err == nil {
					expect(t, "forged certificate", r, http.StatusForbidden, "certificate_required")
				}
				// Even past the chain check, no record has its fingerprint.
				if _, _, _, err := b.Services.Auth.CheckCertificate(context.Background(), fake.Leaf); !errors.Is(err, auth.ErrUnknownCertificate) {
					t.Fatalf("CheckCertificate: %v, want %v", err, auth.ErrUnknownCertificate)
				}
			})
		}
		// The real one still works: the refusals above are about the forgery.
		// Without a certificate the connection is kept, to explain.
		expect(t, "no certificate", b.Client(nil).CertPortal(http.MethodGet, pathMe, nil), http.StatusForbidden, "certificate_required")
		if got := handshake(t, b, genuine, tls.VersionTLS13); got != "" {
			t.Fatalf("real certificate: %s", got)
		}
		certLogin(t, b, genuine, g)
	})
}

func TestAttack_UnrecordedCertificateFromTheIssuingKey(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "未登録対策労組", true)
		g := b.NewGeneralUser(t, org)
		genuine := b.IssueCertificate(t, g)
		masterSubject := pkix.Name{Organization: []string{org.Name}, CommonName: org.Master.LoginID}
		now := b.Clock.Now()
		cases := []struct {
			name    string
			serial  *big.Int
			subject pkix.Name
		}{
			{"the user's serial and subject", genuine.Leaf.SerialNumber, genuine.Leaf.Subject},
			{"a new serial, the user's subject", new(big.Int).Add(genuine.Leaf.SerialNumber, big.NewInt(1)), genuine.Leaf.Subject},
			{"the master's subject", big.NewInt(77777777777), masterSubject},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// Signed with the bank's own issuing key, as a leaked key or
				// a signing bug would, but never recorded.
				fake := forgeLeaf(t, c.serial, c.subject, now, now.AddDate(1, 0, 0), b.Authority.Issuing, b.Authority.IssuingKey)
				if err := verifiedByIssuingCA(b, fake.Leaf, now); err != nil {
					t.Fatalf("the forgery should chain to the issuing CA: %v", err)
				}
				if _, _, _, err := b.Services.Auth.CheckCertificate(context.Background(), fake.Leaf); !errors.Is(err, auth.ErrUnknownCertificate) {
					t.Fatalf("CheckCertificate: %v, want %v", err, auth.ErrUnknownCertificate)
				}
				expectAlert(t, "unrecorded certificate", b, fake, alertBadCertificate)
				expectRefusedTLS(t, "unrecorded certificate", b.Client(fake).CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password}))
			})
		}
		certLogin(t, b, genuine, g)
	})
}

func TestAttack_RevokedCertificateOnOpenConnection(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "接続維持労組", true)
		m := certLogin(t, b, b.IssueCertificate(t, org.Master), org.Master)
		cases := []struct {
			name   string
			revoke func(t *testing.T, u testutil.Creds, cert *tls.Certificate)
			// sessionsLeft: the session's next request must meet the
			// revoked certificate itself
			sessionsLeft bool
		}{
			{"revoked by the master", func(t *testing.T, u testutil.Creds, _ *tls.Certificate) {
				expect(t, "revocation", revoke(m, org.Master, u.LoginID, "keyCompromise"), http.StatusOK, "")
			}, false},
			{"revoked by the bank", func(t *testing.T, _ testutil.Creds, cert *tls.Certificate) {
				if _, err := b.Services.Certs.RevokeByBank(ctx, serialOf(cert), "keyCompromise", "yamada", "REQ-2026-0300"); err != nil {
					t.Fatal(err)
				}
			}, false},
			// Sessions end with the revocation; this case leaves them in
			// place, to show that every request checks the certificate too.
			{"revoked in the database, sessions left", func(t *testing.T, _ testutil.Creds, cert *tls.Certificate) {
				if _, err := db.SQL().ExecContext(ctx, `UPDATE certificates SET status = 'revoked', active_slot = NULL, revoked_at = $1 WHERE serial = $2`,
					b.Clock.Now().UnixMicro(), serialOf(cert)); err != nil {
					t.Fatal(err)
				}
			}, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				g := b.NewGeneralUser(t, org)
				gc := b.IssueCertificate(t, g)
				kept := b.Client(gc)
				dials := keepAlive(kept)
				expect(t, "login", kept.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password}), http.StatusCreated, "")
				expect(t, "GET /api/v1/me", kept.CertPortal(http.MethodGet, pathMe, nil), http.StatusOK, "")

				c.revoke(t, g, gc)

				for _, r := range []struct {
					what string
					r    testutil.Response
				}{
					{"GET /api/v1/me on the open connection", kept.CertPortal(http.MethodGet, pathMe, nil)},
					{"POST /api/v1/me/password on the open connection",
						kept.CertPortal(http.MethodPost, "/api/v1/me/password", map[string]string{"current": g.Password, "new": "Hijacked-pass-1"})},
				} {
					if c.sessionsLeft {
						expect(t, r.what, r.r, http.StatusForbidden, "certificate_revoked")
					} else {
						expectSessionRefused(t, r.what, r.r)
					}
				}
				expect(t, "new login on the open connection", kept.CertPortal(http.MethodPost, pathSessions, map[string]string{"password": g.Password}),
					http.StatusForbidden, "certificate_revoked")
				if n := dials.Load(); n != 1 {
					t.Fatalf("%d connections, want the one opened before the revocation", n)
				}
				expect(t, "revoked certificate on a new connection", b.Client(gc).CertPortal(http.MethodGet, pathMe, nil),
					http.StatusForbidden, "certificate_revoked")
			})
		}
	})
}

func TestAttack_SessionCookieReplay(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "クッキー労組", true)
		victim := b.NewGeneralUser(t, org)
		colleague := b.NewGeneralUser(t, org)
		vc := b.IssueCertificate(t, victim)
		cc := b.IssueCertificate(t, colleague)
		otherOrg := b.NewOrg(t, "よその労組", true)
		oc := b.IssueCertificate(t, otherOrg.Master)
		pwOrg := b.NewOrg(t, "ID方式労組", false)

		vs := certLogin(t, b, vc, victim)
		certToken := cookie(t, vs, b.CertPortalURL, httpedge.CertPortalCookie)
		passwordToken := cookie(t, passwordLogin(t, b, pwOrg.Master), b.PortalURL, httpedge.PortalCookie)

		cases := []struct {
			name   string
			client *testutil.Client
			base   string
			cookie string
			status int // 0: the TLS connection is refused
			code   string
		}{
			{"certificate portal without a certificate", b.Client(nil), b.CertPortalURL, httpedge.CertPortalCookie + "=" + certToken, http.StatusForbidden, "certificate_required"},
			{"portal, as sent by the browser", b.Client(nil), b.PortalURL, httpedge.CertPortalCookie + "=" + certToken, http.StatusUnauthorized, "unauthenticated"},
			{"portal, under the portal's cookie name", b.Client(nil), b.PortalURL, httpedge.PortalCookie + "=" + certToken, http.StatusForbidden, "certificate_required"},
			{"a colleague's certificate", b.Client(cc), b.CertPortalURL, httpedge.CertPortalCookie + "=" + certToken, http.StatusForbidden, "certificate_mismatch"},
			{"another organization's certificate", b.Client(oc), b.CertPortalURL, httpedge.CertPortalCookie + "=" + certToken, http.StatusForbidden, "certificate_mismatch"},
			{"password session on the certificate portal", b.Client(cc), b.CertPortalURL, httpedge.CertPortalCookie + "=" + passwordToken, http.StatusForbidden, "certificate_mismatch"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := send(c.client, http.MethodGet, c.base+pathMe, nil, map[string]string{"Cookie": c.cookie})
				if c.status == 0 {
					expectRefusedTLS(t, "replayed cookie", r)
					return
				}
				expect(t, "replayed cookie", r, c.status, c.code)
			})
		}
		// The victim's own connection is unaffected.
		r := vs.CertPortal(http.MethodGet, pathMe, nil)
		expect(t, "victim's session", r, http.StatusOK, "")
		if r.String("login_id") != victim.LoginID {
			t.Fatalf("victim's session is %q", r.String("login_id"))
		}
	})
}

func TestAttack_RevocationAcrossOrganizationsAndRoles(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		home := b.NewOrg(t, "自団体", true)
		away := b.NewOrg(t, "他団体", true)
		hg := b.NewGeneralUser(t, home)
		ag := b.NewGeneralUser(t, away)
		hm := certLogin(t, b, b.IssueCertificate(t, home.Master), home.Master)
		hgs := certLogin(t, b, b.IssueCertificate(t, hg), hg)
		awayCerts := map[string]*tls.Certificate{away.Master.LoginID: b.IssueCertificate(t, away.Master), ag.LoginID: b.IssueCertificate(t, ag)}

		var bodies []string
		for _, c := range []struct{ name, target string }{
			{"another organization's general user", ag.LoginID},
			{"another organization's master", away.Master.LoginID},
			{"unknown login ID", "nobody999"},
		} {
			t.Run("master: "+c.name, func(t *testing.T) {
				r := revoke(hm, home.Master, c.target, "keyCompromise")
				expect(t, "revocation", r, http.StatusNotFound, "not_found")
				bodies = append(bodies, string(r.Raw))
			})
		}
		for _, body := range bodies[1:] {
			if body != bodies[0] {
				t.Fatalf("404 answers differ, telling which users exist:\n%s\n%s", bodies[0], body)
			}
		}
		t.Run("general user", func(t *testing.T) {
			r := hgs.CertPortal(http.MethodPost, revocationPath(ag.LoginID), map[string]string{"reason": "keyCompromise", "confirmation_password": hg.Confirmation})
			expect(t, "revocation by a general user", r, http.StatusForbidden, "forbidden")
		})
		if n := len(activeCertificates(t, b, away.ID)); n != 2 {
			t.Fatalf("%d active certificates in the other organization, want 2", n)
		}
		certLogin(t, b, awayCerts[ag.LoginID], ag)
		certLogin(t, b, awayCerts[away.Master.LoginID], away.Master)
	})
}

func TestAttack_UnknownLoginIDLooksLikeWrongPassword(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		pwOrg := b.NewOrg(t, "ID方式労組", false)
		certOrg := b.NewOrg(t, "証明書方式労組", true)
		p := b.NewGeneralUser(t, pwOrg)
		c := b.NewGeneralUser(t, certOrg)
		csr := testutil.NewCSR(t, newKey(t))
		attempts := []struct{ name, loginID, password string }{
			{"unknown login ID", "nobody999", "Some-password-1"},
			{"malformed login ID", "x", "Some-password-1"},
			{"wrong password, ID+password organization", p.LoginID, wrongPassword},
			{"wrong password, certificate-login organization", c.LoginID, wrongPassword},
			{"wrong password of a master", certOrg.Master.LoginID, wrongPassword},
		}
		for _, e := range []struct {
			name string
			body func(loginID, password string) map[string]string
		}{
			{"POST /api/v1/sessions", func(id, pw string) map[string]string { return map[string]string{"login_id": id, "password": pw} }},
			{"POST /api/v1/certificates", func(id, pw string) map[string]string {
				return map[string]string{"login_id": id, "password": pw, "csr": csr}
			}},
		} {
			t.Run(e.name, func(t *testing.T) {
				path := pathSessions
				if strings.Contains(e.name, "certificates") {
					path = pathCertificates
				}
				var first testutil.Response
				for i, a := range attempts {
					r := b.Client(nil).Portal(http.MethodPost, path, e.body(a.loginID, a.password))
					expect(t, a.name, r, http.StatusUnauthorized, "invalid_credentials")
					if sc := sessionCookieSet(r); sc != "" {
						t.Fatalf("%s: Set-Cookie %q", a.name, sc)
					}
					if i == 0 {
						first = r
						continue
					}
					if string(r.Raw) != string(first.Raw) {
						t.Fatalf("%s answers\n%s\nbut %s answers\n%s", a.name, r.Raw, attempts[0].name, first.Raw)
					}
				}
			})
		}
	})
}

func TestAttack_ForgedCertificateHeaders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		org := b.NewOrg(t, "ヘッダ偽造労組", true)
		victim := b.NewGeneralUser(t, org)
		attacker := b.NewGeneralUser(t, org)
		vc := b.IssueCertificate(t, victim)
		ac := b.IssueCertificate(t, attacker)
		vpem := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate[0]}))
		headers := map[string]string{
			"Content-Type":        "application/json",
			"X-Forwarded-For":     "127.0.0.1",
			"X-Real-IP":           "127.0.0.1",
			"Forwarded":           "for=127.0.0.1;proto=https",
			"Client-Cert":         ":" + base64.StdEncoding.EncodeToString(vc.Certificate[0]) + ":",
			"Client-Cert-Chain":   ":" + base64.StdEncoding.EncodeToString(b.Authority.Issuing.Raw) + ":",
			"X-SSL-Client-Cert":   url.QueryEscape(vpem),
			"X-Client-Cert":       url.QueryEscape(vpem),
			"X-SSL-Client-Verify": "SUCCESS",
			"X-SSL-Client-S-DN":   "CN=" + victim.LoginID + ",O=" + org.Name,
		}
		cases := []struct {
			name    string
			client  *testutil.Client
			url     string
			method  string
			body    any
			status  int
			code    string
			loginID string
		}{
			{"portal: GET /api/v1/me", b.Client(nil), b.PortalURL + pathMe, http.MethodGet, nil, http.StatusUnauthorized, "unauthenticated", ""},
			{"portal: login with the password only", b.Client(nil), b.PortalURL + pathSessions, http.MethodPost,
				map[string]string{"password": victim.Password}, http.StatusUnauthorized, "invalid_credentials", ""},
			{"portal: login with ID and password", b.Client(nil), b.PortalURL + pathSessions, http.MethodPost,
				map[string]string{"login_id": victim.LoginID, "password": victim.Password}, http.StatusForbidden, "certificate_login_required", ""},
			{"certificate portal: attacker's certificate, victim's password", b.Client(ac), b.CertPortalURL + pathSessions, http.MethodPost,
				map[string]string{"password": victim.Password}, http.StatusUnauthorized, "invalid_credentials", ""},
			{"certificate portal: attacker's certificate and password", b.Client(ac), b.CertPortalURL + pathSessions, http.MethodPost,
				map[string]string{"password": attacker.Password}, http.StatusCreated, "", attacker.LoginID},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var body []byte
				if c.body != nil {
					body = jsonBody(t, c.body)
				}
				r := send(c.client, c.method, c.url, body, headers)
				expect(t, c.name, r, c.status, c.code)
				if r.String("login_id") != c.loginID {
					t.Fatalf("logged in as %q, want %q", r.String("login_id"), c.loginID)
				}
				if sc := sessionCookieSet(r); c.status >= 400 && sc != "" {
					t.Fatalf("refused request set a cookie: %s", sc)
				}
			})
		}
	})
}

func TestAttack_CrossOriginAndNonJSONRequests(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBank(t, db)
		pwOrg := b.NewOrg(t, "CSRF対策労組", false)
		login := jsonBody(t, map[string]string{"login_id": pwOrg.Master.LoginID, "password": pwOrg.Master.Password})
		const evil = "https://evil.example"
		cases := []struct {
			name    string
			headers map[string]string
			status  int
			code    string
		}{
			{"cross-site fetch", map[string]string{"Origin": evil, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, http.StatusForbidden, "cross_origin"},
			{"same-site fetch", map[string]string{"Origin": "https://other.127.0.0.1.example", "Sec-Fetch-Site": "same-site", "Content-Type": "application/json"}, http.StatusForbidden, "cross_origin"},
			{"foreign Origin only", map[string]string{"Origin": evil, "Content-Type": "application/json"}, http.StatusForbidden, "cross_origin"},
			{"text/plain, as a form can send", map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"url-encoded form", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"multipart form", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"no Content-Type", map[string]string{}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
			{"same origin", map[string]string{"Origin": b.PortalURL, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json; charset=utf-8"}, http.StatusCreated, ""},
		}
		for _, c := range cases {
			t.Run("portal login/"+c.name, func(t *testing.T) {
				r := send(b.Client(nil), http.MethodPost, b.PortalURL+pathSessions, login, c.headers)
				expect(t, "login", r, c.status, c.code)
				if sc := sessionCookieSet(r); c.status != http.StatusCreated && sc != "" {
					t.Fatalf("refused login set a cookie: %s", sc)
				}
			})
		}

		// A revocation forged from another site, riding on the master's
		// session, changes nothing.
		certOrg := b.NewOrg(t, "CSRF対策証明書労組", true)
		g := b.NewGeneralUser(t, certOrg)
		gc := b.IssueCertificate(t, g)
		m := certLogin(t, b, b.IssueCertificate(t, certOrg.Master), certOrg.Master)
		revocation := jsonBody(t, map[string]string{"reason": "keyCompromise", "confirmation_password": certOrg.Master.Confirmation})
		for _, c := range cases[:len(cases)-1] {
			t.Run("revocation/"+c.name, func(t *testing.T) {
				r := send(m, http.MethodPost, b.CertPortalURL+revocationPath(g.LoginID), revocation, c.headers)
				expect(t, "revocation", r, c.status, c.code)
			})
		}
		certLogin(t, b, gc, g)
	})
}
