package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/certs"
	"kinko/internal/config"
	"kinko/internal/hsm"
	"kinko/internal/httpedge"
	"kinko/internal/identity"
	"kinko/internal/notify"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
	"kinko/internal/web"
	"kinko/internal/zengin"
)

// pkiDir is where the authority lives in a data directory.
func pkiDir(dataDir string) string { return filepath.Join(dataDir, "pki") }

// dsnFor returns the database DSN of a config: the DB setting, or SQLite
// in the data directory.
func dsnFor(dataDir, db string) string {
	if db != "" {
		return db
	}
	return store.SQLitePath(dataDir)
}

// app is kinko wired together: the database and the parts of a server.
type app struct {
	cfg    config.Config
	db     *store.DB
	parts  server.Parts
	logger *slog.Logger
	hsmKey *hsm.Key // the issuing key in an HSM, when the config names one
}

// close closes the database and the HSM's sessions.
func (a *app) close() {
	a.db.Close()
	if a.hsmKey != nil {
		a.hsmKey.Close()
	}
}

// openAuthority loads the authority of the data directory with the issuing
// key of the config: the key file, or the key in an HSM. The root CA's key
// is never read: a server signs with the issuing key alone.
func openAuthority(cfg config.Config, logger *slog.Logger) (*pki.Authority, *hsm.Key, error) {
	dir := pkiDir(cfg.DataDir)
	if _, err := os.Lstat(filepath.Join(dir, pki.RootKeyFile)); err == nil {
		logger.Warn("the root CA's key is in the data directory; the server does not use it: move it offline (docs/keys.md)",
			"file", filepath.Join(dir, pki.RootKeyFile))
	}
	if cfg.IssuingKey == "" {
		a, err := pki.Load(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (run \"kinko init --data %s --root-dir DIR\" first)", err, cfg.DataDir)
		}
		return a, nil, nil
	}
	key, err := hsm.Open(cfg.IssuingKey)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing_key: %w", err)
	}
	a, err := pki.LoadWithSigner(dir, key)
	if err != nil {
		key.Close()
		return nil, nil, fmt.Errorf("issuing_key: %w", err)
	}
	logger.Info("the issuing CA's key is in an HSM", "key", hsm.Redact(cfg.IssuingKey))
	return a, key, nil
}

// openApp opens the database and the authority and gathers the parts of
// a server from cfg.
func openApp(ctx context.Context, cfg config.Config, logger *slog.Logger) (*app, error) {
	authority, hsmKey, err := openAuthority(cfg, logger)
	if err != nil {
		return nil, err
	}
	var serverCert *tls.Certificate
	if cfg.ServerCertFile != "" {
		c, err := pki.LoadServerCertificateFiles(cfg.ServerCertFile, cfg.ServerKeyFile, cfg.ServerNames, nowFunc())
		if err != nil {
			if hsmKey != nil {
				hsmKey.Close()
			}
			return nil, fmt.Errorf("server_cert_file: %w", err)
		}
		serverCert = &c
	}
	db, err := store.OpenWith(ctx, dsnFor(cfg.DataDir, cfg.DB), store.Options{MaxOpenConns: cfg.DBMaxOpenConns})
	if err != nil {
		if hsmKey != nil {
			hsmKey.Close()
		}
		return nil, err
	}
	logger.Info("database", "engine", string(db.Dialect()), "schema_version", db.SchemaVersion(),
		"at", db.Where(), "max_open_conns", db.SQL().Stats().MaxOpenConnections)
	db.SetMailRules(notify.Rules{})
	var smtp *notify.SMTP
	if cfg.SMTPHost != "" {
		smtp = &notify.SMTP{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUser,
			Password: cfg.SMTPPassword, From: cfg.MailFrom, TLS: cfg.SMTPTLS}
	}
	cal := calendar.Default()
	if cfg.HolidaysFile != "" {
		f, err := os.Open(cfg.HolidaysFile)
		if err != nil {
			(&app{db: db, hsmKey: hsmKey}).close()
			return nil, fmt.Errorf("holidays_file: %w", err)
		}
		h, err := calendar.LoadHolidays(f)
		f.Close()
		if err != nil {
			(&app{db: db, hsmKey: hsmKey}).close()
			return nil, fmt.Errorf("holidays_file %s: %w", cfg.HolidaysFile, err)
		}
		cal = calendar.New(h)
	}
	// The names of banks and branches: the operator's newer copy in the
	// data directory (kinko operator banks import), else those shipped.
	banks, err := zengin.OpenDirectory(cfg.DataDir)
	if err != nil {
		(&app{db: db, hsmKey: hsmKey}).close()
		return nil, fmt.Errorf("bank names: %w", err)
	}
	var validity certs.Validity
	if d := time.Duration(cfg.CertValidity); d > 0 {
		validity = func(nb time.Time) time.Time { return nb.Add(d) }
	}
	parts := server.Parts{DB: db, Authority: authority, ServerCert: serverCert, Logger: logger, Validity: validity,
		RenewalWindow: time.Duration(cfg.RenewalWindow),
		BankCode:      cfg.BankCode, Calendar: cal, Cutoff: cfg.TransferCutoff, Hours: cfg.OperatingHours,
		PayrollDays: cfg.PayrollDeadlineDays, PayrollCutoff: cfg.PayrollCutoff,
		SMTP: smtp, MailDir: filepath.Join(cfg.DataDir, "mail"), MailFrom: cfg.MailFrom, BankName: cfg.BankName,
		IdleTimeout: time.Duration(cfg.SessionIdleTimeout), MaxSession: time.Duration(cfg.SessionAbsoluteTimeout),
		PasswordMemoryMiB: cfg.PasswordMemoryMiB, Banks: banks,
		// The operator console, when console_addr is set; the interbank
		// files it exports go to the data directory.
		Console:     server.ConsoleHandler(filepath.Join(cfg.DataDir, "interbank")),
		ServerNames: cfg.ServerNames, PortalURL: cfg.PortalURL, CertPortalURL: cfg.CertPortalURL, CRLValidity: time.Duration(cfg.CRLValidity),
		PKIURL: cfg.PKIURL, ShutdownTimeout: time.Duration(cfg.ShutdownTimeout),
		Throttle:    throttleOf(cfg),
		PayeeChecks: cfg.PayeeChecks, PayeeCheckWindow: time.Duration(cfg.PayeeCheckWindow),
		Fees:         feesOf(cfg),
		ServiceHours: web.ServiceHours{Weekdays: cfg.ServiceHours.Weekdays, Weekends: cfg.ServiceHours.Weekends}}
	if parts.TrustedProxies, err = httpedge.ParseProxies(cfg.TrustedProxies); err != nil {
		db.Close()
		return nil, err
	}
	parts.ProxyProtocol = cfg.ProxyProtocol
	return &app{cfg: cfg, db: db, parts: parts, logger: logger, hsmKey: hsmKey}, nil
}

