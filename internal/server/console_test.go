package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/httpedge"
	"kinko/internal/pki"
	"kinko/internal/server"
)

// operators is the test's stand-in for the bank's record of operators'
// certificates: the check a console handshake runs accepts the exact
// certificates recorded (by fingerprint) and not revoked.
type operators struct {
	mu      sync.Mutex
	allowed map[string]bool
	checked []string // the common names checked, in order
}

func newOperators() *operators { return &operators{allowed: map[string]bool{}} }

func (o *operators) record(c *x509.Certificate) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.allowed[pki.Fingerprint(c.Raw)] = true
}

func (o *operators) revoke(c *x509.Certificate) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.allowed, pki.Fingerprint(c.Raw))
}

func (o *operators) checks() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.checked...)
}

var errNotAnOperator = errors.New("not a recorded operator certificate")

func (o *operators) check(_ context.Context, c *x509.Certificate) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.checked = append(o.checked, c.Subject.CommonName)
	if !o.allowed[pki.Fingerprint(c.Raw)] {
		return errNotAnOperator
	}
	return nil
}

// consoleHandler answers with the operator's name and the fingerprint of
// the certificate httpedge finds on the console's request.
var consoleHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c := httpedge.Console.PeerCertificate(r)
	if c == nil {
		http.Error(w, "no certificate", http.StatusForbidden)
		return
	}
	fmt.Fprintf(w, "operator=%s fingerprint=%s", c.Subject.CommonName, pki.Fingerprint(c.Raw))
})

// consoleBank is a server with a console listener, the operator CA of its
// authority, and a way to make customers' certificates.
type consoleBank struct {
	p      server.Parts
	srv    *server.Server
	ops    *operators
	opCA   *pki.OperatorCA
	log    *syncBuffer
	client *x509.CertPool // the bank's root, which clients trust
}

func newConsoleBank(t *testing.T) *consoleBank {
	t.Helper()
	b := &consoleBank{p: parts(t), ops: newOperators(), log: &syncBuffer{}}
	b.p.Logger = slog.New(slog.NewTextHandler(b.log, nil))
	b.p.Console = func(*server.Services, string) (http.Handler, server.ConsoleCheck, error) {
		return consoleHandler, b.ops.check, nil
	}
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0",
		Ops: "127.0.0.1:0", Console: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if b.srv, err = server.New(b.p, ln); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	b.opCA = b.srv.Services.OperatorCA
	if b.opCA == nil {
		t.Fatal("Services.OperatorCA is nil on a server with a console")
	}
	b.client = x509.NewCertPool()
	b.client.AddCert(b.p.Authority.Root)
	serve(t, b.srv)
	return b
}

