package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"kinko/internal/config"
	"kinko/internal/notify"
	"kinko/internal/pki"
	"kinko/internal/server"
)

var nowFunc = time.Now

// runServe is "kinko serve": the bank's own installation, from a config file.
// It serves until told to stop (SIGTERM, SIGINT), then drains the requests
// in flight within shutdown_timeout; each SIGHUP reloads the server
// certificate and the config (reload).
func runServe(ctx context.Context, args []string, env Env) error {
	fs := newFlags("serve", env)
	path := fs.String("config", "", "config file (JSON, see docs/config.md); KINKO_* variables override it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, env.Getenv)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar)
	level.Set(logLevel(cfg.LogLevel))
	logger := newLevelLogger(env.Stderr, level, cfg.LogFormat)
	logger.Info("starting", "config", cfg.Redacted())
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.db.Close(); err != nil {
			logger.Error("closing the database", "err", err)
		} else {
			logger.Info("database closed")
		}
		if a.hsmKey != nil {
			a.hsmKey.Close()
		}
	}()
	srv, err := a.listen()
	if err != nil {
		return err
	}
	if env.Reload != nil {
		rctx, stop := context.WithCancel(ctx)
		defer stop()
		go func() {
			for {
				select {
				case <-rctx.Done():
					return
				case <-env.Reload:
					a.reload(*path, env, srv, level)
				}
			}
		}()
	}
	return a.run(ctx, env, srv)
}

// reloadable are the config keys that a reload applies to a running
// server; every other key changes at the next start (docs/signals.md).
var reloadable = []string{"log_level", "smtp_host", "smtp_port", "smtp_user", "smtp_password_file", "smtp_tls", "mail_from",
	"login_throttle_id_free", "login_throttle_id_delay", "login_throttle_id_max_delay", "login_throttle_id_window",
	"login_throttle_address_free", "login_throttle_address_delay", "login_throttle_address_max_delay", "login_throttle_address_window",
	"payee_checks", "payee_check_window", "transfer_fees"}

// reload reads the server certificate and key files and the config again
// and applies what a running server can change: the certificate (for new
// connections), the log level, the mail settings, the login throttle, the
// limit of payee checks and the transfer fees. A file or config that is refused is logged,
// and the server keeps what it had.
func (a *app) reload(path string, env Env, srv *server.Server, level *slog.LevelVar) {
	a.logger.Info("reload requested")
	// The files of the start: server_cert_file and server_key_file when
	// set, else the certificate the bank's root signed in the data
	// directory.
	dir := pkiDir(a.cfg.DataDir)
	certFile, keyFile := filepath.Join(dir, pki.ServerCertFile), filepath.Join(dir, pki.ServerKeyFile)
	if a.cfg.ServerCertFile != "" {
		certFile, keyFile = a.cfg.ServerCertFile, a.cfg.ServerKeyFile
	}
	if cert, err := server.LoadCertificate(certFile, keyFile, nowFunc()); err != nil {
		a.logger.Error("reload: server certificate refused, the old one kept", "err", err)
	} else {
		srv.SetCertificate(cert)
		a.logger.Info("reload: server certificate loaded", "serial", cert.Leaf.SerialNumber.Text(16),
			"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339), "file", certFile)
	}
	cfg, err := config.Load(path, env.Getenv)
	if err != nil {
		a.logger.Error("reload: config refused, the old one kept", "err", err)
		return
	}
	// a.cfg stays the config of the start: the keys that differ from it
	// and are not reloadable wait for the next start.
	if later := restartKeys(a.cfg, cfg); len(later) > 0 {
		a.logger.Warn("reload: these keys change only at the next start", "keys", later)
	}
	level.Set(logLevel(cfg.LogLevel))
	var smtp *notify.SMTP
	if cfg.SMTPHost != "" {
		smtp = &notify.SMTP{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUser,
			Password: cfg.SMTPPassword, From: cfg.MailFrom, TLS: cfg.SMTPTLS}
	}
	srv.SetMail(server.Mail{SMTP: smtp, From: cfg.MailFrom})
	srv.Services.Identity.SetThrottle(throttleOf(cfg))
	srv.Services.Banking.SetPayeeChecks(cfg.PayeeChecks, time.Duration(cfg.PayeeCheckWindow))
	// The fee table applies to transfers requested from now on; those
	// requested keep their fees.
	if err := srv.Services.Banking.SetFees(*feesOf(cfg)); err != nil {
		a.logger.Error("reload: transfer fees refused, the old ones kept", "err", err)
	} else {
		f := srv.Services.Banking.Fees()
		a.logger.Info("reload: transfer fees", "same_branch", []int64{f.SameBranch.Below30000, f.SameBranch.From30000},
			"other_branch", []int64{f.OtherBranch.Below30000, f.OtherBranch.From30000},
			"other_bank", []int64{f.OtherBank.Below30000, f.OtherBank.From30000})
	}
	// The names of banks and branches, when the operator imported newer
	// ones; a file refused keeps the names in use.
	if err := srv.Services.Banking.Banks().Reload(a.cfg.DataDir); err != nil {
		a.logger.Error("reload: bank names refused, the old ones kept", "err", err)
	} else {
		a.logger.Info("reload: bank names", "source", srv.Services.Banking.Banks().Source(), "banks", srv.Services.Banking.Banks().Len())
	}
	a.logger.Info("reload: config applied", "log_level", cfg.LogLevel, "smtp_host", cfg.SMTPHost, "mail_from", cfg.MailFrom)
}

// restartKeys returns the keys whose values differ between old and new
// and that a reload does not apply.
func restartKeys(old, new config.Config) []string {
	a, b := keyValues(old), keyValues(new)
	var keys []string
	for k, v := range b {
		if string(a[k]) != string(v) && !slices.Contains(reloadable, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// keyValues returns a config's keys with their values in JSON.
func keyValues(c config.Config) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	b, _ := json.Marshal(c)
	_ = json.Unmarshal(b, &m)
	return m
}
