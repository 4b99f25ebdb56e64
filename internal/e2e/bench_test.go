package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"kinko/internal/httpedge"
	"kinko/internal/testutil"
)

// handshakeClients is the number of client workers of the handshake
// benchmarks, as with the two workers of the bare Go reference figure.
const handshakeClients = 2

// BenchmarkCertificateRequest measures GET /api/v1/me on the certificate
// portal, each on a new TLS connection without session resumption, with a
// client certificate and a certificate-login session: the full handshake,
// the certificate's database check in VerifyConnection, the session, the
// bound certificate and its revocation check, and the JSON answer.
// BenchmarkBareTLSHandshake is the same work for a bare Go TLS server.
func BenchmarkCertificateRequest(b *testing.B) {
	bank := testutil.NewBank(b, testutil.OpenSQLite(b))
	org := bank.NewOrg(b, "ベンチ労働組合", true)
	user := bank.NewGeneralUser(b, org)
	cert := bank.IssueCertificate(b, user)
	login := bank.Client(cert).CertPortal(http.MethodPost, "/api/v1/sessions", map[string]string{"password": user.Password})
	if login.Status != http.StatusCreated {
		b.Fatalf("certificate login: %d %s %v", login.Status, login.Raw, login.Err)
	}
	var token string
	for _, line := range login.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == httpedge.CertPortalCookie {
			token = c.Value
		}
	}
	if token == "" {
		b.Fatalf("certificate login set no %s cookie", httpedge.CertPortalCookie)
	}
	benchmarkFreshConnections(b, bank.CertPortalURL+"/api/v1/me", bank.Roots, cert,
		&http.Cookie{Name: httpedge.CertPortalCookie, Value: token}, `"login_id":"`+user.LoginID+`"`, nil)
}

// BenchmarkBareTLSHandshake is the reference for BenchmarkCertificateRequest:
// a bare Go TLS server (tls.Listen, TLS 1.2+, RequireAndVerifyClientCert
// against the client-issuing CA) with the same server certificate and the
// same client certificate, answering each request with a small fixed HTTP
// response and closing the connection. The client side is the same.
func BenchmarkBareTLSHandshake(b *testing.B) {
	bank := testutil.NewBank(b, testutil.OpenSQLite(b))
	org := bank.NewOrg(b, "ベンチ労働組合", true)
	user := bank.NewGeneralUser(b, org)
	cert := bank.IssueCertificate(b, user)
	// The listeners' own certificate.
	serverCert := bank.ServerCert
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(bank.Authority.Issuing)
	var wg sync.WaitGroup
	addr := bareTLSServer(b, serverCert, clientCAs, &wg)
	benchmarkFreshConnections(b, "https://"+addr+"/", bank.Roots, cert, nil, `"ok":true`, nil)
}

// bareTLSServer starts the bare Go TLS server of the reference figures
// (tls.Listen, TLS 1.2+, RequireAndVerifyClientCert against clientCAs)
// that answers each connection's request with a small fixed HTTP response
// and closes it; it stops when the test ends.
func bareTLSServer(tb testing.TB, serverCert tls.Certificate, clientCAs *x509.CertPool, wg *sync.WaitGroup) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	const body = `{"ok":true}` + "\n"
	response := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveOnce(conn, response) })
		}
	})
	return ln.Addr().String()
}

// serveOnce completes the handshake, reads one request head and writes
// response.
func serveOnce(conn net.Conn, response []byte) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	_, _ = conn.Write(response)
}

// benchmarkFreshConnections sends b.N GETs to url from handshakeClients
// workers, each on a new TLS connection (no keep-alive, no session
// resumption) presenting cert, and checks that each answer is 200 and
// contains want. serverCPU, when not nil, reads the CPU time of a server
// in another process, which cpu-µs/op then counts with this process's.
func benchmarkFreshConnections(b *testing.B, url string, roots *x509.CertPool, cert *tls.Certificate, cookie *http.Cookie, want string, serverCPU func() time.Duration) {
	b.Helper()
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{
				MinVersion:   tls.VersionTLS12,
				RootCAs:      roots,
				Certificates: []tls.Certificate{*cert},
				// No ClientSessionCache: every connection is a full handshake.
			},
			DisableKeepAlives: true,
		}}
	}
	get := func(c *http.Client) error {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode != http.StatusOK:
			return errors.New(resp.Status + ": " + string(body))
		case !strings.Contains(string(body), want):
			return errors.New("unexpected answer: " + string(body))
		case resp.TLS == nil || resp.TLS.DidResume || len(resp.TLS.PeerCertificates) == 0:
			return errors.New("not a full TLS handshake")
		}
		return nil
	}
	if err := get(newClient()); err != nil {
		b.Fatal(err)
	}

	var left atomic.Int64
	left.Store(int64(b.N))
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	outside := serverCPU != nil
	if !outside {
		serverCPU = func() time.Duration { return 0 }
	}
	serverStart := serverCPU()
	cpu := processCPU() + serverStart
	for range handshakeClients {
		wg.Go(func() {
			c := newClient()
			for left.Add(-1) >= 0 {
				if err := get(c); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	serverEnd := serverCPU()
	cpu = processCPU() + serverEnd - cpu
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if outside {
		b.ReportMetric(float64((serverEnd-serverStart).Microseconds())/float64(b.N), "server-cpu-µs/op")
	}
}

// processCPU returns the CPU time (user and system) the process has used:
// client and server together, since both run here. Unlike the rate, it
// hardly depends on what else the machine is doing.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
