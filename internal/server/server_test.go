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
	"encoding/pem"
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

	"kinko/internal/calendar"
	"kinko/internal/notify"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/testutil"
)

// parts are the least a server needs: a database and an authority.
func parts(t *testing.T) server.Parts {
	t.Helper()
	return partsAt(t, time.Now())
}

// partsAt are parts whose authority and stored server certificate are
// made at at, by the ceremony: the server loads neither the root key nor
// anything it signs but the stored certificate.
func partsAt(t *testing.T, at time.Time) server.Parts {
	t.Helper()
	dir := t.TempDir()
	if err := pki.Create(dir, pki.CreateOptions{Name: "server test bank", Now: at}); err != nil {
		t.Fatal(err)
	}
	ceremony, err := pki.LoadWithRoot(dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ceremony.ServerCertificate([]string{"localhost", "127.0.0.1"}, at, nil); err != nil {
		t.Fatal(err)
	}
	a, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return server.Parts{DB: testutil.OpenSQLite(t), Authority: a, Hasher: testutil.FastHasher,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func port(t *testing.T, a net.Addr) int {
	t.Helper()
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta.Port == 0 {
		t.Fatalf("address %v: want a TCP address with the port taken", a)
	}
	return ta.Port
}

// newServer builds a server from p on listeners at free ports of
// 127.0.0.1; the caller serves or closes it.
func newServer(t *testing.T, p server.Parts) *server.Server {
	t.Helper()
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(p, ln)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	return srv
}

// TestListen_PortZeroForEach: every listener takes a free port of its own
// with port 0, so that several servers run side by side; New knows every
// address from the start and puts the PKI listener's into the CRL and OCSP
// URLs of the certificates it issues.
func TestListen_PortZeroForEach(t *testing.T) {
	srv := newServer(t, parts(t))
	defer srv.Close()
	ports := map[int]bool{port(t, srv.PortalAddr()): true, port(t, srv.CertPortalAddr()): true, port(t, srv.PKIAddr()): true}
	if len(ports) != 3 {
		t.Fatalf("the listeners share a port: %v %v %v", srv.PortalAddr(), srv.CertPortalAddr(), srv.PKIAddr())
	}
	if got, want := srv.Services.Parts.PKIURL, "http://"+srv.PKIAddr().String(); got != want {
		t.Errorf("PKI URL %q, want the PKI listener's %q", got, want)
	}
}

// TestListen_PKIOnThePortalsHost: without a PKI address, the PKI listener
// takes any free port on the portal's host.
func TestListen_PKIOnThePortalsHost(t *testing.T) {
	ln, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if a := ln.PKI.Addr().(*net.TCPAddr); !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port == 0 {
		t.Fatalf("PKI listener on %v, want 127.0.0.1 and a free port", a)
	}
}

// TestListen_AddressInUse: a second server on an address that is taken is
// refused with the listener named, and closes what it had opened.
func TestListen_AddressInUse(t *testing.T) {
	first, err := server.Listen(server.Addrs{Portal: "127.0.0.1:0", CertPortal: "127.0.0.1:0", PKI: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	portalAddr := free.Addr().String()
	free.Close()
	_, err = server.Listen(server.Addrs{Portal: portalAddr, CertPortal: first.CertPortal.Addr().String(), PKI: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "certificate portal listener") {
		t.Fatalf("Listen on a taken certificate portal address: %v, want an error naming that listener", err)
	}
	// The portal listener that the refused server had opened is closed.
	again, err := net.Listen("tcp", portalAddr)
	if err != nil {
		t.Fatalf("the refused server kept the portal's address %s: %v", portalAddr, err)
	}
	again.Close()
}

// TestServe_StopsWhenDone: Serve answers until its context is done, then
// returns nil and closes every listener.
func TestServe_StopsWhenDone(t *testing.T) {
	srv := newServer(t, parts(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	crl := "http://" + srv.PKIAddr().String() + "/pki/crl"
	resp, err := http.Get(crl)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", crl, resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after its context was done")
	}
	for _, a := range []net.Addr{srv.PortalAddr(), srv.CertPortalAddr(), srv.PKIAddr()} {
		if c, err := net.DialTimeout("tcp", a.String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%v still accepts connections after Serve returned", a)
		}
	}
}

// TestNew_WarnsOfMissingHolidays: a server whose holiday data lacks the
// year ahead says so at start-up, naming the year and what to do; one
// that lacks the present year says so as an error.
func TestNew_WarnsOfMissingHolidays(t *testing.T) {
	for _, tt := range []struct {
		name  string
		years string // the holiday file's years
		level string
	}{
		{"year ahead missing", "%[1]d/1/1,元日\n", "WARN"},
		{"present year missing", "%[2]d/1/1,元日\n", "ERROR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
			h, err := calendar.LoadHolidays(strings.NewReader(fmt.Sprintf(tt.years, now.Year(), now.Year()+1)))
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			p := partsAt(t, now)
			p.Calendar, p.Now = calendar.New(h), func() time.Time { return now }
			p.Logger = slog.New(slog.NewTextHandler(&log, nil))
			newServer(t, p).Close()
			missing := fmt.Sprint(now.Year() + 1)
			if tt.level == "ERROR" {
				missing = fmt.Sprint(now.Year())
			}
			out := log.String()
			if !strings.Contains(out, "level="+tt.level) || !strings.Contains(out, "holiday data") ||
				!strings.Contains(out, missing) || !strings.Contains(out, "holidays_file") {
				t.Fatalf("start-up log does not say at %s that %s is missing and what to do:\n%s", tt.level, missing, out)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer that a serving server may log to while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve serves srv until the test ends.
func serve(t *testing.T, srv *server.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestRequestID_HeaderAndLogLine: through the real listeners, every
// response carries X-Request-ID and the request's log line names the same
// ID; a client's own X-Request-ID is replaced unless its connection comes
// from a trusted proxy.
func TestRequestID_HeaderAndLogLine(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted bool
	}{{"untrusted peer", false}, {"trusted proxy", true}} {
		t.Run(tt.name, func(t *testing.T) {
			var log syncBuffer
			p := parts(t)
			p.Logger = slog.New(slog.NewTextHandler(&log, nil))
			if tt.trusted {
				p.TrustRequestID = func(*http.Request) bool { return true }
			}
			srv := newServer(t, p)
			serve(t, srv)
			req, err := http.NewRequest(http.MethodGet, "http://"+srv.PKIAddr().String()+"/pki/crl", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Request-ID", "client-chosen-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get("X-Request-ID")
			if kept := id == "client-chosen-1"; kept != tt.trusted {
				t.Errorf("X-Request-ID of the response %q: kept the client's = %v, want %v", id, kept, tt.trusted)
			}
			if !tt.trusted && (len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "") {
				t.Errorf("X-Request-ID of the response %q, want 32 hex digits", id)
			}
			// The log line is written once the handler returns, which may
			// be just after the client has its answer.
			var line string
			for range 100 {
				for l := range strings.SplitSeq(log.String(), "\n") {
					if strings.Contains(l, "msg=request ") && strings.Contains(l, "path=/pki/crl") {
						line = l
					}
				}
				if line != "" {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if !strings.Contains(line, " request_id="+id) {
				t.Errorf("the request's log line does not carry request_id=%s:\n%s", id, log.String())
			}
		})
	}
	// Inside the handlers the request's context carries the ID (audit
	// events written there take it from it): the refusal's log line,
	// logged by the API with the request's context, names it.
	t.Run("refusal inside the handler", func(t *testing.T) {
		var log syncBuffer
		p := parts(t)
		p.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		srv := newServer(t, p)
		serve(t, srv)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the certificate is not the point
		resp, err := c.Get("https://" + srv.PortalAddr().String() + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Request-ID")
		if resp.StatusCode != http.StatusUnauthorized || id == "" {
			t.Fatalf("GET /api/v1/me without a session: %d, X-Request-ID %q; want 401 and an ID", resp.StatusCode, id)
		}
		// The refusal is logged before its answer is written.
		refusal := ""
		for l := range strings.SplitSeq(log.String(), "\n") {
			if strings.Contains(l, `msg="request refused"`) {
				refusal = l
			}
		}
		if !strings.Contains(refusal, "request_id="+id) {
			t.Errorf("the refusal's log line does not carry request_id=%s:\n%s", id, log.String())
		}
	})
}

// TestHandshakeRefused_LoggedAtInfoWithReasonAndClient: through the real
// certificate portal, a handshake with a client certificate of another CA
// is refused and logged at info with its reason and the client's address,
// and so is one of the bank's issuing CA that the bank has no record of
// (with its serial), and a client that speaks plain HTTP to the portal.
func TestHandshakeRefused_LoggedAtInfoWithReasonAndClient(t *testing.T) {
	var log syncBuffer
	p := parts(t)
	p.Logger = slog.New(slog.NewTextHandler(&log, nil))
	srv := newServer(t, p)
	serve(t, srv)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "stranger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	foreign, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	// Signed by the bank's issuing CA, but never issued by the bank.
	tmpl.SerialNumber = big.NewInt(0x7e57)
	unrecorded, err := x509.CreateCertificate(rand.Reader, tmpl, p.Authority.Issuing, key.Public(), p.Authority.IssuingKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, der := range [][]byte{foreign, unrecorded} {
		// GetClientCertificate: sent although the server names another CA.
		cert := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
		conn, err := tls.Dial("tcp", srv.CertPortalAddr().String(), &tls.Config{InsecureSkipVerify: true, // the server's certificate is not the point
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }})
		if err == nil {
			// TLS 1.3: the client learns of the refusal on its first read.
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		if err == nil {
			t.Fatal("a client certificate that the bank did not issue was accepted")
		}
	}
	plain, err := net.Dial("tcp", srv.PortalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(plain, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_, _ = io.ReadAll(plain)
	plain.Close()

	for _, want := range []string{
		`level=INFO msg="TLS handshake refused" listener=cert-portal reason=client_certificate_untrusted client=127.0.0.1:`,
		`level=INFO msg="TLS handshake refused" listener=cert-portal reason=client_certificate_unknown client=127.0.0.1:`,
		`serial 7e57: `,
		`level=INFO msg="TLS handshake refused" listener=portal reason=not_tls client=127.0.0.1:`,
	} {
		found := false
		for range 200 {
			if found = strings.Contains(log.String(), want); found {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		if !found {
			t.Errorf("no log line %s:\n%s", want, log.String())
		}
	}
}

// holdRequest starts a login on the portal whose body never comes, and
// returns once its handler runs (the server's 100 Continue says so).
func holdRequest(t *testing.T, portal string) net.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", portal, &tls.Config{InsecureSkipVerify: true}) // the certificate is not the point
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprint(conn, "POST /api/v1/sessions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"+
		"Content-Length: 40\r\nExpect: 100-continue\r\n\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q, %v", line, err)
	}
	return conn
}

// TestServe_ShutdownTimeoutCutsOff: a request still in flight when the
// shutdown timeout ends is cut off; Serve returns nil and logs the drain
// as timed out, with the request counted.
func TestServe_ShutdownTimeoutCutsOff(t *testing.T) {
	var log syncBuffer
	p := parts(t)
	p.Logger = slog.New(slog.NewTextHandler(&log, nil))
	p.Hours = testutil.AlwaysOpen
	p.ShutdownTimeout = time.Second
	srv := newServer(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	holdRequest(t, srv.PortalAddr().String())
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return after its shutdown timeout")
	}
	out := log.String()
	for _, want := range []string{
		`level=INFO msg="shutting down" in_flight=1 timeout=1s`,
		`level=WARN msg="shut down: requests cut off at the timeout" in_flight=1 `,
		` timed_out=true cut_off=1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the shutdown's log lacks %s:\n%s", want, out)
		}
	}
}

// TestLoadCertificate_RefusesWhatClientsWouldRefuse: a reload takes a
// certificate only with its own key and while it is valid.
func TestLoadCertificate_RefusesWhatClientsWouldRefuse(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	write := func(name string, notAfter time.Time) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
			NotBefore: now.Add(-48 * time.Hour), NotAfter: notAfter, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
			t.Fatal(err)
		}
		return certFile, keyFile
	}
	goodCert, goodKey := write("good", now.Add(time.Hour))
	expiredCert, expiredKey := write("expired", now.Add(-time.Hour))
	if c, err := server.LoadCertificate(goodCert, goodKey, now); err != nil || c.Leaf == nil {
		t.Fatalf("a valid pair: %v", err)
	}
	for name, files := range map[string][2]string{
		"expired":       {expiredCert, expiredKey},
		"another's key": {goodCert, expiredKey},
		"missing":       {filepath.Join(dir, "none.pem"), goodKey},
	} {
		if _, err := server.LoadCertificate(files[0], files[1], now); err == nil {
			t.Errorf("%s: taken, want refused", name)
		}
	}
}

// TestSetMail_ChangesTheSenderOfTheNextRun: the mail settings of a running
// server change the sender that the mail job uses from its next run.
func TestSetMail_ChangesTheSenderOfTheNextRun(t *testing.T) {
	p := parts(t)
	p.MailDir = t.TempDir()
	srv := newServer(t, p)
	defer srv.Close()
	if s := srv.Services.MailSender(); s == nil || s.From != "kinko@localhost" {
		t.Fatalf("sender at start %+v, want one into the mail directory from kinko@localhost", s)
	}
	smtp := &notify.SMTP{Host: "smtp.bank.example", Port: 587, From: "noreply@bank.example"}
	srv.SetMail(server.Mail{SMTP: smtp, From: "Bank <noreply@bank.example>"})
	s := srv.Services.MailSender()
	if s.Transport != smtp || s.From != "Bank <noreply@bank.example>" {
		t.Errorf("after SetMail: transport %v, from %q; want the new SMTP server and From", s.Transport, s.From)
	}
	srv.SetMail(server.Mail{})
	if _, ok := srv.Services.MailSender().Transport.(notify.Dir); !ok {
		t.Errorf("after SetMail without SMTP: transport %T, want the mail directory again", srv.Services.MailSender().Transport)
	}
}

// TestNew_WarnsOfAServerCertificateAboutToExpire: the server never renews
// its certificate itself (the root key is not here); within 30 days of
// its end a start says so.
func TestNew_WarnsOfAServerCertificateAboutToExpire(t *testing.T) {
	made := time.Now().AddDate(0, 0, -380)
	for _, tt := range []struct {
		name string
		now  time.Time
		warn bool
	}{
		{"fresh", made.AddDate(0, 0, 1), false},
		{"16 days left", made.AddDate(0, 0, 380), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			p := partsAt(t, made)
			p.Now = func() time.Time { return tt.now }
			p.Logger = slog.New(slog.NewTextHandler(&log, nil))
			newServer(t, p).Close()
			if got := strings.Contains(log.String(), "server certificate expires soon"); got != tt.warn {
				t.Errorf("warned %v, want %v:\n%s", got, tt.warn, log.String())
			}
		})
	}
}
