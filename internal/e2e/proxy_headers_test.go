package e2e_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// behindProxies returns a change of a bank's parts that trusts the
// proxies of cidrs.
func behindProxies(t testing.TB, cidrs ...string) func(*server.Parts) {
	t.Helper()
	proxies, err := httpedge.ParseProxies(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return func(p *server.Parts) { p.TrustedProxies = proxies }
}

// clientCert is the RFC 9440 Client-Cert header of cert.
func clientCert(cert *tls.Certificate) map[string]string {
	return map[string]string{"Client-Cert": ":" + base64.StdEncoding.EncodeToString(cert.Leaf.Raw) + ":"}
}

// postJSON sends body as JSON with the extra headers h through cl.
func postJSON(t testing.TB, cl *testutil.Client, url string, body any, h map[string]string) testutil.Response {
	t.Helper()
	all := map[string]string{"Content-Type": "application/json"}
	for k, v := range h {
		all[k] = v
	}
	return send(cl, http.MethodPost, url, jsonBody(t, body), all)
}

// TestProxy_ForwardedCertificateGetsTheHandshakesChecks: behind a trusted
// proxy that terminates TLS (here the test's own connections, from
// 127.0.0.1), the certificate in Client-Cert logs in and is checked on
// every request as a handshake's is: a certificate of another CA, a
// forgery of ours, one chained to the issuing CA that the bank never
// recorded and one that is not a certificate are refused; a revoked one
// is refused with the explanation a handshake's gets; the proxy's request
// without Client-Cert has no certificate, even with a session.
func TestProxy_ForwardedCertificateGetsTheHandshakesChecks(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankWith(t, db, behindProxies(t, "127.0.0.1/32"))
		org := b.NewOrg(t, "中継労組", true)
		r, masterCert := issue(t, b, org.Master)
		expect(t, "issuance", r, http.StatusCreated, "")
		g := b.NewGeneralUser(t, org)
		r, gCert := issue(t, b, g)
		expect(t, "issuance", r, http.StatusCreated, "")

		proxy := b.Client(nil)
		expect(t, "certificate login through the proxy", postJSON(t, proxy, b.CertPortalURL+pathSessions, map[string]string{"password": org.Master.Password}, clientCert(masterCert)), http.StatusCreated, "")
		me := send(proxy, http.MethodGet, b.CertPortalURL+pathMe, nil, clientCert(masterCert))
		expect(t, "me through the proxy", me, http.StatusOK, "")
		if got := me.String("login_id"); got != org.Master.LoginID {
			t.Fatalf("me = %q, want %q", got, org.Master.LoginID)
		}
		expect(t, "the session without Client-Cert", send(proxy, http.MethodGet, b.CertPortalURL+pathMe, nil, nil),
			http.StatusForbidden, "certificate_required")
		expect(t, "the session with another user's Client-Cert", send(proxy, http.MethodGet, b.CertPortalURL+pathMe, nil, clientCert(gCert)),
			http.StatusForbidden, "certificate_mismatch")

		other := testutil.NewBank(t, testutil.OpenSQLite(t))
		otherOrg := other.NewOrg(t, "よその労組", true)
		r, foreign := issue(t, other, otherOrg.Master)
		expect(t, "issuance at the other bank", r, http.StatusCreated, "")
		selfSigned := forgeLeaf(t, masterCert.Leaf.SerialNumber, masterCert.Leaf.Subject, masterCert.Leaf.NotBefore, masterCert.Leaf.NotAfter, nil, nil)
		unrecorded := forgeLeaf(t, masterCert.Leaf.SerialNumber, masterCert.Leaf.Subject, masterCert.Leaf.NotBefore, masterCert.Leaf.NotAfter,
			b.Authority.Issuing, b.Authority.IssuingKey)
		for name, h := range map[string]map[string]string{
			"another bank's certificate":              clientCert(foreign),
			"a self-signed forgery":                   clientCert(selfSigned),
			"a certificate of our CA never recorded":  clientCert(unrecorded),
			"not a byte sequence":                     {"Client-Cert": base64.StdEncoding.EncodeToString(masterCert.Leaf.Raw)},
			"not a certificate":                       {"Client-Cert": ":aGVsbG8=:"},
			"our certificate with a chain of another": {"Client-Cert": clientCert(foreign)["Client-Cert"], "Client-Cert-Chain": ":" + base64.StdEncoding.EncodeToString(other.Authority.Issuing.Raw) + ":"},
		} {
			expect(t, name, postJSON(t, b.Client(nil), b.CertPortalURL+pathSessions, map[string]string{"password": org.Master.Password}, h), http.StatusForbidden, "unknown_certificate")
		}

		if _, err := b.Services.Certs.RevokeByBank(context.Background(), serialOf(gCert), "keyCompromise", "operator", "REQ-1"); err != nil {
			t.Fatal(err)
		}
		expect(t, "a revoked certificate", postJSON(t, b.Client(nil), b.CertPortalURL+pathSessions, map[string]string{"password": g.Password}, clientCert(gCert)), http.StatusForbidden, "certificate_revoked")
		expect(t, "the master's session goes on", send(proxy, http.MethodGet, b.CertPortalURL+pathMe, nil, clientCert(masterCert)), http.StatusOK, "")
	})
}