// operator issues an operator's certificate and records it.
func (b *consoleBank) operator(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	c, key, err := b.opCA.Issue(name, name+" san", time.Now().Add(-time.Minute), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.ops.record(c)
	return &tls.Certificate{Certificate: [][]byte{c.Raw, b.opCA.Cert.Raw}, PrivateKey: key, Leaf: c}
}

// customer issues a customer's certificate with the client-issuing CA.
func (b *consoleBank) customer(t *testing.T, loginID string) *tls.Certificate {
	t.Helper()
	return customerCertificate(t, b.p.Authority, loginID)
}

func customerCertificate(t *testing.T, a *pki.Authority, loginID string) *tls.Certificate {
	t.Helper()
	iss, err := pki.NewIssuer(a.Issuing, a.IssuingKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := pki.NewSerial(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	prep, err := iss.Prepare(pki.Request{Serial: serial, PublicKey: key.Public(), Organization: "server test bank",
		CommonName: loginID, NotBefore: now, NotAfter: now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := iss.Sign(prep)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{c.Raw, a.Issuing.Raw}, PrivateKey: key, Leaf: c}
}

// foreignCertificate is a client certificate of a CA the bank does not
// know, with the same names as the bank's operator CA.
func foreignCertificate(t *testing.T, name string) *tls.Certificate {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"server test bank"},
		CommonName: "server test bank Operator CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{Organization: []string{"server test bank"}, CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}
}

// clientTLS is a client's TLS configuration that trusts the bank's root
// and sends cert (none when nil) whatever the server asks for, recording
// the CAs the server named.
func clientTLS(roots *x509.CertPool, cert *tls.Certificate, asked *[][]byte) *tls.Config {
	return &tls.Config{RootCAs: roots, ServerName: "127.0.0.1",
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if asked != nil {
				*asked = cri.AcceptableCAs
			}
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			return cert, nil
		}}
}

// get makes one request on a new connection with tc.
func get(addr string, tc *tls.Config) (*http.Response, string, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// waitLog waits for a line of the log that holds every one of want.
func waitLog(t *testing.T, log *syncBuffer, want ...string) {
	t.Helper()
	for range 200 {
		for line := range strings.SplitSeq(log.String(), "\n") {
			all := true
			for _, w := range want {
				all = all && strings.Contains(line, w)
			}
			if all {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Errorf("no log line with %q:\n%s", want, log.String())
}

// TestConsole_AnOperatorsCertificateIsAcceptedAndTheHandlerSeesIt: an
// operator's certificate of the operator CA opens the console; the
// handler finds that very certificate; the console asks for the operator
// CA alone; every answer carries the portals' strict headers.
func TestConsole_AnOperatorsCertificateIsAcceptedAndTheHandlerSeesIt(t *testing.T) {
	b := newConsoleBank(t)
	sato := b.operator(t, "sato")
	var asked [][]byte
	resp, body, err := get(b.srv.ConsoleAddr().String(), clientTLS(b.client, sato, &asked))
	if err != nil {
		t.Fatalf("an operator's certificate was refused: %v", err)
	}
	if want := "operator=sato fingerprint=" + pki.Fingerprint(sato.Leaf.Raw); resp.StatusCode != http.StatusOK || body != want {
		t.Errorf("%d %q, want 200 %q", resp.StatusCode, body, want)
	}
	if len(asked) != 1 || !bytes.Equal(asked[0], b.opCA.Cert.RawSubject) {
		t.Errorf("the console names %d CAs, want the operator CA alone", len(asked))
	}
	if got := b.ops.checks(); len(got) != 1 || got[0] != "sato" {
		t.Errorf("checks %v, want one of sato", got)
	}
	if resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", resp.TLS.Version)
	}

	// The portal's strict headers, the same policy as its pages'.
	portal, _, err := get(b.srv.PortalAddr().String(), clientTLS(b.client, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Strict-Transport-Security", "X-Frame-Options", "Referrer-Policy"} {
		if got, want := resp.Header.Get(h), portal.Header.Get(h); got == "" || got != want {
			t.Errorf("the console's %s = %q, want the portal's %q", h, got, want)
		}
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if u, want := b.srv.ConsoleURL(), "https://"+b.srv.ConsoleAddr().String(); u != want {
		t.Errorf("ConsoleURL = %q, want %q", u, want)
	}
	waitLog(t, b.log, "msg=request", "listener=console", "operator=sato", "client_serial="+sato.Leaf.SerialNumber.Text(16))
}

// TestConsole_RefusesEveryCertificateButAnOperatorsInTheHandshake: a
// customer's certificate of the client-issuing CA, a certificate of a
// foreign CA that copies the operator CA's name, and no certificate at
// all fail the handshake, before the check or the handler; each refusal is
// logged with its reason.
func TestConsole_RefusesEveryCertificateButAnOperatorsInTheHandshake(t *testing.T) {
	b := newConsoleBank(t)
	for _, tc := range []struct {
		name   string
		cert   *tls.Certificate
		reason string
	}{
		{"customer", b.customer(t, "tanaka01"), server.RefusedClientCertificateUntrusted},
		{"foreign CA", foreignCertificate(t, "sato"), server.RefusedClientCertificateUntrusted},
		{"no certificate", nil, server.RefusedClientCertificateMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				tc2 := clientTLS(b.client, tc.cert, nil)
				tc2.MaxVersion = v
				if resp, body, err := get(b.srv.ConsoleAddr().String(), tc2); err == nil {
					t.Fatalf("TLS %x: the console answered %d %q", v, resp.StatusCode, body)
				}
			}
			waitLog(t, b.log, `msg="TLS handshake refused"`, "listener=console", "reason="+tc.reason)
		})
	}
	if got := b.ops.checks(); len(got) != 0 {
		t.Errorf("the check ran for %v: refused certificates must not reach it", got)
	}
}

// TestConsole_TheCheckRefusingFailsTheHandshake: a revoked operator's
// certificate, though of the operator CA, is refused in the handshake.
func TestConsole_TheCheckRefusingFailsTheHandshake(t *testing.T) {
	b := newConsoleBank(t)
	sato := b.operator(t, "sato")
	b.ops.revoke(sato.Leaf)
	if resp, body, err := get(b.srv.ConsoleAddr().String(), clientTLS(b.client, sato, nil)); err == nil {
		t.Fatalf("a revoked operator's certificate was accepted: %d %q", resp.StatusCode, body)
	}
	waitLog(t, b.log, `msg="TLS handshake refused"`, "listener=console", "reason="+server.RefusedClientCertificateUnknown,
		`operator \"sato\"`)
	// An operator CA's certificate that was never recorded: the same.
	b2 := b.operator(t, "suzuki")
	b.ops.revoke(b2.Leaf)
	if _, _, err := get(b.srv.ConsoleAddr().String(), clientTLS(b.client, b2, nil)); err == nil {
		t.Fatal("an unrecorded operator certificate was accepted")
	}
}

// TestConsoleTLSConfig_TheCheckRunsOnResumedSessions: with TLS 1.2 and
// 1.3, a session resumed from a ticket runs the check again: once the
// operator is revoked, a client that resumes its session is refused.
func TestConsoleTLSConfig_TheCheckRunsOnResumedSessions(t *testing.T) {
	p := parts(t)
	ceremony, err := pki.LoadWithRoot(p.Authority.Dir, p.Authority.Dir)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := ceremony.ServerCertificate([]string{"localhost", "127.0.0.1"}, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opCA, err := pki.LoadOperatorCA(p.Authority.Dir)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.Authority.Root)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			ops := newOperators()
			cfg := server.ConsoleTLSConfig(serverCert, opCA.Pool(), time.Now, ops.check)
			var mu sync.Mutex
			var resumed []bool
			verify := cfg.VerifyConnection
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				mu.Lock()
				resumed = append(resumed, cs.DidResume)
				mu.Unlock()
				return verify(cs)
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						if c.(*tls.Conn).Handshake() == nil {
							fmt.Fprintln(c, "ok")
						}
					}()
				}
			}()
			c, key, err := opCA.Issue("sato", "佐藤", time.Now().Add(-time.Minute), nil)
			if err != nil {
				t.Fatal(err)
			}
			ops.record(c)
			tc := clientTLS(roots, &tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: key}, nil)
			tc.MinVersion, tc.MaxVersion = v, v
			tc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			dial := func() (bool, error) {
				conn, err := tls.Dial("tcp", ln.Addr().String(), tc)
				if err != nil {
					return false, err
				}
				defer conn.Close()
				line, err := bufio.NewReader(conn).ReadString('\n')
				if err != nil {
					return false, err
				}
				if line != "ok\n" {
					return false, fmt.Errorf("read %q", line)
				}
				return conn.ConnectionState().DidResume, nil
			}
			if res, err := dial(); err != nil || res {
				t.Fatalf("first connection: resumed %v, %v", res, err)
			}
			if res, err := dial(); err != nil || !res {
				t.Fatalf("second connection: resumed %v, %v; want a resumed session", res, err)
			}
			if got := ops.checks(); len(got) != 2 {
				t.Errorf("the check ran %d times for two connections, one resumed", len(got))
			}
			ops.revoke(c)
			if _, err := dial(); err == nil {
				t.Fatal("a revoked operator resumed a session")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(resumed) != 3 || !resumed[2] {
				t.Errorf("VerifyConnection saw resumptions %v, want the third connection resumed", resumed)
			}
		})
	}
}

