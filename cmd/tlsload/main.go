// Command tlsload measures requests on new mutual-TLS connections, from a
// process of its own, for docs/performance.md. It is a measuring tool, not
// part of the bank.
//
//	tlsload client -url URL -cert C.pem -key C.key -ca ROOT.pem [-login-password P] [-server-pid PID]
//
// sends GET URL from -workers goroutines for -duration, each request on a
// new TLS connection (no keep-alive, no session resumption) presenting the
// client certificate. With -login-password it first logs in on the
// certificate portal (POST /api/v1/sessions) and sends the session cookie.
// It prints the rate, the client's CPU time per request and, with
// -server-pid, the server process's.
//
//	tlsload bare -addr ADDR -cert server.pem -key server.key -client-ca client-ca.pem
//
// is the reference: a bare Go TLS server (tls.Listen, TLS 1.2+,
// RequireAndVerifyClientCert against the client-issuing CA) that reads each
// request's head and writes a small fixed answer.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsload client|bare [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "client":
		err = client(os.Args[2:])
	case "bare":
		err = bare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlsload:", err)
		os.Exit(1)
	}
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	target := fs.String("url", "", "URL to GET")
	certFile := fs.String("cert", "", "client certificate (PEM)")
	keyFile := fs.String("key", "", "client key (PEM)")
	caFile := fs.String("ca", "", "CA of the server's certificate (PEM)")
	password := fs.String("login-password", "", "log in on the certificate portal with this login password first")
	workers := fs.Int("workers", 2, "concurrent connections")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure")
	serverPID := fs.Int("server-pid", 0, "process whose CPU time to report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	if !roots.AppendCertsFromPEM(pem) {
		return errors.New("no certificate in " + *caFile)
	}
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: []tls.Certificate{cert}},
			// No ClientSessionCache: every connection is a full handshake.
			DisableKeepAlives: true,
		}}
	}
	var cookie *http.Cookie
	if *password != "" {
		if cookie, err = login(newClient(), *target, *password); err != nil {
			return err
		}
	}
	get := func(c *http.Client) error {
		req, err := http.NewRequest(http.MethodGet, *target, nil)
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
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		if resp.TLS == nil || resp.TLS.DidResume {
			return errors.New("not a full TLS handshake")
		}
		return nil
	}
	if err := get(newClient()); err != nil {
		return err
	}
	var n atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	stop := time.Now().Add(*duration)
	cpu, scpu := ownCPU(), processCPU(*serverPID)
	start := time.Now()
	for range *workers {
		wg.Go(func() {
			c := newClient()
			for time.Now().Before(stop) {
				if err := get(c); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, scpu = ownCPU()-cpu, processCPU(*serverPID)-scpu
	if err := failed.Load(); err != nil {
		return *err
	}
	reqs := float64(n.Load())
	fmt.Printf("%d requests in %s: %.0f req/s, client %.0f cpu-µs/req", n.Load(), elapsed.Round(time.Millisecond),
		reqs/elapsed.Seconds(), float64(cpu.Microseconds())/reqs)
	if *serverPID != 0 {
		fmt.Printf(", server %.0f cpu-µs/req", float64(scpu.Microseconds())/reqs)
	}
	fmt.Println()
	return nil
}

// login logs in on the certificate portal of target with the connection's
// certificate and password, and returns the session cookie.
func login(c *http.Client, target, password string) (*http.Cookie, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	u.Path, u.RawQuery = "/api/v1/sessions", ""
	body, err := json.Marshal(map[string]string{"password": password})
	if err != nil {
		return nil, err
	}
	resp, err := c.Post(u.String(), "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("login: %s %s", resp.Status, b)
	}
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "__Host-kinko-cert-session") {
			return &http.Cookie{Name: c.Name, Value: c.Value}, nil
		}
	}
	return nil, errors.New("login: no session cookie")
}

func bare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	certFile := fs.String("cert", "", "server certificate (PEM)")
	keyFile := fs.String("key", "", "server key (PEM)")
	caFile := fs.String("client-ca", "", "CA that client certificates must chain to (PEM)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no certificate in " + *caFile)
	}
	ln, err := tls.Listen("tcp", *addr, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s, pid %d\n", ln.Addr(), os.Getpid())
	const body = `{"ok":true}` + "\n"
	response := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveOnce(conn, response)
	}
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

// ownCPU returns the CPU time (user and system) this process has used.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU returns the CPU time of process pid from /proc (0 when pid is
// 0 or unreadable).
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th of them, in clock ticks (100/s).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