// throttleOf returns the login throttle of a config.
func throttleOf(cfg config.Config) identity.Throttle {
	return identity.Throttle{
		PerLoginID: identity.ThrottleRule{Free: cfg.LoginThrottleIDFree, Base: time.Duration(cfg.LoginThrottleIDDelay),
			Max: time.Duration(cfg.LoginThrottleIDMaxDelay), Window: time.Duration(cfg.LoginThrottleIDWindow)},
		PerAddress: identity.ThrottleRule{Free: cfg.LoginThrottleAddressFree, Base: time.Duration(cfg.LoginThrottleAddressDelay),
			Max: time.Duration(cfg.LoginThrottleAddressMaxDelay), Window: time.Duration(cfg.LoginThrottleAddressWindow)},
	}
}

// listen opens the listeners of the config's addresses, then builds the
// server on them.
func (a *app) listen() (*server.Server, error) {
	ln, err := server.Listen(server.Addrs{Portal: a.cfg.PortalAddr, CertPortal: a.cfg.CertPortalAddr, PKI: a.cfg.PKIAddr, Ops: a.cfg.OpsAddr,
		Console: a.cfg.ConsoleAddr})
	if err != nil {
		return nil, err
	}
	srv, err := server.New(a.parts, ln)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return srv, nil
}

// run reports the server's listeners and serves until ctx is done.
func (a *app) run(ctx context.Context, env Env, srv *server.Server) error {
	portal, certPortal := srv.PortalAddr().String(), srv.CertPortalAddr().String()
	if env.Ready != nil {
		env.Ready(portal, certPortal)
	}
	attrs := []any{"portal", "https://" + portal, "cert_portal", "https://" + certPortal, "pki", "http://" + srv.PKIAddr().String()}
	if ops := srv.OpsAddr(); ops != nil {
		attrs = append(attrs, "ops", "http://"+ops.String())
	}
	if console := srv.ConsoleAddr(); console != nil {
		attrs = append(attrs, "console", "https://"+console.String())
	}
	a.logger.Info("listening", attrs...)
	return srv.Serve(ctx)
}

// feesOf returns the fee table of a config with defaults applied.
func feesOf(cfg config.Config) *banking.FeeTable {
	f := cfg.TransferFees
	band := func(below, from string) banking.FeeBand {
		return banking.FeeBand{Below30000: f.Fee(below), From30000: f.Fee(from)}
	}
	return &banking.FeeTable{
		SameBranch:  band("same_branch_below_30000", "same_branch_from_30000"),
		OtherBranch: band("other_branch_below_30000", "other_branch_from_30000"),
		OtherBank:   band("other_bank_below_30000", "other_bank_from_30000"),
	}
}
