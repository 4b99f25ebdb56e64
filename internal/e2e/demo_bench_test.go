package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kinko/internal/pki"
	"kinko/internal/testutil"
)

// demoRounds is how many times BenchmarkDemoRequest measures kinko and the
// bare server in turn.
const demoRounds = 5

// BenchmarkDemoRequest is what a user's client sees: GET /api/v1/me on new
// mutual-TLS connections (no keep-alive, no resumption) from this process,
// against `kinko demo` running in a process of its own with its default
// settings (its log included), and against a bare Go TLS server in a
// process of its own that serves kinko's own server certificate and key
// from the demo's data directory and asks for the same client
// certificate. Only the work behind the handshake differs. The two are
// measured in turn, demoRounds times each, in one run:
//
//	go test -run '^$' -bench DemoRequest -benchtime 2s -cpu 2 ./internal/e2e/
//
// cpu-µs/op counts the client's CPU and the server process's together,
// server-cpu-µs/op the server's alone.
//
// With KINKO_BENCH_BEFORE naming a kinko binary built from an earlier
// commit, each round measures that one's demo too ("before"), so that a
// change is measured against the code before it in the same run.
func BenchmarkDemoRequest(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "kinko")
	if out, err := exec.Command("go", "build", "-o", bin, "kinko/cmd/kinko").CombinedOutput(); err != nil {
		b.Fatalf("build kinko: %v\n%s", err, out)
	}
	now := startDemo(b, bin, filepath.Join(dir, "now"), "--pki-addr", "127.0.0.1:0")
	var before *runningDemo
	if old := os.Getenv("KINKO_BENCH_BEFORE"); old != "" {
		before = startDemo(b, old, filepath.Join(dir, "before"))
	}
	data := now.data

	bareCmd := exec.Command(os.Args[0], "-test.run", "^TestBareTLSServerProcess$")
	bareCmd.Env = append(os.Environ(), "KINKO_BARE_TLS_SERVER="+filepath.Join(data, "pki"))
	bareOut, err := bareCmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := bareCmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stopProcess(bareCmd) })
	line, err := bufio.NewReader(bareOut).ReadString('\n')
	if err != nil {
		b.Fatalf("the bare server did not start: %v", err)
	}
	bareAddr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		b.Fatalf("the bare server said %q", line)
	}

	for round := 1; round <= demoRounds; round++ {
		b.Run(fmt.Sprintf("kinko/round=%d", round), now.measure)
		if before != nil {
			b.Run(fmt.Sprintf("before/round=%d", round), before.measure)
		}
		b.Run(fmt.Sprintf("bare/round=%d", round), func(b *testing.B) {
			benchmarkFreshConnections(b, "https://"+bareAddr+"/", now.roots, now.cert, nil, `"ok":true`, processCPUOf(bareCmd.Process.Pid))
		})
	}
}

// runningDemo is a kinko demo in its own process, with a certificate of
// one of its users and that user's session.
type runningDemo struct {
	cmd    *exec.Cmd
	data   string
	file   demoFile
	roots  *x509.CertPool
	cert   *tls.Certificate
	cookie *http.Cookie
	user   string
}

