// Package config is kinko's configuration: one struct whose zero values are
// usable defaults, read from a JSON file (unknown keys are an error) and then
// from KINKO_* environment variables, checked by Validate at start-up.
// Secrets can be read from files (*_file keys). It never logs a secret:
// Redacted gives the dump for logs.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kinko/internal/calendar"
)

// Duration is a time.Duration written as a Go duration string ("15m", "720h").
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"15m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Config is the configuration of a kinko server.
type Config struct {
	// DataDir holds the authority's keys and certificates (DataDir/pki) and,
	// without DB, the SQLite database DataDir/kinko.db.
	DataDir string `json:"data_dir"`
	// DB is a PostgreSQL DSN (postgres://...) or the path of a SQLite file.
	// Empty: SQLite in DataDir.
	DB string `json:"db"`
	// DBFile names a file whose content is DB (to keep a password out of
	// the config file).
	DBFile string `json:"db_file"`
	// DBMaxOpenConns bounds the database connections this server opens
	// (and keeps idle). Zero: 20 on PostgreSQL, 8 on SQLite.
	DBMaxOpenConns int `json:"db_max_open_conns"`
	// PortalAddr is the portal listener's address.
	PortalAddr string `json:"portal_addr"`
	// CertPortalAddr is the certificate portal listener's address.
	CertPortalAddr string `json:"cert_portal_addr"`
	// PKIAddr is the plain-HTTP listener of the CRL and OCSP. Empty:
	// portal_addr's host with port DefaultPKIPort, or port 0 when
	// portal_addr's port is 0.
	PKIAddr string `json:"pki_addr"`
	// PKIURL is that listener's address as relying parties reach it
	// (http://host:port), put in issued certificates. Empty: http:// +
	// pki_addr, unless it is every address.
	PKIURL string `json:"pki_url"`
	// OpsAddr is the plain-HTTP operations listener's address (/healthz,
	// /readyz, /metrics), for a private network only. Empty: none.
	OpsAddr string `json:"ops_addr"`
	// ConsoleAddr is the operator console's TLS listener, which requires
	// an operator's certificate of the operator CA. Empty: none.
	ConsoleAddr string `json:"console_addr"`
	// ServerNames are the DNS names and IP addresses in the listeners'
	// server certificate.
	ServerNames []string `json:"server_names"`
	// IssuingKey is the PKCS#11 URI (RFC 7512) of the issuing CA's key in
	// an HSM, "pkcs11:token=...;object=...?module-path=...&pin-source=...".
	// Empty: the key file DataDir/pki/client-ca.key. See docs/keys.md.
	IssuingKey string `json:"issuing_key"`
	// ServerCertFile and ServerKeyFile are a server certificate chain
	// (PEM, leaf first) and its key given to the listeners instead of the
	// one the bank's root signed, for example a publicly trusted one. Both
	// or neither.
	ServerCertFile string `json:"server_cert_file"`
	ServerKeyFile  string `json:"server_key_file"`
	// BankName names the bank in the authority's certificates.
	BankName string `json:"bank_name"`
	// CertValidity is the validity of client certificates; zero means one
	// calendar year (R9).
	CertValidity Duration `json:"cert_validity"`
	// RenewalWindow is how long before expiry a certificate can be renewed
	// and the notices start (R9); zero means DefaultRenewalWindow.
	RenewalWindow Duration `json:"renewal_window"`
	// CRLValidity is the time from a CRL's thisUpdate to its nextUpdate;
	// zero means 24 hours.
	CRLValidity Duration `json:"crl_validity"`
	// SessionIdleTimeout ends a session after this long without a request.
	SessionIdleTimeout Duration `json:"session_idle_timeout"`
	// SessionAbsoluteTimeout ends a session this long after login.
	SessionAbsoluteTimeout Duration `json:"session_absolute_timeout"`
	// PasswordMemoryMiB is the memory, in MiB, that the password checks
	// (argon2id, 19 MiB each) running at once may take together; with the
	// number of cores it bounds how many run at once. Zero: 128.
	PasswordMemoryMiB int `json:"password_memory_mib"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// LogFormat is text or json.
	LogFormat string `json:"log_format"`
	// PortalURL is the portal's address as users reach it (https://host:port).
	// Empty: https:// + the host a request came to + portal_addr's port.
	PortalURL string `json:"portal_url"`
	// CertPortalURL is the certificate portal's address as users reach it,
	// the target of the 電子証明書ログイン button. Empty: https:// + the host
	// a request came to + cert_portal_addr's port.
	CertPortalURL string `json:"cert_portal_url"`
	// ServiceHours are the service hours shown on the service hours page.
	ServiceHours ServiceHours `json:"service_hours"`
	// SMTPHost is the mail server that takes kinko's mails (a submission
	// server or relay). Empty: mails are written as .eml files to
	// DataDir/mail.
	SMTPHost string `json:"smtp_host"`
	// SMTPPort is the mail server's port; zero means 587, or 465 with
	// SMTPTLS "tls", or 25 with "none".
	SMTPPort int `json:"smtp_port"`
	// SMTPUser authenticates with AUTH PLAIN, over TLS; empty: no AUTH.
	SMTPUser string `json:"smtp_user"`
	// SMTPPasswordFile names a file whose content is SMTPUser's password.
	SMTPPasswordFile string `json:"smtp_password_file"`
	// SMTPPassword is read from SMTPPasswordFile; it is never read from the
	// config file or the environment, and never logged.
	SMTPPassword string `json:"-"`
	// SMTPTLS is "starttls" (the server must offer it; empty means
	// starttls), "tls" (implicit TLS) or "none" (only for a mail server on
	// a loopback address).
	SMTPTLS string `json:"smtp_tls"`
	// MailFrom is the From address of the mails ("Bank <noreply@bank.example>"
	// or a bare address); required with SMTPHost.
	MailFrom string `json:"mail_from"`
	// BankCode is this bank's 4-digit code (全銀協 金融機関コード): transfers
	// to it are booked here, others go out in the interbank file. Empty:
	// DefaultBankCode.
	BankCode string `json:"bank_code"`
	// OperatingHours are the hours when the pages and API behind the login
	// serve, with maintenance windows (see docs/calendar.md). Zero: 24
	// hours, except the 1st and 3rd Monday 02:00-06:00 and 1-3 January.
	OperatingHours calendar.Hours `json:"operating_hours"`
	// HolidaysFile is a holiday list in the Cabinet Office's format
	// (syukujitsu.csv) that replaces the built-in one. Empty: built in.
	HolidaysFile string `json:"holidays_file"`
	// TransferCutoff is the time ("15:00") after which a same-day transfer
	// to another bank is dated the next business day. Zero: 15:00.
	TransferCutoff calendar.Clock `json:"transfer_cutoff"`
	// PayrollDeadlineDays and PayrollCutoff are the bank's deadline for
	// 給与・賞与振込 files: requested before PayrollCutoff (Japan time),
	// PayrollDeadlineDays business days before the payment date. Zero: 3
	// and 15:00.
	PayrollDeadlineDays int            `json:"payroll_deadline_days"`
	PayrollCutoff       calendar.Clock `json:"payroll_cutoff"`
	// The throttling of failed logins that need no certificate (portal
	// login, certificate issuance), per login ID and per client address:
	// the failures that cost nothing, the delay after the first one past
	// them (doubled at each further failure), its maximum, and how long
	// after the last failure the count is forgotten. Zero: the defaults.
	LoginThrottleIDFree          int      `json:"login_throttle_id_free"`
	LoginThrottleIDDelay         Duration `json:"login_throttle_id_delay"`
	LoginThrottleIDMaxDelay      Duration `json:"login_throttle_id_max_delay"`
	LoginThrottleIDWindow        Duration `json:"login_throttle_id_window"`
	LoginThrottleAddressFree     int      `json:"login_throttle_address_free"`
	LoginThrottleAddressDelay    Duration `json:"login_throttle_address_delay"`
	LoginThrottleAddressMaxDelay Duration `json:"login_throttle_address_max_delay"`
	LoginThrottleAddressWindow   Duration `json:"login_throttle_address_window"`
	// PayeeChecks is how many accounts at this bank one user may check
	// (transfers and batch items to a payee given in full, payees
	// registered, the entry form's check) in PayeeCheckWindow; more are 429
	// too_many_lookups. Zero: 200.
	PayeeChecks int `json:"payee_checks"`
	// PayeeCheckWindow is the window of PayeeChecks. Zero: 1h.
	PayeeCheckWindow Duration `json:"payee_check_window"`
	// TransferFees is the bank's table of transfer fees (振込手数料), in yen
	// with the consumption tax included. A fee left out is the default's
	// (DefaultTransferFees).
	TransferFees TransferFees `json:"transfer_fees"`
	// ShutdownTimeout is how long a server told to stop (SIGTERM, SIGINT)
	// waits for the requests in flight before it cuts them off. Zero:
	// DefaultShutdownTimeout.
	ShutdownTimeout Duration `json:"shutdown_timeout"`
	// TrustedProxies are the CIDRs (or single addresses) of the proxies
	// in front of kinko: from a connection whose peer is one of them, the
	// certificate portal takes the client certificate from Client-Cert
	// (RFC 9440) and every listener the client's address from
	// X-Forwarded-For; from anyone else those headers are removed. Empty:
	// no proxy is trusted.
	TrustedProxies []string `json:"trusted_proxies"`
	// ProxyProtocol makes the portal and the certificate portal read the
	// PROXY protocol (v1, v2) that every connection from TrustedProxies
	// must begin with; refused from anyone else. Needs TrustedProxies.
	ProxyProtocol bool `json:"proxy_protocol"`
}

// TransferFees is the bank's table of transfer fees, the way Japanese banks
// publish it: to an account of the same branch of this bank, of another
// branch of this bank, of another bank; for amounts below 30,000 yen and
// from 30,000 yen. Yen, consumption tax included; nil: the default's.
type TransferFees struct {
	SameBranchBelow30000  *int64 `json:"same_branch_below_30000"`
	SameBranchFrom30000   *int64 `json:"same_branch_from_30000"`
	OtherBranchBelow30000 *int64 `json:"other_branch_below_30000"`
	OtherBranchFrom30000  *int64 `json:"other_branch_from_30000"`
	OtherBankBelow30000   *int64 `json:"other_bank_below_30000"`
	OtherBankFrom30000    *int64 `json:"other_bank_from_30000"`
}

// MaxTransferFee is the largest fee of TransferFees.
const MaxTransferFee = 9999

// DefaultTransferFees are the fees of a labour bank's (労働金庫) internet
// banking: free within the bank, 220 yen below 30,000 yen and 330 yen from
// 30,000 yen to other banks.
var DefaultTransferFees = TransferFees{
	SameBranchBelow30000: yen(0), SameBranchFrom30000: yen(0),
	OtherBranchBelow30000: yen(0), OtherBranchFrom30000: yen(0),
	OtherBankBelow30000: yen(220), OtherBankFrom30000: yen(330),
}

func yen(n int64) *int64 { return &n }

// fields returns the fees with their keys, in the order of the table.
func (f *TransferFees) fields() []struct {
	key string
	fee **int64
} {
	return []struct {
		key string
		fee **int64
	}{
		{"same_branch_below_30000", &f.SameBranchBelow30000}, {"same_branch_from_30000", &f.SameBranchFrom30000},
		{"other_branch_below_30000", &f.OtherBranchBelow30000}, {"other_branch_from_30000", &f.OtherBranchFrom30000},
		{"other_bank_below_30000", &f.OtherBankBelow30000}, {"other_bank_from_30000", &f.OtherBankFrom30000},
	}
}

// withDefaults returns f with every fee left out set to the default's.
func (f TransferFees) withDefaults() TransferFees {
	def := DefaultTransferFees
	d := def.fields()
	for i, x := range f.fields() {
		if *x.fee == nil {
			*x.fee = yen(**d[i].fee)
		}
	}
	return f
}

// validate reports every fee out of 0..MaxTransferFee, by its key.
func (f TransferFees) validate() []error {
	var errs []error
	for _, x := range f.fields() {
		if *x.fee != nil && (**x.fee < 0 || **x.fee > MaxTransferFee) {
			errs = append(errs, fmt.Errorf("transfer_fees: %s %d must be a fee in yen from 0 to %d", x.key, **x.fee, MaxTransferFee))
		}
	}
	return errs
}

// Fee returns a fee of the table by its key (same_branch_below_30000 ...),
// 0 for one left out.
func (f TransferFees) Fee(key string) int64 {
	for _, x := range f.fields() {
		if x.key == key && *x.fee != nil {
			return **x.fee
		}
	}
	return 0
}

// DefaultBankCode is the bank code when none is set (the demo's).
const DefaultBankCode = "2950"

// ServiceHours are the bank's service hours, each "HH:MM-HH:MM" (end at
// most 24:00) or "closed". Empty fields show the web's defaults.
type ServiceHours struct {
	Weekdays string `json:"weekdays"` // Monday to Friday, except holidays
	Weekends string `json:"weekends"` // Saturdays, Sundays and holidays
}

// Defaults.
const (
	DefaultDataDir                = "kinko-data"
	DefaultPortalAddr             = "127.0.0.1:8443"
	DefaultCertPortalAddr         = "127.0.0.1:8444"
	DefaultPKIPort                = "8480"
	DefaultDemoOpsAddr            = "127.0.0.1:8490" // kinko demo's operations listener
	DefaultDemoConsoleAddr        = "127.0.0.1:8445" // kinko demo's operator console
	DefaultBankName               = "kinko"
	DefaultSessionIdleTimeout     = 15 * time.Minute
	DefaultRenewalWindow          = 40 * 24 * time.Hour
	DefaultSessionAbsoluteTimeout = 12 * time.Hour
	DefaultShutdownTimeout        = 30 * time.Second

	// The defaults of the login throttle (identity.DefaultThrottle).
	DefaultLoginThrottleIDFree          = 5
	DefaultLoginThrottleIDDelay         = time.Second
	DefaultLoginThrottleIDMaxDelay      = 15 * time.Minute
	DefaultLoginThrottleIDWindow        = 24 * time.Hour
	DefaultLoginThrottleAddressFree     = 30
	DefaultLoginThrottleAddressDelay    = time.Second
	DefaultLoginThrottleAddressMaxDelay = 15 * time.Minute
	DefaultLoginThrottleAddressWindow   = time.Hour
)

// WithDefaults returns c with every empty field set to its default.
func (c Config) WithDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.PortalAddr == "" {
		c.PortalAddr = DefaultPortalAddr
	}
	if c.CertPortalAddr == "" {
		c.CertPortalAddr = DefaultCertPortalAddr
	}
	if c.PKIAddr == "" {
		if host, port, err := net.SplitHostPort(c.PortalAddr); err == nil {
			if port != "0" {
				port = DefaultPKIPort
			}
			c.PKIAddr = net.JoinHostPort(host, port)
		}
	}
	if len(c.ServerNames) == 0 {
		c.ServerNames = []string{"localhost", "127.0.0.1"}
	}
	if c.BankName == "" {
		c.BankName = DefaultBankName
	}
	if c.BankCode == "" {
		c.BankCode = DefaultBankCode
	}
	if c.OperatingHours.Maintenance == nil && c.OperatingHours.Daily == (calendar.Span{}) {
		c.OperatingHours = calendar.DefaultHours()
	}
	if c.PayeeChecks == 0 {
		c.PayeeChecks = 200
	}
	if c.PayeeCheckWindow == 0 {
		c.PayeeCheckWindow = Duration(time.Hour)
	}
	c.TransferFees = c.TransferFees.withDefaults()
	if c.TransferCutoff == (calendar.Clock{}) {
		c.TransferCutoff = calendar.DefaultCutoff
	}
	if c.PayrollDeadlineDays == 0 {
		c.PayrollDeadlineDays = 3
	}
	if c.PayrollCutoff == (calendar.Clock{}) {
		c.PayrollCutoff = calendar.Clock{Hour: 15}
	}
	if c.RenewalWindow == 0 {
		c.RenewalWindow = Duration(DefaultRenewalWindow)
	}
	if c.SessionIdleTimeout == 0 {
		c.SessionIdleTimeout = Duration(DefaultSessionIdleTimeout)
	}
	if c.SessionAbsoluteTimeout == 0 {
		c.SessionAbsoluteTimeout = Duration(DefaultSessionAbsoluteTimeout)
	}
	c.withThrottleDefaults()
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = Duration(DefaultShutdownTimeout)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.SMTPHost != "" && c.SMTPPort == 0 {
		switch c.SMTPTLS {
		case "tls":
			c.SMTPPort = 465
		case "none":
			c.SMTPPort = 25
		default:
			c.SMTPPort = 587
		}
	}
	return c
}

// Load reads a config file (when path is not empty), then KINKO_*
// environment variables (KINKO_ plus the upper-case key: KINKO_PORTAL_ADDR),
// reads DBFile, applies defaults and validates.
func Load(path string, env func(string) string) (Config, error) {
	var c Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if env == nil {
		env = os.Getenv
	}
	if err := c.applyEnv(env); err != nil {
		return Config{}, err
	}
	if c.DBFile != "" {
		b, err := os.ReadFile(c.DBFile)
		if err != nil {
			return Config{}, fmt.Errorf("config: db_file: %w", err)
		}
		c.DB = strings.TrimSpace(string(b))
	}
	if c.SMTPPasswordFile != "" {
		b, err := os.ReadFile(c.SMTPPasswordFile)
		if err != nil {
			return Config{}, fmt.Errorf("config: smtp_password_file: %w", err)
		}
		c.SMTPPassword = strings.TrimRight(string(b), "\r\n")
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// applyEnv sets fields from KINKO_<KEY> variables.
func (c *Config) applyEnv(env func(string) string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		key := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if key == "-" {
			continue
		}
		val := env("KINKO_" + strings.ToUpper(key))
		if val == "" {
			continue
		}
		f := v.Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(val)
		case []string:
			var parts []string
			for _, p := range strings.Split(val, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
			f.Set(reflect.ValueOf(parts))
		case Duration:
			d, err := time.ParseDuration(val)
			if err != nil {
				return fmt.Errorf("config: KINKO_%s: %w", strings.ToUpper(key), err)
			}
			f.Set(reflect.ValueOf(Duration(d)))
		case bool:
			b, err := strconv.ParseBool(val)
			if err != nil {
				return fmt.Errorf("config: KINKO_%s: want true or false: %w", strings.ToUpper(key), err)
			}
			f.SetBool(b)
		case int:
			n, err := strconv.Atoi(val)
			if err != nil {
				return fmt.Errorf("config: KINKO_%s: want a whole number: %w", strings.ToUpper(key), err)
			}
			f.SetInt(int64(n))
		case calendar.Hours:
			var h calendar.Hours
			if err := json.Unmarshal([]byte(val), &h); err != nil {
				return fmt.Errorf("config: KINKO_%s: want a JSON object as in docs/calendar.md: %w", strings.ToUpper(key), err)
			}
			f.Set(reflect.ValueOf(h))
		case calendar.Clock:
			var c calendar.Clock
			if err := c.UnmarshalText([]byte(val)); err != nil {
				return fmt.Errorf("config: KINKO_%s: want a time like 15:00: %w", strings.ToUpper(key), err)
			}
			f.Set(reflect.ValueOf(c))
		case TransferFees:
			dec := json.NewDecoder(strings.NewReader(val))
			dec.DisallowUnknownFields()
			var fees TransferFees
			if err := dec.Decode(&fees); err != nil {
				return fmt.Errorf("config: KINKO_%s: want a JSON object like {\"other_bank_below_30000\": 220}: %w", strings.ToUpper(key), err)
			}
			f.Set(reflect.ValueOf(fees))
		case ServiceHours:
			dec := json.NewDecoder(strings.NewReader(val))
			dec.DisallowUnknownFields()
			var h ServiceHours
			if err := dec.Decode(&h); err != nil {
				return fmt.Errorf("config: KINKO_%s: want a JSON object like {\"weekdays\": \"08:00-21:00\"}: %w", strings.ToUpper(key), err)
			}
			f.Set(reflect.ValueOf(h))
		}
	}
	return nil
}

// Validate checks a config with defaults applied.
func (c Config) Validate() error {
	var errs []error
	if len(c.BankCode) != 4 || strings.Trim(c.BankCode, "0123456789") != "" {
		errs = append(errs, fmt.Errorf("bank_code %q must be 4 digits", c.BankCode))
	}
	errs = append(errs, c.TransferFees.validate()...)
	if c.PayrollDeadlineDays < 0 || c.PayrollDeadlineDays > 20 {
		errs = append(errs, fmt.Errorf("payroll_deadline_days %d must be 1..20 (0: 3)", c.PayrollDeadlineDays))
	}
	if c.PayeeChecks < 1 {
		errs = append(errs, fmt.Errorf("payee_checks %d must be at least 1", c.PayeeChecks))
	}
	if time.Duration(c.PayeeCheckWindow) < time.Minute {
		errs = append(errs, fmt.Errorf("payee_check_window %s must be at least 1m", time.Duration(c.PayeeCheckWindow)))
	}
	if err := c.OperatingHours.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("operating_hours: %w", err))
	}
	for name, addr := range map[string]string{"portal_addr": c.PortalAddr, "cert_portal_addr": c.CertPortalAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, addr, err))
		}
	}
	if _, port, _ := net.SplitHostPort(c.PortalAddr); c.PortalAddr == c.CertPortalAddr && port != "0" {
		errs = append(errs, errors.New("portal_addr and cert_portal_addr must differ"))
	}
	if c.PKIAddr != "" {
		if _, port, err := net.SplitHostPort(c.PKIAddr); err != nil {
			errs = append(errs, fmt.Errorf("pki_addr %q: %w", c.PKIAddr, err))
		} else if port != "0" && (c.PKIAddr == c.PortalAddr || c.PKIAddr == c.CertPortalAddr) {
			errs = append(errs, errors.New("pki_addr must differ from portal_addr and cert_portal_addr"))
		}
	}
	if c.OpsAddr != "" {
		if _, port, err := net.SplitHostPort(c.OpsAddr); err != nil {
			errs = append(errs, fmt.Errorf("ops_addr %q: %w", c.OpsAddr, err))
		} else if port != "0" && (c.OpsAddr == c.PortalAddr || c.OpsAddr == c.CertPortalAddr || c.OpsAddr == c.PKIAddr) {
			errs = append(errs, errors.New("ops_addr must differ from portal_addr, cert_portal_addr and pki_addr"))
		}
	}
	if c.ConsoleAddr != "" {
		if _, port, err := net.SplitHostPort(c.ConsoleAddr); err != nil {
			errs = append(errs, fmt.Errorf("console_addr %q: %w", c.ConsoleAddr, err))
		} else if port != "0" && (c.ConsoleAddr == c.PortalAddr || c.ConsoleAddr == c.CertPortalAddr || c.ConsoleAddr == c.PKIAddr || c.ConsoleAddr == c.OpsAddr) {
			errs = append(errs, errors.New("console_addr must differ from portal_addr, cert_portal_addr, pki_addr and ops_addr"))
		}
	}
	if err := checkPKIURL(c.PKIURL); err != nil {
		errs = append(errs, fmt.Errorf("pki_url %q: %w", c.PKIURL, err))
	}
	if c.CertValidity < 0 || (c.CertValidity > 0 && time.Duration(c.CertValidity) < time.Hour) {
		errs = append(errs, errors.New("cert_validity must be at least 1h (or empty for one year)"))
	}
	if c.RenewalWindow < 0 || (c.RenewalWindow > 0 && time.Duration(c.RenewalWindow) < 24*time.Hour) {
		errs = append(errs, errors.New("renewal_window must be at least 24h (or empty for 40 days)"))
	}
	if c.CRLValidity < 0 || (c.CRLValidity > 0 && time.Duration(c.CRLValidity) < time.Hour) {
		errs = append(errs, errors.New("crl_validity must be at least 1h (or empty for 24h)"))
	}
	if c.PasswordMemoryMiB < 0 {
		errs = append(errs, errors.New("password_memory_mib must not be negative (or empty for 128)"))
	}
	if time.Duration(c.SessionIdleTimeout) < time.Minute {
		errs = append(errs, errors.New("session_idle_timeout must be at least 1m"))
	}
	if c.ShutdownTimeout < Duration(time.Second) {
		errs = append(errs, errors.New("shutdown_timeout must be at least 1s"))
	}
	if c.SessionAbsoluteTimeout < c.SessionIdleTimeout {
		errs = append(errs, errors.New("session_absolute_timeout must not be shorter than session_idle_timeout"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log_format %q: want text or json", c.LogFormat))
	}
	for _, n := range c.ServerNames {
		if n == "" || strings.ContainsAny(n, " /:") && net.ParseIP(n) == nil {
			errs = append(errs, fmt.Errorf("server_names: %q is not a host name or IP address", n))
		}
	}
	for name, u := range map[string]string{"portal_url": c.PortalURL, "cert_portal_url": c.CertPortalURL} {
		if err := checkPublicURL(u); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, u, err))
		}
	}
	for name, h := range map[string]string{"service_hours.weekdays": c.ServiceHours.Weekdays, "service_hours.weekends": c.ServiceHours.Weekends} {
		if h != "" && !ValidHours(h) {
			errs = append(errs, fmt.Errorf("%s %q: want HH:MM-HH:MM (the end after the start, at most 24:00) or closed", name, h))
		}
	}
	errs = append(errs, c.validateMail()...)
	errs = append(errs, c.validateThrottle()...)
	errs = append(errs, c.validateDB()...)
	errs = append(errs, c.validateProxies()...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// validateProxies checks trusted_proxies and proxy_protocol.
func (c Config) validateProxies() []error {
	var errs []error
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			errs = append(errs, fmt.Errorf("trusted_proxies: %q is neither a CIDR (10.0.0.0/8) nor an IP address", p))
		}
	}
	if c.ProxyProtocol && len(c.TrustedProxies) == 0 {
		errs = append(errs, errors.New("proxy_protocol needs trusted_proxies: the addresses whose PROXY headers are believed"))
	}
	return errs
}

// validateMail checks the smtp_* keys and mail_from.
func (c Config) validateMail() []error {
	var errs []error
	switch c.SMTPTLS {
	case "", "starttls", "tls":
	case "none":
		if c.SMTPHost != "" && !loopbackHost(c.SMTPHost) {
			errs = append(errs, fmt.Errorf("smtp_tls \"none\" is allowed only for a mail server on a loopback address (localhost, 127.0.0.1, ::1), not %q: use starttls or tls", c.SMTPHost))
		}
	default:
		errs = append(errs, fmt.Errorf("smtp_tls %q: want starttls, tls or none", c.SMTPTLS))
	}
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		errs = append(errs, fmt.Errorf("smtp_port %d: want 1 to 65535 (or empty for the default of smtp_tls)", c.SMTPPort))
	}
	if c.SMTPHost != "" && (strings.ContainsAny(c.SMTPHost, " /") || strings.Contains(c.SMTPHost, ":") && net.ParseIP(c.SMTPHost) == nil) {
		errs = append(errs, fmt.Errorf("smtp_host %q: want a host name or IP address, without a port (use smtp_port)", c.SMTPHost))
	}
	if c.SMTPHost == "" {
		for key, v := range map[string]string{"smtp_user": c.SMTPUser, "smtp_password_file": c.SMTPPasswordFile} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s needs smtp_host", key))
			}
		}
		if c.SMTPPort != 0 {
			errs = append(errs, errors.New("smtp_port needs smtp_host"))
		}
	}
	if c.SMTPHost != "" && c.MailFrom == "" {
		errs = append(errs, errors.New("mail_from is required with smtp_host (the From address of the mails, such as noreply@bank.example)"))
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			errs = append(errs, fmt.Errorf("mail_from %q: want an address such as noreply@bank.example or \"Bank <noreply@bank.example>\": %w", c.MailFrom, err))
		}
	}
	if c.IssuingKey != "" && !strings.HasPrefix(c.IssuingKey, "pkcs11:") {
		errs = append(errs, errors.New("issuing_key: want a PKCS#11 URI (pkcs11:token=...;object=...?module-path=...), or nothing for the key file"))
	}
	if (c.ServerCertFile == "") != (c.ServerKeyFile == "") {
		errs = append(errs, errors.New("server_cert_file and server_key_file go together: set both, or neither"))
	}
	if (c.SMTPUser == "") != (c.SMTPPasswordFile == "") {
		errs = append(errs, errors.New("smtp_user and smtp_password_file go together: set both for AUTH, or neither"))
	}
	return errs
}

// loopbackHost reports whether host is localhost or a loopback IP address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPublicURL checks a portal's public URL: empty, or https://host with
// an optional port and no path, query or fragment.
func checkPublicURL(s string) error { return checkListenerURL(s, "https", "") }

// checkPKIURL checks the PKI listener's public URL: empty, or http://host
// with an optional port and no path, query or fragment (CRLs and OCSP
// responses are signed; relying parties fetch them over HTTP).
func checkPKIURL(s string) error {
	return checkListenerURL(s, "http", " (CRLs and OCSP responses are signed; relying parties fetch them over HTTP)")
}

// checkListenerURL checks that s is empty or scheme://host[:port] with
// nothing else; why is added to the scheme error.
func checkListenerURL(s, scheme, why string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != scheme || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("want %[1]s://host or %[1]s://host:port%[2]s", scheme, why)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.User != nil:
		return errors.New("want no path, query, fragment or user")
	}
	return nil
}

// ValidHours reports whether s is "closed" or a span "HH:MM-HH:MM" of one
// day, the end after the start and at most 24:00.
func ValidHours(s string) bool {
	if s == "closed" {
		return true
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	a, okA := minuteOfDay(from)
	b, okB := minuteOfDay(to)
	return okA && okB && a < b && b <= 24*60
}

// minuteOfDay parses "HH:MM" (00:00 to 24:00).
func minuteOfDay(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// Redacted returns the config as JSON for logs, with the password in a DSN
// and the PIN in the issuing key's URI hidden.
func (c Config) Redacted() string {
	if path, query, ok := strings.Cut(c.IssuingKey, "?"); ok {
		attrs := strings.Split(query, "&")
		for i, a := range attrs {
			if k, _, _ := strings.Cut(a, "="); strings.EqualFold(k, "pin-value") {
				attrs[i] = k + "=REDACTED"
			}
		}
		c.IssuingKey = path + "?" + strings.Join(attrs, "&")
	}
	if u, err := url.Parse(c.DB); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			c.DB = u.String()
		}
	}
	c.DB = kvPassword.ReplaceAllString(c.DB, "${1}REDACTED")
	b, _ := json.Marshal(c)
	return string(b)
}

// kvPassword matches the password of a key=value PostgreSQL DSN
// (password=secret, password = 'a secret'), to hide it.
var kvPassword = regexp.MustCompile(`((?:^|\s)(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']\S*)`)

// MaxDBConns is the most connections db_max_open_conns may ask for.
const MaxDBConns = 1000

// validateDB checks the db_* keys.
func (c Config) validateDB() []error {
	if c.DBMaxOpenConns < 0 || c.DBMaxOpenConns > MaxDBConns {
		return []error{fmt.Errorf("db_max_open_conns %d: want 1 to %d (or empty for 20 on PostgreSQL, 8 on SQLite)", c.DBMaxOpenConns, MaxDBConns)}
	}
	return nil
}

// withThrottleDefaults sets the empty keys of the login throttle.
func (c *Config) withThrottleDefaults() {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *Duration, d time.Duration) {
		if *v == 0 {
			*v = Duration(d)
		}
	}
	setInt(&c.LoginThrottleIDFree, DefaultLoginThrottleIDFree)
	setDur(&c.LoginThrottleIDDelay, DefaultLoginThrottleIDDelay)
	setDur(&c.LoginThrottleIDMaxDelay, DefaultLoginThrottleIDMaxDelay)
	setDur(&c.LoginThrottleIDWindow, DefaultLoginThrottleIDWindow)
	setInt(&c.LoginThrottleAddressFree, DefaultLoginThrottleAddressFree)
	setDur(&c.LoginThrottleAddressDelay, DefaultLoginThrottleAddressDelay)
	setDur(&c.LoginThrottleAddressMaxDelay, DefaultLoginThrottleAddressMaxDelay)
	setDur(&c.LoginThrottleAddressWindow, DefaultLoginThrottleAddressWindow)
}

// validateThrottle checks the keys of the login throttle, empty ones
// taken as their defaults.
func (c Config) validateThrottle() []error {
	c.withThrottleDefaults()
	var errs []error
	for _, r := range []struct {
		name               string
		free               int
		delay, max, window Duration
	}{
		{"login_throttle_id", c.LoginThrottleIDFree, c.LoginThrottleIDDelay, c.LoginThrottleIDMaxDelay, c.LoginThrottleIDWindow},
		{"login_throttle_address", c.LoginThrottleAddressFree, c.LoginThrottleAddressDelay, c.LoginThrottleAddressMaxDelay, c.LoginThrottleAddressWindow},
	} {
		if r.free < 1 {
			errs = append(errs, fmt.Errorf("%s_free must be at least 1", r.name))
		}
		if time.Duration(r.delay) < time.Second {
			errs = append(errs, fmt.Errorf("%s_delay must be at least 1s", r.name))
		}
		if r.max < r.delay {
			errs = append(errs, fmt.Errorf("%s_max_delay must not be shorter than %s_delay", r.name, r.name))
		}
		if r.window < r.max {
			errs = append(errs, fmt.Errorf("%s_window must not be shorter than %s_max_delay", r.name, r.name))
		}
	}
	return errs
}