// TestConsole_OperatorCertificatesOpenNoPortal: the portal never asks for
// a certificate, so an operator's is no credential there; the certificate
// portal names the client-issuing CA alone and refuses an operator's
// certificate in its handshake.
func TestConsole_OperatorCertificatesOpenNoPortal(t *testing.T) {
	b := newConsoleBank(t)
	sato := b.operator(t, "sato")
	var asked [][]byte
	tc := clientTLS(b.client, sato, &asked)
	tc.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = append(asked, []byte("called"))
		return sato, nil
	}
	if _, _, err := get(b.srv.PortalAddr().String(), tc); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 0 {
		t.Error("the portal asked for a client certificate")
	}
	resp2, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}).Get("https://" + b.srv.PortalAddr().String() + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Errorf("the portal's /api/v1/me with an operator's certificate: %d, want 401", resp2.StatusCode)
	}

	asked = nil
	if resp, body, err := get(b.srv.CertPortalAddr().String(), clientTLS(b.client, sato, &asked)); err == nil {
		t.Fatalf("the certificate portal accepted an operator's certificate: %d %q", resp.StatusCode, body)
	}
	if len(asked) != 1 || !bytes.Equal(asked[0], b.p.Authority.Issuing.RawSubject) {
		t.Errorf("the certificate portal names %d CAs, want the client-issuing CA alone", len(asked))
	}
	waitLog(t, b.log, `msg="TLS handshake refused"`, "listener=cert-portal", "reason="+server.RefusedClientCertificateUntrusted)
	if got := b.ops.checks(); len(got) != 0 {
		t.Errorf("the console's check ran %d times (%v); the portals must not run it", len(got), got)
	}
}