// TestProxy_ForgedClientCertFromTheInternetIsRefused: a client that is
// not a trusted proxy writes Client-Cert itself: it has no certificate
// for it, and with a certificate of its own it is that certificate's
// holder, whatever the header says.
func TestProxy_ForgedClientCertFromTheInternetIsRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		b := testutil.NewBankWith(t, db, behindProxies(t, "10.0.0.0/8"))
		org := b.NewOrg(t, "偽装労組", true)
		r, masterCert := issue(t, b, org.Master)
		expect(t, "issuance", r, http.StatusCreated, "")
		g := b.NewGeneralUser(t, org)
		r, gCert := issue(t, b, g)
		expect(t, "issuance", r, http.StatusCreated, "")
		expect(t, "forged Client-Cert without a handshake certificate", postJSON(t, b.Client(nil), b.CertPortalURL+pathSessions, map[string]string{"password": org.Master.Password}, clientCert(masterCert)), http.StatusForbidden, "certificate_required")
		cl := certLogin(t, b, gCert, g)
		me := send(cl, http.MethodGet, b.CertPortalURL+pathMe, nil, clientCert(masterCert))
		expect(t, "me with the master's Client-Cert over g's handshake", me, http.StatusOK, "")
		if got := me.String("login_id"); got != g.LoginID {
			t.Fatalf("me = %q, want the handshake's holder %q", got, g.LoginID)
		}
	})
}

// TestProxy_ForwardedForIsBelievedToTheRightMostUntrustedHop: the login
// throttle per address counts the client a trusted proxy names, the
// right-most hop of X-Forwarded-For that is not a trusted proxy; what a
// client writes to the left of it, or sends without a trusted proxy, does
// not move it to another address.
func TestProxy_ForwardedForIsBelievedToTheRightMostUntrustedHop(t *testing.T) {
	const free = 3
	throttle := func(p *server.Parts) {
		p.Throttle = identity.Throttle{PerAddress: identity.ThrottleRule{Free: free, Base: time.Hour, Max: time.Hour, Window: 2 * time.Hour}}
	}
	fail := func(b *testutil.Bank, i int, xff string) testutil.Response {
		return postJSON(t, b.Client(nil), b.PortalURL+pathSessions, map[string]string{"login_id": "nobody-" + xff + "-" + string(rune('a'+i)), "password": wrongPassword},
			map[string]string{"X-Forwarded-For": xff})
	}
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		t.Run("behind a trusted proxy", func(t *testing.T) {
			trust := behindProxies(t, "127.0.0.1/32")
			b := testutil.NewBankWith(t, db, func(p *server.Parts) { trust(p); throttle(p) })
			for i := range free + 1 {
				expect(t, "failure", fail(b, i, "198.51.100.1, 203.0.113.9"), http.StatusUnauthorized, "invalid_credentials")
			}
			expect(t, "the client past its free failures, another spoofed hop", fail(b, free+1, "198.51.100.2, 203.0.113.9"), http.StatusTooManyRequests, "too_many_attempts")
			expect(t, "the same client without a spoofed hop", fail(b, free+2, "203.0.113.9"), http.StatusTooManyRequests, "too_many_attempts")
			expect(t, "another client of the proxy", fail(b, 0, "203.0.113.9, 203.0.113.10"), http.StatusUnauthorized, "invalid_credentials")
		})
		t.Run("without a trusted proxy", func(t *testing.T) {
			b := testutil.NewBankWith(t, db, func(p *server.Parts) { behindProxies(t, "10.0.0.0/8")(p); throttle(p) })
			for i := range free + 1 {
				expect(t, "failure", fail(b, i, "198.51.100."+string(rune('1'+i))), http.StatusUnauthorized, "invalid_credentials")
			}
			expect(t, "one more from 127.0.0.1, claiming yet another address", fail(b, free+1, "198.51.100.9"), http.StatusTooManyRequests, "too_many_attempts")
		})
	})
}
