package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// HAProxyEnv, when set, makes the tests with a real HAProxy mandatory
// (CI sets it): without haproxy on the PATH they fail instead of skipping.
const HAProxyEnv = "KINKO_TEST_HAPROXY"

// proxyAddr is the address HAProxy connects to kinko from, the only one
// that kinko trusts; the tests' clients reach kinko directly from
// 127.0.0.1, which it does not trust.
const proxyAddr = "127.0.0.2"

// haproxyBinary returns the path of haproxy, or skips the test.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv(HAProxyEnv) != "" {
			t.Fatalf("%s is set but haproxy is not installed: %v", HAProxyEnv, err)
		}
		t.Skipf("HAProxy tests skipped: install haproxy (Debian package haproxy), or set %s to make them mandatory", HAProxyEnv)
	}
	return bin
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// threeServers starts three kinko servers of one bank (one authority, one
// server certificate, one clock) on one new PostgreSQL schema, each
// trusting proxyAddr, with the PROXY protocol when proxyProtocol; it
// returns them and their logs.
func threeServers(t *testing.T, proxyProtocol bool) ([]*testutil.Bank, []*logBuffer) {
	t.Helper()
	dsn := testutil.PostgresDSN(t)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	trust := behindProxies(t, proxyAddr+"/32")
	logs := []*logBuffer{{}, {}, {}}
	first := testutil.NewBankWith(t, open(), func(p *server.Parts) {
		trust(p)
		p.ProxyProtocol = proxyProtocol
		p.Logger = slog.New(slog.NewTextHandler(logs[0], nil))
	})
	banks := []*testutil.Bank{first}
	for i := 1; i < 3; i++ {
		banks = append(banks, testutil.NewBankWith(t, open(), func(p *server.Parts) {
			trust(p)
			p.ProxyProtocol = proxyProtocol
			p.Logger = slog.New(slog.NewTextHandler(logs[i], nil))
			p.Authority, p.ServerCert, p.Now = first.Authority, &first.ServerCert, first.Clock.Now
		}))
	}
	return banks, logs
}

