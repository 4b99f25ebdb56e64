package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// floodClients is how many clients flood the login at once.
const floodClients = 200

// legitDeadline is how long the legitimate login may take, flood going on.
const legitDeadline = time.Minute

// floodFor is how long a flood lasts; KINKO_FLOOD_SECONDS changes it.
func floodFor() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("KINKO_FLOOD_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 6 * time.Second
}

// BenchmarkLoginFlood is item 1 of the hardening: floodClients clients
// log in at once, again and again, with unknown login IDs (each a new one)
// on the portal's API, against `kinko demo` in a process of its own with
// its default settings, for floodFor. Meanwhile, a second into the flood,
// a user of an organization without certificate login logs in from
// 127.0.0.2 with the right password, waiting out Retry-After when the
// answer is 503 or 429; the flood goes on until that login has its
// answer (legitDeadline at most). Two floods, each against a demo of its
// own:
//
//   - one-address: the floodClients requests at once over one HTTP/2
//     connection from 127.0.0.1;
//   - many-addresses: one connection from each of floodClients loopback
//     addresses 127.0.1.N, so that no limit per address takes part.
//
// Reported: peak-RSS-MB (the demo's VmHWM and sampled VmRSS, from /proc),
// idle-RSS-MB before the flood, legit-login-ok (1 or 0), legit-login-ms
// (from the first try to the session), legit-tries, and the floods'
// answers by status (n401, n429, n503, nother, nfailed: no HTTP answer).
// Run it once:
//
//	go test -run '^$' -bench LoginFlood -benchtime 1x -cpu 2 -timeout 30m ./internal/e2e/
//
// With KINKO_BENCH_BEFORE naming a kinko binary built from an earlier
// commit, each flood also runs against that one's demo ("before").
func BenchmarkLoginFlood(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "kinko")
	if out, err := exec.Command("go", "build", "-o", bin, "kinko/cmd/kinko").CombinedOutput(); err != nil {
		b.Fatalf("build kinko: %v\n%s", err, out)
	}
	bins := []struct{ name, path string }{{"kinko", bin}}
	if old := os.Getenv("KINKO_BENCH_BEFORE"); old != "" {
		bins = append(bins, struct{ name, path string }{"before", old})
	}
	for _, variant := range []string{"one-address", "many-addresses"} {
		for _, x := range bins {
			b.Run(x.name+"/"+variant, func(b *testing.B) {
				d := startFloodDemo(b, x.path, filepath.Join(dir, x.name+"-"+variant))
				for b.Loop() {
					d.flood(b, variant == "many-addresses")
				}
			})
		}
	}
}

// floodDemo is a kinko demo in its own process and a user who logs in with
// ID and password.
type floodDemo struct {
	cmd      *exec.Cmd
	file     floodDemoFile
	roots    *x509.CertPool
	loginID  string
	password string
}

// floodDemoFile is demo.json with the organizations' login method.
type floodDemoFile struct {
	PortalURL     string `json:"portal_url"`
	ServerCA      string `json:"server_ca"`
	Organizations []struct {
		CertificateLogin bool `json:"certificate_login"`
		Users            []struct {
			LoginID  string `json:"login_id"`
			Password string `json:"password"`
		} `json:"users"`
	} `json:"organizations"`
}

func startFloodDemo(b *testing.B, bin, data string) *floodDemo {
	b.Helper()
	if err := os.MkdirAll(data, 0o700); err != nil {
		b.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(data, "demo.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	cmd := exec.Command(bin, "demo", "--data", data, "--portal-addr", "127.0.0.1:0", "--cert-addr", "127.0.0.1:0", "--pki-addr", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stopProcess(cmd) })
	waitForDemo(b, data)
	raw, err := os.ReadFile(filepath.Join(data, "demo.json"))
	if err != nil {
		b.Fatal(err)
	}
	d := &floodDemo{cmd: cmd, roots: x509.NewCertPool()}
	if err := json.Unmarshal(raw, &d.file); err != nil {
		b.Fatal(err)
	}
	caPEM, err := os.ReadFile(d.file.ServerCA)
	if err != nil {
		b.Fatal(err)
	}
	d.roots.AppendCertsFromPEM(caPEM)
	for _, o := range d.file.Organizations {
		if !o.CertificateLogin && len(o.Users) > 0 {
			d.loginID, d.password = o.Users[0].LoginID, o.Users[0].Password
			break
		}
	}
	if d.loginID == "" {
		b.Fatal("the demo has no organization without certificate login")
	}
	return d
}

// floodTransport is an HTTP/2 client transport whose connections come from
// the loopback address src, one connection at most.
func (d *floodDemo) floodTransport(src string) *http.Transport {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	return &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: d.roots, MinVersion: tls.VersionTLS12},
		DialContext:       dialer.DialContext,
		ForceAttemptHTTP2: true,
		MaxConnsPerHost:   1,
	}
}

