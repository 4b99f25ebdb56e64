package config

import (
	"encoding/json"
	"errors"
	"io/fs"
	"kinko/internal/calendar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFile writes content to a file in a new temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// envOf returns a Getenv that knows only vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func defaults() Config {
	return Config{
		DataDir:             "kinko-data",
		PortalAddr:          "127.0.0.1:8443",
		CertPortalAddr:      "127.0.0.1:8444",
		PKIAddr:             "127.0.0.1:8480",
		ServerNames:         []string{"localhost", "127.0.0.1"},
		BankName:            "kinko",
		BankCode:            DefaultBankCode,
		OperatingHours:      calendar.DefaultHours(),
		TransferCutoff:      calendar.DefaultCutoff,
		PayrollDeadlineDays: 3, PayrollCutoff: calendar.Clock{Hour: 15},
		PayeeChecks: 200, PayeeCheckWindow: Duration(time.Hour),
		RenewalWindow:          Duration(DefaultRenewalWindow),
		SessionIdleTimeout:     Duration(15 * time.Minute),
		SessionAbsoluteTimeout: Duration(12 * time.Hour),
		LogLevel:               "info",
		LogFormat:              "text",
		ShutdownTimeout:        Duration(30 * time.Second),

		LoginThrottleIDFree:          5,
		LoginThrottleIDDelay:         Duration(time.Second),
		LoginThrottleIDMaxDelay:      Duration(15 * time.Minute),
		LoginThrottleIDWindow:        Duration(24 * time.Hour),
		LoginThrottleAddressFree:     30,
		LoginThrottleAddressDelay:    Duration(time.Second),
		LoginThrottleAddressMaxDelay: Duration(15 * time.Minute),
		LoginThrottleAddressWindow:   Duration(time.Hour),

		TransferFees: DefaultTransferFees,
	}
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load("", envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff(defaults(), got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadFile(t *testing.T) {
	p := writeFile(t, "kinko.json", `{
  "data_dir": "/var/lib/kinko",
  "db": "postgres://kinko@db.internal:5432/kinko?sslmode=verify-full",
  "portal_addr": "0.0.0.0:443",
  "cert_portal_addr": "0.0.0.0:8444",
  "server_names": ["ib.example.jp", "192.0.2.10"],
  "bank_name": "Example Rokin Bank",
  "cert_validity": "720h",
  "renewal_window": "480h",
  "session_idle_timeout": "10m",
  "session_absolute_timeout": "8h",
  "log_level": "debug",
  "log_format": "json"
}`)
	got, err := Load(p, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		DataDir:             "/var/lib/kinko",
		DB:                  "postgres://kinko@db.internal:5432/kinko?sslmode=verify-full",
		PortalAddr:          "0.0.0.0:443",
		CertPortalAddr:      "0.0.0.0:8444",
		PKIAddr:             "0.0.0.0:8480",
		ServerNames:         []string{"ib.example.jp", "192.0.2.10"},
		BankName:            "Example Rokin Bank",
		CertValidity:        Duration(720 * time.Hour),
		RenewalWindow:       Duration(480 * time.Hour),
		BankCode:            DefaultBankCode,
		OperatingHours:      calendar.DefaultHours(),
		TransferCutoff:      calendar.DefaultCutoff,
		PayrollDeadlineDays: 3, PayrollCutoff: calendar.Clock{Hour: 15},
		PayeeChecks: 200, PayeeCheckWindow: Duration(time.Hour),
		SessionIdleTimeout:     Duration(10 * time.Minute),
		SessionAbsoluteTimeout: Duration(8 * time.Hour),
		LogLevel:               "debug",
		LogFormat:              "json",
	}
	want.withThrottleDefaults()
	want.ShutdownTimeout = Duration(DefaultShutdownTimeout)
	want.TransferFees = DefaultTransferFees
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string // in the error
	}{
		{"unknown key", `{"portal_addr": "127.0.0.1:9443", "portal_adress": "x"}`, `unknown field "portal_adress"`},
		{"duration not a string", `{"session_idle_timeout": 900}`, "duration must be a string"},
		{"bad duration", `{"session_idle_timeout": "fifteen minutes"}`, "invalid duration"},
		{"not JSON", `portal_addr = "127.0.0.1:9443"`, "invalid character"},
		{"wrong type", `{"server_names": "localhost"}`, "cannot unmarshal string"},
		{"invalid after load", `{"log_level": "verbose"}`, `log_level "verbose"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "kinko.json", tt.content)
			_, err := Load(p, envOf(nil))
			if err == nil {
				t.Fatalf("Load: no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("Load error = %q, want the prefix \"config: \"", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope.json"), envOf(nil))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load error = %v, want a not-exist error", err)
		}
	})
}

func TestLoadEnvOverridesFile(t *testing.T) {
	p := writeFile(t, "kinko.json", `{"portal_addr": "127.0.0.1:9443", "bank_name": "from file", "log_level": "warn"}`)
	env := map[string]string{
		"KINKO_PORTAL_ADDR":              "127.0.0.1:10443",
		"KINKO_CERT_PORTAL_ADDR":         "127.0.0.1:10444",
		"KINKO_DATA_DIR":                 "/srv/kinko",
		"KINKO_DB":                       "postgres://kinko@db:5432/kinko",
		"KINKO_SERVER_NAMES":             " ib.example.jp, 192.0.2.10 ,,",
		"KINKO_CERT_VALIDITY":            "2h",
		"KINKO_SESSION_IDLE_TIMEOUT":     "5m",
		"KINKO_SESSION_ABSOLUTE_TIMEOUT": "1h",
		"KINKO_LOG_FORMAT":               "json",
		"UNRELATED":                      "x",
	}
	got, err := Load(p, envOf(env))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		DataDir:             "/srv/kinko",
		DB:                  "postgres://kinko@db:5432/kinko",
		PortalAddr:          "127.0.0.1:10443",
		CertPortalAddr:      "127.0.0.1:10444",
		PKIAddr:             "127.0.0.1:8480",
		ServerNames:         []string{"ib.example.jp", "192.0.2.10"},
		BankName:            "from file", // no variable: the file's value stays
		CertValidity:        Duration(2 * time.Hour),
		RenewalWindow:       Duration(DefaultRenewalWindow),
		BankCode:            DefaultBankCode,
		OperatingHours:      calendar.DefaultHours(),
		TransferCutoff:      calendar.DefaultCutoff,
		PayrollDeadlineDays: 3, PayrollCutoff: calendar.Clock{Hour: 15},
		PayeeChecks: 200, PayeeCheckWindow: Duration(time.Hour),
		SessionIdleTimeout:     Duration(5 * time.Minute),
		SessionAbsoluteTimeout: Duration(time.Hour),
		LogLevel:               "warn",
		LogFormat:              "json",
	}
	want.withThrottleDefaults()
	want.ShutdownTimeout = Duration(DefaultShutdownTimeout)
	want.TransferFees = DefaultTransferFees
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad duration", map[string]string{"KINKO_SESSION_IDLE_TIMEOUT": "soon"}, "KINKO_SESSION_IDLE_TIMEOUT"},
		{"bad address", map[string]string{"KINKO_PORTAL_ADDR": "8443"}, `portal_addr "8443"`},
		{"same address", map[string]string{"KINKO_PORTAL_ADDR": "127.0.0.1:8444"}, "must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadDBFile(t *testing.T) {
	dsn := "postgres://kinko:s3cret@db.internal:5432/kinko"
	secret := writeFile(t, "db-dsn", dsn+"\n")
	t.Run("file key", func(t *testing.T) {
		p := writeFile(t, "kinko.json", `{"db": "ignored.db", "db_file": "`+secret+`"}`)
		got, err := Load(p, envOf(nil))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.DB != dsn {
			t.Errorf("DB = %q, want %q (trimmed content of db_file)", got.DB, dsn)
		}
	})
	t.Run("variable", func(t *testing.T) {
		got, err := Load("", envOf(map[string]string{"KINKO_DB_FILE": secret}))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.DB != dsn {
			t.Errorf("DB = %q, want %q", got.DB, dsn)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := Load("", envOf(map[string]string{"KINKO_DB_FILE": filepath.Join(t.TempDir(), "none")}))
		if err == nil || !strings.Contains(err.Error(), "db_file") {
			t.Errorf("Load error = %v, want one naming db_file", err)
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"IPv6 listener and names", func(c *Config) {
			c.PortalAddr, c.CertPortalAddr, c.ServerNames = "[::1]:8443", "[::1]:8444", []string{"::1", "ib.example.jp"}
		}, ""},
		{"both on a free port", func(c *Config) { c.PortalAddr, c.CertPortalAddr = "127.0.0.1:0", "127.0.0.1:0" }, ""},
		{"one-year validity by zero", func(c *Config) { c.CertValidity = 0 }, ""},
		{"validity one hour", func(c *Config) { c.CertValidity = Duration(time.Hour) }, ""},
		{"portal address without port", func(c *Config) { c.PortalAddr = "127.0.0.1" }, `portal_addr "127.0.0.1"`},
		{"cert portal address without port", func(c *Config) { c.CertPortalAddr = "localhost" }, `cert_portal_addr "localhost"`},
		{"same addresses", func(c *Config) { c.CertPortalAddr = c.PortalAddr }, "portal_addr and cert_portal_addr must differ"},
		{"validity too short", func(c *Config) { c.CertValidity = Duration(59 * time.Minute) }, "cert_validity must be at least 1h"},
		{"validity negative", func(c *Config) { c.CertValidity = Duration(-time.Hour) }, "cert_validity must be at least 1h"},
		{"idle timeout too short", func(c *Config) { c.SessionIdleTimeout = Duration(30 * time.Second) }, "session_idle_timeout must be at least 1m"},
		{"absolute shorter than idle", func(c *Config) {
			c.SessionIdleTimeout, c.SessionAbsoluteTimeout = Duration(time.Hour), Duration(30*time.Minute)
		}, "session_absolute_timeout must not be shorter"},
		{"password memory", func(c *Config) { c.PasswordMemoryMiB = 64 }, ""},
		{"password memory negative", func(c *Config) { c.PasswordMemoryMiB = -1 }, "password_memory_mib must not be negative"},
		{"log level", func(c *Config) { c.LogLevel = "trace" }, `log_level "trace"`},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, `log_format "xml"`},
		{"server name with a space", func(c *Config) { c.ServerNames = []string{"ib example"} }, `server_names: "ib example"`},
		{"server name is a URL", func(c *Config) { c.ServerNames = []string{"https://ib.example.jp"} }, `server_names: "https://ib.example.jp"`},
		{"empty server name", func(c *Config) { c.ServerNames = []string{"localhost", ""} }, `server_names: ""`},
		{"CRL validity one hour", func(c *Config) { c.CRLValidity = Duration(time.Hour) }, ""},
		{"CRL validity too short", func(c *Config) { c.CRLValidity = Duration(30 * time.Minute) }, "crl_validity must be at least 1h"},
		{"PKI URL", func(c *Config) { c.PKIURL = "http://pki.example.jp:8480" }, ""},
		{"PKI URL over https", func(c *Config) { c.PKIURL = "https://pki.example.jp" }, `pki_url "https://pki.example.jp": want http://host`},
		{"PKI URL with a path", func(c *Config) { c.PKIURL = "http://pki.example.jp/pki" }, "want no path"},
		{"PKI address without port", func(c *Config) { c.PKIAddr = "127.0.0.1" }, `pki_addr "127.0.0.1"`},
		{"PKI address is the portal's", func(c *Config) { c.PKIAddr = c.PortalAddr }, "pki_addr must differ"},
		{"shutdown timeout one second", func(c *Config) { c.ShutdownTimeout = Duration(time.Second) }, ""},
		{"shutdown timeout too short", func(c *Config) { c.ShutdownTimeout = Duration(time.Millisecond) }, "shutdown_timeout must be at least 1s"},
		{"operations address", func(c *Config) { c.OpsAddr = "127.0.0.1:8490" }, ""},
		{"operations address without port", func(c *Config) { c.OpsAddr = "127.0.0.1" }, `ops_addr "127.0.0.1"`},
		{"operations address is the portal's", func(c *Config) { c.OpsAddr = c.PortalAddr }, "ops_addr must differ"},
		{"operations address is the PKI listener's", func(c *Config) { c.OpsAddr = c.PKIAddr }, "ops_addr must differ"},
		{"console address", func(c *Config) { c.ConsoleAddr = "127.0.0.1:8445" }, ""},
		{"console address port 0", func(c *Config) { c.PortalAddr, c.ConsoleAddr = "127.0.0.1:0", "127.0.0.1:0" }, ""},
		{"console address without port", func(c *Config) { c.ConsoleAddr = "127.0.0.1" }, `console_addr "127.0.0.1"`},
		{"console address is the certificate portal's", func(c *Config) { c.ConsoleAddr = c.CertPortalAddr }, "console_addr must differ"},
		{"console address is the operations listener's", func(c *Config) { c.OpsAddr, c.ConsoleAddr = "127.0.0.1:8490", "127.0.0.1:8490" }, "console_addr must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("every error reported", func(t *testing.T) {
		c := defaults()
		c.LogLevel, c.LogFormat = "loud", "yaml"
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "log_format") {
			t.Errorf("Validate error = %v, want both log_level and log_format named", err)
		}
	})
}

func TestWithDefaultsKeepsValues(t *testing.T) {
	c := Config{PortalAddr: "0.0.0.0:443", ServerNames: []string{"ib.example.jp"}, SessionIdleTimeout: Duration(time.Minute)}
	got := c.WithDefaults()
	want := defaults()
	want.PortalAddr, want.ServerNames, want.SessionIdleTimeout = "0.0.0.0:443", []string{"ib.example.jp"}, Duration(time.Minute)
	want.PKIAddr = "0.0.0.0:8480"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithDefaults (-want +got):\n%s", diff)
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct {
		name     string
		db       string
		wantDB   string
		mustMiss string
	}{
		{"password hidden", "postgres://kinko:s3cret-pw@db.internal:5432/kinko?sslmode=require",
			"postgres://kinko:REDACTED@db.internal:5432/kinko?sslmode=require", "s3cret-pw"},
		{"no password", "postgres://kinko@db.internal:5432/kinko", "postgres://kinko@db.internal:5432/kinko", ""},
		{"SQLite path", "/var/lib/kinko/kinko.db", "/var/lib/kinko/kinko.db", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults()
			c.DB = tt.db
			s := c.Redacted()
			if tt.mustMiss != "" && strings.Contains(s, tt.mustMiss) {
				t.Errorf("Redacted() = %s, shows the secret %q", s, tt.mustMiss)
			}
			var got Config
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatalf("Redacted() is not a config in JSON: %v\n%s", err, s)
			}
			want := defaults()
			want.DB = tt.wantDB
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Redacted() (-want +got):\n%s", diff)
			}
			if c.DB != tt.db {
				t.Errorf("Redacted changed the config: DB = %q", c.DB)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(Duration(90 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"1h30m0s"` {
		t.Errorf("Marshal = %s, want \"1h30m0s\"", b)
	}
	var d Duration
	if err := json.Unmarshal(b, &d); err != nil || d != Duration(90*time.Minute) {
		t.Errorf("Unmarshal(%s) = %v, %v; want 1h30m", b, time.Duration(d), err)
	}
}

func TestLoginThrottleKeys(t *testing.T) {
	got, err := Load("", envOf(map[string]string{
		"KINKO_LOGIN_THROTTLE_ID_FREE": "3", "KINKO_LOGIN_THROTTLE_ID_MAX_DELAY": "1h", "KINKO_LOGIN_THROTTLE_ADDRESS_WINDOW": "2h",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.LoginThrottleIDFree != 3 || got.LoginThrottleIDMaxDelay != Duration(time.Hour) || got.LoginThrottleAddressWindow != Duration(2*time.Hour) ||
		got.LoginThrottleIDDelay != Duration(time.Second) {
		t.Errorf("throttle keys %+v", got)
	}
	bad := defaults()
	bad.LoginThrottleIDWindow = Duration(time.Minute) // shorter than the maximum delay
	bad.LoginThrottleAddressFree = -1
	err = bad.Validate()
	for _, want := range []string{"login_throttle_id_window", "login_throttle_address_free"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want an error about %s", err, want)
		}
	}
}