// haproxy runs HAProxy with config until the test ends, and waits until
// it accepts connections at every port of ports.
func haproxy(t *testing.T, config string, ports ...int) *bytes.Buffer {
	t.Helper()
	bin := haproxyBinary(t)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, config)
	}
	var logs syncWriter
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy:\n%s", logs.String())
		}
	})
	for _, port := range ports {
		for i := 0; ; i++ {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err == nil {
				c.Close()
				break
			}
			if i == 100 {
				t.Fatalf("haproxy does not listen on %d: %v\n%s", port, err, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return &logs.buf
}

type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// writePEMFile writes PEM blocks to a new file in dir.
func writePEMFile(t *testing.T, dir, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b bytes.Buffer
	for _, bl := range blocks {
		if err := pem.Encode(&b, bl); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// hostPort is a bank's listener address without its scheme.
func hostPort(u string) string { return u[strings.Index(u, "://")+3:] }

// certPortals are the certificate portals' addresses of banks.
func certPortals(banks []*testutil.Bank) []string {
	var out []string
	for _, b := range banks {
		out = append(out, hostPort(b.CertPortalURL))
	}
	return out
}

// terminatingConfig is HAProxy terminating TLS for the certificate portal
// at port with serverCert: it verifies the client's certificate against
// the authority's CAs and sends it to kinko in Client-Cert, over TLS, from
// proxyAddr, to the servers at backends, with health checks, retries and
// redispatch.
func terminatingConfig(t *testing.T, a *pki.Authority, serverCert tls.Certificate, backends []string, port int) string {
	t.Helper()
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(serverCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	crt := writePEMFile(t, dir, "server.pem", &pem.Block{Type: "CERTIFICATE", Bytes: serverCert.Certificate[0]}, &pem.Block{Type: "PRIVATE KEY", Bytes: key})
	clientCA := writePEMFile(t, dir, "client-ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: a.Issuing.Raw}, &pem.Block{Type: "CERTIFICATE", Bytes: a.Root.Raw})
	root := writePEMFile(t, dir, "root.pem", &pem.Block{Type: "CERTIFICATE", Bytes: a.Root.Raw})
	var servers strings.Builder
	for i, addr := range backends {
		fmt.Fprintf(&servers, "    server kinko%d %s source %s ssl verify required ca-file %s check inter 100ms fall 1 rise 2\n",
			i+1, addr, proxyAddr, root)
	}
	return fmt.Sprintf(`global
    log stderr format short local0 info
    maxconn 256

defaults
    log global
    mode http
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors

frontend cert_portal
    bind 127.0.0.1:%d ssl crt %s ca-file %s verify required
    http-request del-header Client-Cert-Chain
    http-request set-header Client-Cert :%%[ssl_c_der,base64]:
    http-request disable-l7-retry if !METH_GET !METH_HEAD
    option forwardfor
    default_backend kinko_cert_portal

backend kinko_cert_portal
    balance roundrobin
%s`, port, crt, clientCA, servers.String())
}

// passThroughConfig is HAProxy in TCP mode in front of both portals at
// portalPort and certPortalPort, sending the PROXY protocol v2 from
// proxyAddr to the three servers.
func passThroughConfig(banks []*testutil.Bank, portalPort, certPortalPort int) string {
	var portal, cert strings.Builder
	for i, bank := range banks {
		fmt.Fprintf(&portal, "    server kinko%d %s source %s send-proxy-v2 check inter 100ms fall 1 rise 2\n", i+1, hostPort(bank.PortalURL), proxyAddr)
		fmt.Fprintf(&cert, "    server kinko%d %s source %s send-proxy-v2 check inter 100ms fall 1 rise 2\n", i+1, hostPort(bank.CertPortalURL), proxyAddr)
	}
	return fmt.Sprintf(`global
    log stderr format short local0 info
    maxconn 256

defaults
    log global
    mode tcp
    option tcplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 3
    option redispatch 1

frontend portal
    bind 127.0.0.1:%d
    default_backend kinko_portal

frontend cert_portal
    bind 127.0.0.1:%d
    default_backend kinko_cert_portal

backend kinko_portal
    balance roundrobin
%s
backend kinko_cert_portal
    balance roundrobin
%s`, portalPort, certPortalPort, portal.String(), cert.String())
}

// servedBy checks that each server logged a request line of the
// certificate portal with every one of want in it.
func servedBy(t *testing.T, logs []*logBuffer, want ...string) {
	t.Helper()
	for i, l := range logs {
		found := false
		for line := range strings.Lines(l.String()) {
			ok := strings.Contains(line, "msg=request ") && strings.Contains(line, "listener=cert-portal")
			for _, w := range want {
				ok = ok && strings.Contains(line, w)
			}
			found = found || ok
		}
		if !found {
			t.Errorf("server %d logged no request with %q:\n%s", i+1, want, l.String())
		}
	}
}

// viaProxy returns a client of bank b presenting cert whose requests go to
// url through the proxy.
func viaProxy(b *testutil.Bank, cert *tls.Certificate, keepAlive bool) *testutil.Client {
	cl := b.Client(cert)
	cl.HTTP.Transport.(*http.Transport).DisableKeepAlives = !keepAlive
	return cl
}

// TestProxy_HAProxyTerminatingTLS: HAProxy terminates TLS, verifies the
// client certificate and sends it in Client-Cert to three servers on one
// PostgreSQL. A certificate login through it holds on every server; the
// certificate revoked through one server directly is refused through the
// proxy on the next request; the proxy's client address is the client's.
func TestProxy_HAProxyTerminatingTLS(t *testing.T) {
	haproxyBinary(t)
	banks, logs := threeServers(t, false)
	port := freePort(t)
	haproxy(t, terminatingConfig(t, banks[0].Authority, banks[0].ServerCert, certPortals(banks), port), port)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	one, two := banks[0], banks[1]

	org := one.NewOrg(t, "負荷分散労組", true)
	r, masterCert := issue(t, one, org.Master)
	expect(t, "issuance", r, http.StatusCreated, "")
	g := one.NewGeneralUser(t, org)
	r, gCert := issue(t, one, g)
	expect(t, "issuance", r, http.StatusCreated, "")

	cl := viaProxy(one, gCert, false)
	expect(t, "certificate login through HAProxy", cl.Do(http.MethodPost, base+pathSessions, map[string]string{"password": g.Password}), http.StatusCreated, "")
	for i := range 6 { // twice round the three servers, a new connection each time
		me := cl.Do(http.MethodGet, base+pathMe, nil)
		expect(t, fmt.Sprintf("request %d through HAProxy", i+1), me, http.StatusOK, "")
		if me.String("login_id") != g.LoginID {
			t.Fatalf("me = %s, want %s", me.Raw, g.LoginID)
		}
	}
	servedBy(t, logs, "path="+pathMe+" status=200", "remote="+proxyAddr+":", "client=127.0.0.1 ", "client_serial="+serialOf(gCert))
	// HAProxy replaces a Client-Cert the client writes itself.
	me := send(cl, http.MethodGet, base+pathMe, nil, clientCert(masterCert))
	expect(t, "a client's own Client-Cert through HAProxy", me, http.StatusOK, "")
	if me.String("login_id") != g.LoginID {
		t.Fatalf("me = %s with the master's Client-Cert written by the client, want %s", me.Raw, g.LoginID)
	}

	master := certLogin(t, two, masterCert, org.Master)
	expect(t, "revocation through the second server directly", revoke(master, org.Master, g.LoginID, "keyCompromise"), http.StatusOK, "")
	expect(t, "the next request through HAProxy", cl.Do(http.MethodGet, base+pathMe, nil), http.StatusForbidden, "certificate_revoked")
}

// TestProxy_HAProxyPassingTCPThrough: HAProxy passes TCP through to both
// portals of three servers with the PROXY protocol v2; TLS and the client
// certificate are end to end. A certificate login holds, a revocation
// through one server directly is refused through the proxy on the next
// request, and the servers see the client's own address.
func TestProxy_HAProxyPassingTCPThrough(t *testing.T) {
	haproxyBinary(t)
	banks, logs := threeServers(t, true)
	portalPort, certPort := freePort(t), freePort(t)
	haproxy(t, passThroughConfig(banks, portalPort, certPort), portalPort, certPort)
	portal, cert := fmt.Sprintf("https://127.0.0.1:%d", portalPort), fmt.Sprintf("https://127.0.0.1:%d", certPort)
	one, two := banks[0], banks[1]

	org := one.NewOrg(t, "素通し労組", true)
	// Issuance through the proxy, on the portal.
	key := newKey(t)
	r := viaProxy(one, nil, false).Do(http.MethodPost, portal+pathCertificates, map[string]string{
		"login_id": org.Master.LoginID, "password": org.Master.Password, "csr": testutil.NewCSR(t, key)})
	expect(t, "issuance through HAProxy", r, http.StatusCreated, "")
	masterCert := testutil.CertificateFromResponse(t, r, key)
	g := one.NewGeneralUser(t, org)
	r, gCert := issue(t, one, g)
	expect(t, "issuance", r, http.StatusCreated, "")

	cl := viaProxy(one, gCert, false)
	// The client comes from 127.0.0.3: the servers must see that address.
	cl.HTTP.Transport.(*http.Transport).DialContext = (&net.Dialer{Timeout: 10 * time.Second,
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 3)}}).DialContext
	expect(t, "certificate login through HAProxy", cl.Do(http.MethodPost, cert+pathSessions, map[string]string{"password": g.Password}), http.StatusCreated, "")
	for i := range 6 {
		expect(t, fmt.Sprintf("request %d through HAProxy", i+1), cl.Do(http.MethodGet, cert+pathMe, nil), http.StatusOK, "")
	}
	servedBy(t, logs, "path="+pathMe+" status=200", "remote=127.0.0.3:", "client=127.0.0.3 ", "client_serial="+serialOf(gCert))
	master := certLogin(t, two, masterCert, org.Master)
	expect(t, "revocation through the second server directly", revoke(master, org.Master, g.LoginID, "keyCompromise"), http.StatusOK, "")
	expect(t, "the next request through HAProxy", cl.Do(http.MethodGet, cert+pathMe, nil), http.StatusForbidden, "certificate_revoked")
}

// TestProxy_HAProxyLosesNothingWhenAServerStops: four clients, each with
// its own certificate login through HAProxy terminating TLS, loop GET
// /api/v1/me while one of the three servers stops. At most the requests
// in flight at that moment (one per client) may fail; no session is lost,
// and every client goes on.
func TestProxy_HAProxyLosesNothingWhenAServerStops(t *testing.T) {
	haproxyBinary(t)
	banks, _ := threeServers(t, false)
	port := freePort(t)
	haproxy(t, terminatingConfig(t, banks[0].Authority, banks[0].ServerCert, certPortals(banks), port), port)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	one := banks[0]
	org := one.NewOrg(t, "停止労組", true)

	var cls []*testutil.Client
	for range 4 {
		u := one.NewGeneralUser(t, org)
		r, c := issue(t, one, u)
		expect(t, "issuance", r, http.StatusCreated, "")
		cl := viaProxy(one, c, true)
		expect(t, "certificate login through HAProxy", cl.Do(http.MethodPost, base+pathSessions, map[string]string{"password": u.Password}), http.StatusCreated, "")
		cls = append(cls, cl)
	}

	loseNothing(t, cls, base+pathMe, banks[1].Stop)
}

// loseNothing has each client of cls loop GET url, calls event after the
// first 100 requests, and stops 300 requests later. A request refused
// with 401 or 403 is a session lost, which fails the test; more failed
// requests than the clients (each had at most one in flight at the
// event) fail it too. Every client must then still be served.
func loseNothing(t *testing.T, cls []*testutil.Client, url string, event func()) {
	t.Helper()
	clients := int64(len(cls))
	var (
		done     atomic.Bool
		requests atomic.Int64
		failed   atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []string
		lost     []string
	)
	for i, cl := range cls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				r := cl.Do(http.MethodGet, url, nil)
				requests.Add(1)
				switch {
				case r.Err == nil && r.Status == http.StatusOK:
				case r.Err == nil && (r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden):
					mu.Lock()
					lost = append(lost, fmt.Sprintf("client %d: %d %s", i, r.Status, r.Raw))
					mu.Unlock()
				default:
					failed.Add(1)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("client %d: %d %v %s", i, r.Status, r.Err, r.Raw))
					mu.Unlock()
				}
			}
		}()
	}
	waitFor := func(n int64) {
		for requests.Load() < n {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(100)
	event()
	stoppedAt := requests.Load()
	waitFor(stoppedAt + 300)
	done.Store(true)
	wg.Wait()

	if len(lost) > 0 {
		t.Errorf("sessions lost: %q", lost)
	}
	if n := failed.Load(); n > clients {
		t.Errorf("%d of %d requests failed, more than the %d in flight at the event: %q", n, requests.Load(), clients, failures)
	}
	for i, cl := range cls {
		expect(t, fmt.Sprintf("client %d after the event", i), cl.Do(http.MethodGet, url, nil), http.StatusOK, "")
	}
	t.Logf("%d requests, %d failed", requests.Load(), failed.Load())
}