// postLogin sends one API login and returns the status (0 when there was
// no HTTP answer) and Retry-After.
func postLogin(ctx context.Context, c *http.Client, url, loginID, password string) (int, time.Duration) {
	body, _ := json.Marshal(map[string]string{"login_id": loginID, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(s) * time.Second
}

// procStatusKB returns fields of /proc/pid/status in KiB.
func procStatusKB(pid int, fields ...string) []int64 {
	out := make([]int64, len(fields))
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(raw), "\n") {
		for i, f := range fields {
			if v, ok := strings.CutPrefix(line, f+":"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				out[i] = n
			}
		}
	}
	return out
}

// flood runs one flood and the legitimate login during it, and reports.
func (d *floodDemo) flood(b *testing.B, manyAddresses bool) {
	pid := d.cmd.Process.Pid
	idle := procStatusKB(pid, "VmRSS")[0]
	url := d.file.PortalURL + "/api/v1/sessions"
	// The flood lasts floodFor, and longer while the legitimate login
	// waits, up to legitDeadline.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	legitCtx, legitCancel := context.WithTimeout(ctx, legitDeadline)
	defer legitCancel()

	// The demo's memory, sampled while the flood lasts.
	var peakRSS atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := procStatusKB(pid, "VmRSS")[0]; v > peakRSS.Load() {
				peakRSS.Store(v)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()

	var counts sync.Map // status -> *atomic.Int64
	count := func(status int) {
		v, _ := counts.LoadOrStore(status, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	shared := &http.Client{Transport: d.floodTransport("127.0.0.1"), Timeout: time.Minute}
	var seq atomic.Int64
	var wg sync.WaitGroup
	for i := range floodClients {
		c := shared
		if manyAddresses {
			c = &http.Client{Transport: d.floodTransport(fmt.Sprintf("127.0.1.%d", i+1)), Timeout: time.Minute}
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				status, _ := postLogin(ctx, c, url, fmt.Sprintf("flood%06d", seq.Add(1)), "Flood-Password-1")
				if ctx.Err() != nil {
					return
				}
				count(status)
			}
		})
	}

	// The legitimate login, a second into the flood.
	legit := &http.Client{Transport: d.floodTransport("127.0.0.2"), Timeout: time.Minute}
	var ok bool
	var tries int
	var took time.Duration
	floodEnds := time.After(floodFor())
	time.Sleep(time.Second)
	start := time.Now()
	for legitCtx.Err() == nil {
		tries++
		status, retry := postLogin(legitCtx, legit, url, d.loginID, d.password)
		if status == http.StatusCreated {
			ok, took = true, time.Since(start)
			break
		}
		if status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
			b.Logf("legitimate login: %d", status)
			break
		}
		if retry <= 0 {
			retry = time.Second
		}
		select {
		case <-legitCtx.Done():
		case <-time.After(retry):
		}
	}
	<-floodEnds
	cancel()
	wg.Wait()
	<-sampled
	hwm := procStatusKB(pid, "VmHWM")[0]
	peak := max(hwm, peakRSS.Load())

	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(idle)/1024, "idle-RSS-MB")
	okMetric := 0.0
	if ok {
		okMetric = 1
	}
	b.ReportMetric(okMetric, "legit-login-ok")
	b.ReportMetric(float64(took.Milliseconds()), "legit-login-ms")
	b.ReportMetric(float64(tries), "legit-tries")
	var n401, n429, n503, nother, nfailed int64
	counts.Range(func(k, v any) bool {
		n := v.(*atomic.Int64).Load()
		switch k.(int) {
		case http.StatusUnauthorized:
			n401 += n
		case http.StatusTooManyRequests:
			n429 += n
		case http.StatusServiceUnavailable:
			n503 += n
		case 0:
			nfailed += n
		default:
			nother += n
		}
		return true
	})
	b.ReportMetric(float64(n401), "n401")
	b.ReportMetric(float64(n429), "n429")
	b.ReportMetric(float64(n503), "n503")
	b.ReportMetric(float64(nother), "nother")
	b.ReportMetric(float64(nfailed), "nfailed")
}