// startDemo starts `bin demo` on a data directory of its own, with every
// listener on a free port, issues a certificate to a general user of the
// organization with certificate login and logs that user in.
func startDemo(b *testing.B, bin, data string, extra ...string) *runningDemo {
	b.Helper()
	if err := os.MkdirAll(data, 0o700); err != nil {
		b.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(data, "demo.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	args := append([]string{"demo", "--data", data, "--portal-addr", "127.0.0.1:0", "--cert-addr", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stopProcess(cmd) })
	d := &runningDemo{cmd: cmd, data: data, file: waitForDemo(b, data), roots: x509.NewCertPool()}
	caPEM, err := os.ReadFile(d.file.ServerCA)
	if err != nil {
		b.Fatal(err)
	}
	d.roots.AppendCertsFromPEM(caPEM)
	u := d.file.Organizations[0].Users[1] // a general user of the organization with certificate login
	d.user = u.LoginID
	d.cert = enrollDemoCertificate(b, d.file, d.roots, u.LoginID, u.Password)
	d.cookie = demoLogin(b, d.file, d.roots, d.cert, u.Password)
	return d
}

// measure is one sub-benchmark of GET /api/v1/me against the demo.
func (d *runningDemo) measure(b *testing.B) {
	benchmarkFreshConnections(b, d.file.CertPortalURL+"/api/v1/me", d.roots, d.cert, d.cookie,
		`"login_id":"`+d.user+`"`, processCPUOf(d.cmd.Process.Pid))
}

// TestBareTLSServerProcess is the bare server of BenchmarkDemoRequest, in a
// process of its own: it runs only when that benchmark starts it.
func TestBareTLSServerProcess(t *testing.T) {
	pkiDir := os.Getenv("KINKO_BARE_TLS_SERVER")
	if pkiDir == "" {
		t.Skip("the bare server of BenchmarkDemoRequest; it runs only when the benchmark starts it")
	}
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, pki.ServerCertFile), filepath.Join(pkiDir, pki.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, pki.IssuingCertFile))
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)
	var wg sync.WaitGroup
	addr := bareTLSServer(t, serverCert, clientCAs, &wg)
	fmt.Printf("listening on %s\n", addr)
	// Serve until the benchmark ends this process.
	select {}
}

// waitForDemo waits until the demo has written demo.json.
func waitForDemo(b *testing.B, data string) demoFile {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		raw, err := os.ReadFile(filepath.Join(data, "demo.json"))
		if err == nil {
			var f demoFile
			if err := json.Unmarshal(raw, &f); err != nil {
				b.Fatalf("demo.json: %v", err)
			}
			return f
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("the demo wrote no demo.json within 2 minutes")
	return demoFile{}
}

// demoFile is the part of demo.json the benchmark reads.
type demoFile struct {
	PortalURL     string `json:"portal_url"`
	CertPortalURL string `json:"cert_portal_url"`
	ServerCA      string `json:"server_ca"`
	Organizations []struct {
		Users []struct {
			LoginID  string `json:"login_id"`
			Password string `json:"password"`
		} `json:"users"`
	} `json:"organizations"`
}

// demoPost sends a JSON POST and returns the answer's status, body and
// cookies.
func demoPost(b *testing.B, c *http.Client, url string, body any) (int, map[string]any, []*http.Cookie) {
	b.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := c.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		b.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Cookies()
}

// enrollDemoCertificate issues a certificate for a demo user through the
// portal's API, with a key made here.
func enrollDemoCertificate(b *testing.B, f demoFile, roots *x509.CertPool, loginID, password string) *tls.Certificate {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	status, body, _ := demoPost(b, c, f.PortalURL+"/api/v1/certificates",
		map[string]string{"login_id": loginID, "password": password, "csr": testutil.NewCSR(b, key)})
	if status != http.StatusCreated {
		b.Fatalf("issue a certificate for %s: %d %v", loginID, status, body)
	}
	s, _ := body["certificate"].(string)
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		b.Fatalf("no certificate in %v", body)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf}
}

// demoLogin logs in with cert and returns the session cookie.
func demoLogin(b *testing.B, f demoFile, roots *x509.CertPool, cert *tls.Certificate, password string) *http.Cookie {
	b.Helper()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{*cert}}}}
	status, body, cookies := demoPost(b, c, f.CertPortalURL+"/api/v1/sessions", map[string]string{"password": password})
	if status != http.StatusCreated || len(cookies) == 0 {
		b.Fatalf("certificate login: %d %v", status, body)
	}
	return cookies[0]
}

// processCPUOf returns a function that reads the CPU time (user and
// system) that process pid has used, from /proc.
func processCPUOf(pid int) func() time.Duration {
	return func() time.Duration {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// The fields after the command's closing parenthesis; utime and
		// stime are the 14th and 15th of the line, in clock ticks (100 a
		// second on Linux).
		_, rest, ok := strings.Cut(string(raw), ") ")
		if !ok {
			return 0
		}
		fields := strings.Fields(rest)
		if len(fields) < 13 {
			return 0
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		return time.Duration(utime+stime) * 10 * time.Millisecond
	}
}

// stopProcess ends a process that the benchmark started.
func stopProcess(c *exec.Cmd) {
	if c.Process == nil {
		return
	}
	_ = c.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.Process.Kill()
		<-done
	}
}