// TestConsole_NeedsTheOperatorCA: a server with a console address and an
// authority without the operator CA does not start, and says how to make
// it; without a console address it starts and has no console.
func TestConsole_NeedsTheOperatorCA(t *testing.T) {
	p := parts(t)
	for _, f := range []string{pki.OperatorCertFile, pki.OperatorKeyFile} {
		if err := os.Remove(filepath.Join(p.Authority.Dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	p.Console = func(*server.Services, string) (http.Handler, server.ConsoleCheck, error) {
		return consoleHandler, newOperators().check, nil
	}
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0", Console: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(p, ln)
	ln.Close()
	if err == nil {
		srv.Close()
		t.Fatal("a console without the operator CA started")
	}
	if !errors.Is(err, pki.ErrNoOperatorCA) || !strings.Contains(err.Error(), "kinko ca operator") {
		t.Errorf("error %q, want ErrNoOperatorCA naming kinko ca operator", err)
	}

	srv = newServer(t, p)
	defer srv.Close()
	if srv.ConsoleAddr() != nil || srv.ConsoleURL() != "" || srv.Services.OperatorCA != nil {
		t.Errorf("a server without a console address has one: %v %q", srv.ConsoleAddr(), srv.ConsoleURL())
	}
}

// TestConsole_NeedsAHandler: a console listener with nothing to serve on
// it is a mistake of the wiring, refused.
func TestConsole_NeedsAHandler(t *testing.T) {
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0", Console: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if srv, err := server.New(parts(t), ln); err == nil {
		srv.Close()
		t.Fatal("a console listener without a console handler started")
	}
}

// TestConsole_ShutsDownWithTheOthersAndIsCounted: the console's requests
// are counted under its own listener label, and a shutdown closes it with
// the other listeners.
func TestConsole_ShutsDownWithTheOthersAndIsCounted(t *testing.T) {
	b := &consoleBank{p: parts(t), ops: newOperators(), log: &syncBuffer{}}
	b.p.Console = func(*server.Services, string) (http.Handler, server.ConsoleCheck, error) {
		return consoleHandler, b.ops.check, nil
	}
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0",
		Ops: "127.0.0.1:0", Console: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(b.p, ln)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	b.srv, b.opCA = srv, srv.Services.OperatorCA
	b.client = x509.NewCertPool()
	b.client.AddCert(b.p.Authority.Root)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	sato := b.operator(t, "sato")
	if _, _, err := get(srv.ConsoleAddr().String(), clientTLS(b.client, sato, nil)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + srv.OpsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `kinko_http_requests_total{listener="console"`) {
		t.Errorf("no request counted for the console:\n%s", metrics)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if c, err := net.DialTimeout("tcp", srv.ConsoleAddr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the console still accepts connections after the shutdown")
	}
}

// TestConsole_TLS12OffersAEADSuitesOnly: a TLS 1.2 client offering only
// CBC suites is refused by the console; one offering an AEAD suite gets in.
func TestConsole_TLS12OffersAEADSuitesOnly(t *testing.T) {
	b := newConsoleBank(t)
	sato := b.operator(t, "sato")
	cbc := clientTLS(b.client, sato, nil)
	cbc.MaxVersion = tls.VersionTLS12
	cbc.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
	if _, _, err := get(b.srv.ConsoleAddr().String(), cbc); err == nil {
		t.Error("the console agreed on a CBC suite")
	}
	aead := clientTLS(b.client, sato, nil)
	aead.MaxVersion = tls.VersionTLS12
	aead.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	resp, _, err := get(b.srv.ConsoleAddr().String(), aead)
	if err != nil {
		t.Fatalf("TLS 1.2 with an AEAD suite: %v", err)
	}
	if resp.TLS.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("suite %s, want the AEAD one", tls.CipherSuiteName(resp.TLS.CipherSuite))
	}
	waitLog(t, b.log, `msg="TLS handshake refused"`, "listener=console", "reason="+server.RefusedCipherSuite)
}
