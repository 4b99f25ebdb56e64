package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"kinko/internal/audit"
	"kinko/internal/store"
)

// apiDo makes a JSON request from any goroutine (it reports errors rather
// than failing the test) and returns the status, the JSON object and the
// headers.
func apiDo(c *http.Client, method, url string, body any, header map[string]string) (int, map[string]any, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	var m map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			return 0, nil, nil, fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return resp.StatusCode, m, resp.Header, nil
}

// restoreTree copies a backup into a new data directory as an operator
// restores it (cp -a): files keep their modes.
func restoreTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
}

// TestBackup_WhileTheBankWritesRestoresVerifiedAndServes runs the demo bank
// on SQLite with logins and transfers going on, backs it up while they
// run, restores the backup into a new data directory, verifies its audit
// chain and ledger, and starts a server on it.
func TestBackup_WhileTheBankWritesRestoresVerifiedAndServes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "kinko-demo")
	demo := start(t, "demo", "--data", dir, "--portal-addr", "127.0.0.1:0", "--cert-addr", "127.0.0.1:0", "--pki-addr", "127.0.0.1:0")
	f := readDemoFile(t, dir)
	midori := f.Organizations[1]
	kato, ito := midori.Users[0], midori.Users[1]

	// The payee of the transfers: みどり's own current account.
	requester, approver := demoLogin(t, f, ito), demoLogin(t, f, kato)
	_, body, _ := call(t, requester, http.MethodGet, f.PortalURL+"/api/v1/payees", nil)
	var payeeID any
	for _, p := range list(t, body, "payees") {
		if p["account_number"] == midori.Accounts[1].Number {
			payeeID = p["id"]
		}
	}
	if payeeID == nil {
		t.Fatalf("no registered payee for the current account: %v", body)
	}

	var logins, transfers atomic.Int64
	stop := make(chan struct{})
	ready := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	fail := func(format string, a ...any) {
		t.Errorf(format, a...)
		once.Do(func() { close(ready) })
	}
	tick := func() {
		if logins.Load() >= 4 && transfers.Load() >= 2 {
			once.Do(func() { close(ready) })
		}
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for _, u := range []demoUser{kato, ito} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped() {
				c := httpsClient(t, f.ServerCA, nil)
				status, body, _, err := apiDo(c, http.MethodPost, f.PortalURL+"/api/v1/sessions", map[string]string{"login_id": u.LoginID, "password": u.Password}, nil)
				if err != nil || status != http.StatusCreated {
					fail("login %s: %d %v %v", u.LoginID, status, body, err)
					return
				}
				logins.Add(1)
				tick()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stopped() {
			status, tr, _, err := apiDo(requester, http.MethodPost, f.PortalURL+"/api/v1/transfers",
				map[string]any{"from_account_id": midori.Accounts[0].ID, "payee_id": payeeID, "amount": 1_000, "memo": "バックアップ中"}, nil)
			if err != nil || status != http.StatusCreated {
				fail("request a transfer: %d %v %v", status, tr, err)
				return
			}
			url := fmt.Sprintf("%s/api/v1/transfers/%v", f.PortalURL, tr["id"])
			status, _, h, err := apiDo(approver, http.MethodGet, url, nil, nil)
			if err != nil || status != http.StatusOK {
				fail("read the transfer: %d %v", status, err)
				return
			}
			status, body, _, err := apiDo(approver, http.MethodPost, url+"/approval",
				map[string]string{"confirmation_password": kato.ConfirmationPassword}, map[string]string{"If-Match": h.Get("ETag")})
			if err != nil || status != http.StatusOK {
				fail("approve the transfer: %d %v %v", status, body, err)
				return
			}
			transfers.Add(1)
			tick()
		}
	}()

	<-ready
	loginsBefore, transfersBefore := logins.Load(), transfers.Load()
	backup := filepath.Join(t.TempDir(), "backup")
	r := run(t, "backup", "--data", dir, "--out", backup)
	close(stop)
	wg.Wait()
	demo.stop(t)
	if r.code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if t.Failed() {
		t.FailNow()
	}
	if !strings.Contains(r.stdout, "schema version") || !strings.Contains(r.stdout, backup) {
		t.Errorf("backup's report does not say what it copied where:\n%s", r.stdout)
	}
	t.Logf("before the backup: %d logins, %d transfers; in all %d and %d", loginsBefore, transfersBefore, logins.Load(), transfers.Load())

	// The backup is private: the database, the keys and the directory.
	wantModes := map[string]os.FileMode{backup: 0o700, store.SQLitePath(backup): 0o600}
	keys, _ := filepath.Glob(filepath.Join(dir, "pki", "*.key"))
	if len(keys) == 0 {
		t.Fatalf("no keys in %s/pki", dir)
	}
	for _, k := range keys {
		wantModes[filepath.Join(backup, "pki", filepath.Base(k))] = 0o600
	}
	for p, want := range wantModes {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("backup: %v", err)
			continue
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
	// Every certificate file of the data directory is in the backup.
	pems, _ := filepath.Glob(filepath.Join(dir, "pki", "*.pem"))
	for _, p := range append(pems, keys...) {
		orig, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(backup, "pki", filepath.Base(p)))
		if err != nil || !bytes.Equal(orig, got) {
			t.Errorf("pki/%s: not copied as it is (%v)", filepath.Base(p), err)
		}
	}

	restored := filepath.Join(t.TempDir(), "restored")
	restoreTree(t, backup, restored)
	if r := mustRun(t, "audit", "verify", "--data", restored); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("audit verify of the restored backup: %q", r.stdout)
	}
	if r := mustRun(t, "ledger", "verify", "--data", restored); !strings.HasPrefix(r.stdout, "OK") {
		t.Errorf("ledger verify of the restored backup: %q", r.stdout)
	}
	db, err := store.Open(t.Context(), store.SQLitePath(restored))
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(len(auditEvents(t, db, audit.LoginSucceeded))); n < loginsBefore {
		t.Errorf("the restored backup has %d logins, want at least the %d made before it began", n, loginsBefore)
	}
	if n := int64(len(auditEvents(t, db, audit.TransferApproved))); n < transfersBefore {
		t.Errorf("the restored backup has %d approved transfers, want at least the %d made before it began", n, transfersBefore)
	}
	db.Close()

	// A server starts on the restored data directory and knows the bank.
	s := start(t, "serve", "--config", serveConfig(t, bank{dir: restored, dsn: store.SQLitePath(restored)},
		map[string]any{"operating_hours": map[string]any{"daily": "00:00-24:00", "maintenance": []any{}}}))
	c := httpsClient(t, filepath.Join(restored, "pki", "root-ca.pem"), nil)
	status, body, _ := call(t, c, http.MethodPost, "https://"+s.portalAddr+"/api/v1/sessions", map[string]string{"login_id": kato.LoginID, "password": kato.Password})
	if status != http.StatusCreated {
		t.Errorf("login on the restored server: %d %v", status, body)
	}
	status, body, _ = call(t, c, http.MethodGet, "https://"+s.portalAddr+"/api/v1/accounts", nil)
	if status != http.StatusOK || len(list(t, body, "accounts")) != len(midori.Accounts) {
		t.Errorf("accounts on the restored server: %d %v", status, body)
	}
	s.stop(t)
}

func TestBackup_Refusals(t *testing.T) {
	b := initBank(t, "")
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pgConfig := filepath.Join(t.TempDir(), "kinko.json")
	if err := os.WriteFile(pgConfig, []byte(`{"data_dir": "`+b.dir+`", "db": "host=db.internal dbname=kinko user=kinko"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"PostgreSQL URL", []string{"--data", b.dir, "--db", "postgres://kinko@db.internal/kinko", "--out", "OUT"}, 1, "docs/operations.md"},
		{"PostgreSQL from the config", []string{"--config", pgConfig, "--out", "OUT"}, 1, "pg_dump"},
		{"output not empty", []string{"--data", b.dir, "--out", full}, 1, "not empty"},
		{"no output", []string{"--data", b.dir}, 2, "--out are required"},
		{"config and data", []string{"--config", pgConfig, "--data", b.dir, "--out", "OUT"}, 2, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "backup")
			args := []string{"backup"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "OUT", out))
			}
			r := run(t, args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("backup %v: exit %d, %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a refused backup left %s: %v", out, err)
			}
		})
	}
	if entries, err := os.ReadDir(full); err != nil || len(entries) != 1 {
		t.Errorf("a backup into a directory that is not empty changed it: %v %v", entries, err)
	}
}
