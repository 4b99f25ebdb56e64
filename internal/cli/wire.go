package cli

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"kinko/internal/api"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/config"
	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
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

// app is kinko wired together.
type app struct {
	cfg       config.Config
	db        *store.DB
	authority *pki.Authority
	identity  *identity.Service
	certs     *certs.Service
	auth      *auth.Manager
	logger    *slog.Logger
}

// openApp opens the database and the authority and builds the services.
func openApp(ctx context.Context, cfg config.Config, logger *slog.Logger) (*app, error) {
	authority, err := pki.Load(pkiDir(cfg.DataDir))
	if err != nil {
		return nil, fmt.Errorf("%w (run \"kinko init --data %s\" first)", err, cfg.DataDir)
	}
	db, err := store.Open(ctx, dsnFor(cfg.DataDir, cfg.DB))
	if err != nil {
		return nil, err
	}
	a, err := newApp(cfg, db, authority, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func newApp(cfg config.Config, db *store.DB, authority *pki.Authority, logger *slog.Logger) (*app, error) {
	ident, err := identity.New(identity.Config{Store: db, Hasher: identity.Hasher{Params: identity.DefaultParams}})
	if err != nil {
		return nil, err
	}
	issuer, err := pki.NewIssuer(authority.Issuing, authority.IssuingKey, rand.Reader)
	if err != nil {
		return nil, err
	}
	validity := certs.OneYear
	if d := time.Duration(cfg.CertValidity); d > 0 {
		validity = func(nb time.Time) time.Time { return nb.Add(d) }
	}
	cs := certs.New(certs.Config{Store: db, Identity: ident, Issuer: issuer, Validity: validity})
	am := auth.New(auth.Config{Store: db, Identity: ident, Certs: cs,
		IdleTimeout: time.Duration(cfg.SessionIdleTimeout), AbsoluteTimeout: time.Duration(cfg.SessionAbsoluteTimeout)})
	return &app{cfg: cfg, db: db, authority: authority, identity: ident, certs: cs, auth: am, logger: logger}, nil
}

// server builds the listeners.
func (a *app) server() (*server.Server, error) {
	cert, err := a.authority.ServerCertificate(a.cfg.ServerNames, time.Now(), nil)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(a.authority.Issuing)
	chain := a.authority.ClientCAChainPEM()
	portal := api.New(api.Config{Listener: api.Portal, Identity: a.identity, Certs: a.certs, Auth: a.auth, CAChain: chain, Logger: a.logger})
	certPortal := api.New(api.Config{Listener: api.CertPortal, Identity: a.identity, Certs: a.certs, Auth: a.auth, CAChain: chain, Logger: a.logger})
	idle := time.Duration(a.cfg.SessionIdleTimeout)
	return server.New(server.Config{
		PortalAddr: a.cfg.PortalAddr, CertPortalAddr: a.cfg.CertPortalAddr,
		Certificate: cert, ClientCAs: pool, Auth: a.auth,
		Portal: portal.Handler(), CertPortal: certPortal.Handler(),
		Logger: a.logger,
		Jobs: []server.Job{{Name: "expired sessions", Every: 5 * time.Minute, Run: func(ctx context.Context) error {
			_, err := a.db.DeleteExpiredSessions(ctx, time.Now(), idle)
			return err
		}}},
	}), nil
}

// run opens the listeners, reports them, and serves until ctx is done.
func (a *app) run(ctx context.Context, env Env, onReady func(portal, certPortal string) error) error {
	srv, err := a.server()
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	portal, certPortal := srv.PortalAddr().String(), srv.CertPortalAddr().String()
	if onReady != nil {
		if err := onReady(portal, certPortal); err != nil {
			return err
		}
	}
	if env.Ready != nil {
		env.Ready(portal, certPortal)
	}
	a.logger.Info("listening", "portal", "https://"+portal, "cert_portal", "https://"+certPortal)
	return srv.Serve(ctx)
}
