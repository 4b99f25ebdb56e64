package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// kinkoServe is one `kinko serve` process.
type kinkoServe struct {
	cmd        *exec.Cmd
	certPortal string // host:port
	logs       *syncWriter
}

var listeningLine = regexp.MustCompile(`msg=listening portal=https://(\S+) cert_portal=https://(\S+)`)

// startKinkoServe starts `kinko serve` of bin on the data directory and
// database, on free ports, trusting proxyAddr, and waits until it
// listens; it is killed when the test ends.
func startKinkoServe(t *testing.T, bin, data, dsn string) *kinkoServe {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"KINKO_DATA_DIR="+data, "KINKO_DB="+dsn,
		"KINKO_PORTAL_ADDR=127.0.0.1:0", "KINKO_CERT_PORTAL_ADDR=127.0.0.1:0", "KINKO_PKI_ADDR=127.0.0.1:0",
		"KINKO_TRUSTED_PROXIES="+proxyAddr+"/32",
		`KINKO_OPERATING_HOURS={"daily": "00:00-24:00", "maintenance": []}`,
		"KINKO_PASSWORD_MEMORY_MIB=64")
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	k := &kinkoServe{cmd: cmd, logs: &syncWriter{}}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("kinko serve:\n%s", k.logs.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			_, _ = io.WriteString(k.logs, line+"\n")
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				found <- m[2]
			}
		}
		close(found)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("kinko serve ended before listening:\n%s", k.logs.String())
		}
		k.certPortal = addr
	case <-time.After(2 * time.Minute):
		t.Fatalf("kinko serve does not listen:\n%s", k.logs.String())
	}
	return k
}

// TestProxy_HAProxyLosesNothingWhenAServerIsKilled: three `kinko serve`
// processes on one PostgreSQL behind HAProxy terminating TLS; four
// clients, each with its own certificate login, loop GET /api/v1/me while
// one process is killed with SIGKILL. At most the requests in flight at
// that moment fail; no session is lost, and every client goes on.
func TestProxy_HAProxyLosesNothingWhenAServerIsKilled(t *testing.T) {
	haproxyBinary(t)
	dsn := testutil.PostgresDSN(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "kinko")
	if out, err := exec.Command("go", "build", "-o", bin, "kinko/cmd/kinko").CombinedOutput(); err != nil {
		t.Fatalf("build kinko: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(bin, "init", "--data", data, "--root-dir", filepath.Join(dir, "root"), "--db", dsn, "--name", "kinko proxy test",
		"--server-name", "127.0.0.1", "--server-name", "localhost").CombinedOutput(); err != nil {
		t.Fatalf("kinko init: %v\n%s", err, out)
	}
	var procs []*kinkoServe
	var backends []string
	for range 3 {
		k := startKinkoServe(t, bin, data, dsn)
		procs = append(procs, k)
		backends = append(backends, k.certPortal)
	}

	// A fourth server of the same bank, in the test, makes the users.
	authority, err := pki.Load(filepath.Join(data, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	setup := testutil.NewBankWith(t, db, func(p *server.Parts) { p.Authority = authority })

	port := freePort(t)
	haproxy(t, terminatingConfig(t, authority, setup.ServerCert, backends, port), port)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)

	org := setup.NewOrg(t, "強制終了労組", true)
	var cls []*testutil.Client
	for range 4 {
		u := setup.NewGeneralUser(t, org)
		r, c := issue(t, setup, u)
		expect(t, "issuance", r, http.StatusCreated, "")
		cl := viaProxy(setup, c, true)
		expect(t, "certificate login through HAProxy", cl.Do(http.MethodPost, base+pathSessions, map[string]string{"password": u.Password}), http.StatusCreated, "")
		cls = append(cls, cl)
	}
	loseNothing(t, cls, base+pathMe, func() {
		if err := procs[1].cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	})
	// Each process had its share of the load: the killed one was serving.
	for i, k := range procs {
		if !strings.Contains(k.logs.String(), "path="+pathMe+" status=200") {
			t.Errorf("kinko serve %d served no GET %s:\n%s", i+1, pathMe, k.logs.String())
		}
	}
}
