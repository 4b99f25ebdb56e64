package cli_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveProcess is "kinko serve" in a process of its own, to which the test
// sends signals.
type serveProcess struct {
	cmd        *exec.Cmd
	stderr     *lockedBuffer
	portalAddr string
	done       chan struct{}
	exitErr    error
}

// buildKinko builds the kinko binary into a temporary directory.
func buildKinko(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kinko")
	if out, err := exec.Command("go", "build", "-o", bin, "kinko/cmd/kinko").CombinedOutput(); err != nil {
		t.Fatalf("build kinko: %v\n%s", err, out)
	}
	return bin
}

// startServe starts bin serve with config and waits until it listens.
func startServe(t *testing.T, bin, config string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, "serve", "--config", config), stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exitErr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	line := p.waitFor(t, `"msg":"listening"`)
	var l struct{ Portal string }
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("the listening line %q: %v", line, err)
	}
	p.portalAddr = strings.TrimPrefix(l.Portal, "https://")
	return p
}

// waitFor waits until the log has a line containing s (a JSON fragment)
// that it had not had in an earlier call for s, and returns that line;
// it fails if the process ends or a minute passes first.
func (p *serveProcess) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		for line := range strings.SplitSeq(p.stderr.String(), "\n") {
			if strings.Contains(line, s) {
				return line
			}
		}
		select {
		case <-p.done:
			t.Fatalf("kinko serve ended (%v) before logging %s:\n%s", p.exitErr, s, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("kinko serve did not log %s within a minute:\n%s", s, p.stderr)
		}
	}
}

// count returns how many log lines contain s.
func (p *serveProcess) count(s string) int { return strings.Count(p.stderr.String(), s) }

