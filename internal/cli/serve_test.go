package cli_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe runs "kinko serve --config FILE" the way docs/config.md tells a
// bank to: init, org create, then serve; the master logs in with the
// initial password and must change it first.
func TestServe(t *testing.T) {
	b := initBank(t, "")
	r := approved(t, b, b.operator("--json", "org", "create", "--name", "ひかり労働組合", "--master-login-id", "hikari01", "--master-email", "m@hikari.example", "--request-ref", "APP-1"))
	var created orgCreated
	decodeStrict(t, r.stdout, &created)

	cfg := filepath.Join(t.TempDir(), "kinko.json")
	if err := os.WriteFile(cfg, []byte(`{
  "data_dir": "`+b.dir+`",
  "portal_addr": "127.0.0.1:0",
  "cert_portal_addr": "127.0.0.1:0",
  "server_names": ["localhost", "127.0.0.1"],
  "session_idle_timeout": "15m",
  "session_absolute_timeout": "12h",
  "operating_hours": {"daily": "00:00-24:00", "maintenance": []},
  "log_format": "json"
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(t, "serve", "--config", cfg)
	if !strings.Contains(s.stderr.String(), `"msg":"starting"`) {
		t.Errorf("serve did not log its start in JSON:\n%s", s.stderr)
	}
	serverCA := filepath.Join(b.dir, "pki", "root-ca.pem")
	portal := httpsClient(t, serverCA, nil)
	base := "https://" + s.portalAddr
	if ca := get(t, portal, base+"/pki/ca.pem"); strings.Count(ca, "BEGIN CERTIFICATE") != 2 {
		t.Errorf("GET /pki/ca.pem: want the issuing CA and the root, got:\n%s", ca)
	}
	status, body, _ := call(t, portal, http.MethodPost, base+"/api/v1/sessions", map[string]string{"login_id": "hikari01", "password": created.Master.Password})
	if status != http.StatusCreated || body["password_change_required"] != true || body["role"] != "master" {
		t.Fatalf("login with the initial password: %d %v; want 201, a master who must change the password", status, body)
	}
	status, body, _ = call(t, portal, http.MethodGet, base+"/api/v1/users", nil)
	if status != http.StatusForbidden || body["error"] != "password_change_required" {
		t.Errorf("GET /api/v1/users before the password change: %d %v; want 403 password_change_required", status, body)
	}
	// The certificate portal refuses a request without a certificate, and says why.
	if resp, err := httpsClient(t, serverCA, nil).Get("https://" + s.certAddr + "/api/v1/me"); err != nil {
		t.Errorf("certificate portal without a client certificate: %v, want an explanation", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("certificate portal without a client certificate: %d, want 403", resp.StatusCode)
		}
	}
	s.stop(t)

	t.Run("config errors", func(t *testing.T) {
		unknown := filepath.Join(t.TempDir(), "unknown.json")
		if err := os.WriteFile(unknown, []byte(`{"data_dir": "`+b.dir+`", "listen": ":443"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		noInit := filepath.Join(t.TempDir(), "noinit.json")
		if err := os.WriteFile(noInit, []byte(`{"data_dir": "`+filepath.Join(t.TempDir(), "empty")+`"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, config, want string
		}{
			{"unknown key", unknown, `unknown field "listen"`},
			{"no authority", noInit, "kinko init --data"},
			{"missing file", filepath.Join(t.TempDir(), "none.json"), "no such file"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := run(t, "serve", "--config", tt.config)
				if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tt.want)
				}
			})
		}
	})
}