// waitForNth waits until n log lines contain s.
func (p *serveProcess) waitForNth(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.count(s) < n {
		select {
		case <-p.done:
			t.Fatalf("kinko serve ended (%v) before logging %s %d times:\n%s", p.exitErr, s, n, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("kinko serve did not log %s %d times within a minute:\n%s", s, n, p.stderr)
		}
	}
}

// signal sends sig to the process.
func (p *serveProcess) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to end and returns its exit status.
func (p *serveProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("kinko serve still runs two minutes after it was told to stop:\n%s", p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// serverSerial returns the serial of the certificate that a new TLS
// connection to addr is shown.
func serverSerial(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // the test compares the certificate itself
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// writeServerCertificate writes a new self-signed server certificate and
// its key over the data directory's, and returns its serial.
func writeServerCertificate(t *testing.T, dataDir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"},
	}, &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, SerialNumber: serial}, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dataDir, "pki")
	if err := os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "server.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return serial.Text(16)
}

// writeServeConfig writes a config for kinko serve on dataDir, with extra keys
// (JSON members, each followed by a comma).
func writeServeConfig(t *testing.T, path, dataDir, extra string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(`{`+extra+`
  "data_dir": "`+dataDir+`",
  "portal_addr": "127.0.0.1:0",
  "cert_portal_addr": "127.0.0.1:0",
  "pki_addr": "127.0.0.1:0",
  "operating_hours": {"daily": "00:00-24:00", "maintenance": []},
  "log_format": "json"
}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestServe_Signals runs "kinko serve" as a process of its own and sends
// it the signals of docs/signals.md.
func TestServe_Signals(t *testing.T) {
	bin := buildKinko(t)

	// SIGHUP reloads the server certificate and the config without ending
	// the process: a new TLS connection is shown the new certificate; a
	// certificate file or config that is refused is logged and the old
	// one kept.
	t.Run("SIGHUP swaps the server certificate", func(t *testing.T) {
		b := initBank(t, "")
		cfg := filepath.Join(t.TempDir(), "kinko.json")
		writeServeConfig(t, cfg, b.dir, "")
		p := startServe(t, bin, cfg)
		old := serverSerial(t, p.portalAddr)

		// A broken certificate file: refused, the old certificate kept.
		if err := os.WriteFile(filepath.Join(b.dir, "pki", "server.pem"), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
		p.signal(t, syscall.SIGHUP)
		p.waitFor(t, `"msg":"reload: server certificate refused, the old one kept"`)
		p.waitForNth(t, `"msg":"reload: config applied"`, 1)
		if got := serverSerial(t, p.portalAddr); got != old {
			t.Errorf("after a refused certificate file the server shows %s, want the old %s", got, old)
		}

		// A broken config: refused, the old one kept (the new certificate
		// is taken all the same).
		newSerial := writeServerCertificate(t, b.dir)
		if err := os.WriteFile(cfg, []byte(`{"log_level": "loud"`), 0o600); err != nil {
			t.Fatal(err)
		}
		p.signal(t, syscall.SIGHUP)
		p.waitFor(t, `"msg":"reload: config refused, the old one kept"`)
		p.waitForNth(t, `"msg":"reload: server certificate loaded"`, 1)
		if got := serverSerial(t, p.portalAddr); got != newSerial {
			t.Errorf("after SIGHUP the server shows certificate %s, want the new %s", got, newSerial)
		}

		// A good config: the log level changes at once, a listener's
		// address is named as changing at the next start.
		writeServeConfig(t, cfg, b.dir, `"log_level": "debug", "bank_code": "0009", "login_throttle_id_free": 3, "payee_checks": 50,
  "transfer_fees": {"other_branch_below_30000": 110, "other_bank_below_30000": 154},`)
		p.signal(t, syscall.SIGHUP)
		p.waitForNth(t, `"msg":"reload: config applied"`, 2)
		warn := p.waitFor(t, `"msg":"reload: these keys change only at the next start"`)
		if !strings.Contains(warn, `"keys":["bank_code"]`) {
			t.Errorf("the warning of keys for the next start: %s; want bank_code alone (log level, throttle, payee checks and fees are reloaded)", warn)
		}
		// The transfer fees in force are the new table's, the keys left
		// out the defaults.
		p.waitFor(t, `"msg":"reload: transfer fees","same_branch":[0,0],"other_branch":[110,0],"other_bank":[154,330]`)
		// A refusal is logged at debug: now it is.
		before := p.count(`"msg":"request refused"`)
		insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the new certificate is self-signed
		resp, err := insecure.Get("https://" + p.portalAddr + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		p.waitForNth(t, `"msg":"request refused"`, before+1)

		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Errorf("exit %d after SIGHUPs and SIGTERM, want 0:\n%s", code, p.stderr)
		}
	})

	// SIGTERM lets a request in flight finish, then the process exits 0
	// and logs the drain: one request in flight, no timeout, the database
	// closed.
	t.Run("SIGTERM drains the requests in flight", func(t *testing.T) {
		b := initBank(t, "")
		cfg := filepath.Join(t.TempDir(), "kinko.json")
		writeServeConfig(t, cfg, b.dir, `"shutdown_timeout": "2m",`)
		p := startServe(t, bin, cfg)

		// A login whose body the handler waits for: the 100 Continue
		// says that the handler runs.
		conn, err := tls.Dial("tcp", p.portalAddr, &tls.Config{InsecureSkipVerify: true}) // the test is about the drain, not the certificate
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"login_id":"nobody01","password":"wrong-password"}`
		fmt.Fprintf(conn, "POST /api/v1/sessions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
		br := bufio.NewReader(conn)
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
			t.Fatalf("want 100 Continue, got %q, %v", line, err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}

		p.signal(t, syscall.SIGTERM)
		shutting := p.waitFor(t, `"msg":"shutting down"`)
		if !strings.Contains(shutting, `"in_flight":1`) {
			t.Errorf("the shutdown's first line does not count the request in flight: %s", shutting)
		}
		if _, err := conn.Write([]byte(body)); err != nil {
			t.Fatalf("the rest of the request in flight: %v", err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("the request in flight got no answer: %v\n%s", err, p.stderr)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the request in flight: %d, want 401 (an unknown login ID)", resp.StatusCode)
		}
		if code := p.wait(t); code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, p.stderr)
		}
		done := p.waitFor(t, `"msg":"shut down"`)
		for _, want := range []string{`"in_flight":1`, `"timed_out":false`, `"duration":`} {
			if !strings.Contains(done, want) {
				t.Errorf("the drain's log line lacks %s: %s", want, done)
			}
		}
		p.waitFor(t, `"msg":"database closed"`)
	})
}
