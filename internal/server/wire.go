package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"kinko/internal/api"
	"kinko/internal/audit"
	"kinko/internal/auth"
	"kinko/internal/certs"
	"kinko/internal/identity"
	"kinko/internal/pki"
	"kinko/internal/store"
	"kinko/internal/web"
)

// Parts are the settings and dependencies from which Assemble builds
// kinko's services.
type Parts struct {
	DB          *store.DB
	Authority   *pki.Authority
	Logger      *slog.Logger
	Now         func() time.Time // default time.Now
	Rand        io.Reader        // default crypto/rand
	Hasher      identity.Params  // default identity.DefaultParams
	Validity    certs.Validity   // default certs.OneYear
	IdleTimeout time.Duration    // default 15 minutes
	MaxSession  time.Duration    // default 12 hours
	ServerNames []string         // default localhost, 127.0.0.1
	ServerCert  *tls.Certificate // default: the authority's server certificate for ServerNames
	// PortalURL and CertPortalURL are the listeners' addresses as users
	// reach them; default https:// + the host of the request + the
	// listener's port.
	PortalURL     string
	CertPortalURL string
	ServiceHours  web.ServiceHours // default web.DefaultServiceHours
}

// Services are kinko's domain services, wired to one database and authority.
type Services struct {
	Parts    Parts
	Identity *identity.Service
	Certs    *certs.Service
	Auth     *auth.Manager
}

// Assemble builds the services.
func Assemble(p Parts) (*Services, error) {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Rand == nil {
		p.Rand = rand.Reader
	}
	if p.Hasher.MemoryKiB == 0 {
		p.Hasher = identity.DefaultParams
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	ident, err := identity.New(identity.Config{Store: p.DB, Hasher: identity.Hasher{Params: p.Hasher, Rand: p.Rand}, Now: p.Now, Rand: p.Rand})
	if err != nil {
		return nil, err
	}
	var issuer *pki.Issuer
	if p.Authority != nil {
		if issuer, err = pki.NewIssuer(p.Authority.Issuing, p.Authority.IssuingKey, p.Rand); err != nil {
			return nil, err
		}
	}
	cs := certs.New(certs.Config{Store: p.DB, Identity: ident, Issuer: issuer, Validity: p.Validity, Now: p.Now, Rand: p.Rand})
	am := auth.New(auth.Config{Store: p.DB, Identity: ident, Certs: cs, Now: p.Now, Rand: p.Rand,
		IdleTimeout: p.IdleTimeout, AbsoluteTimeout: p.MaxSession})
	return &Services{Parts: p, Identity: ident, Certs: cs, Auth: am}, nil
}

// Server builds the listeners for the services.
func (s *Services) Server(portalAddr, certPortalAddr string) (*Server, error) {
	p := s.Parts
	var cert tls.Certificate
	if p.ServerCert != nil {
		cert = *p.ServerCert
	} else {
		names := p.ServerNames
		if len(names) == 0 {
			names = []string{"localhost", "127.0.0.1"}
		}
		var err error
		if cert, err = p.Authority.ServerCertificate(names, p.Now(), nil); err != nil {
			return nil, err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.Authority.Issuing)
	chain := p.Authority.ClientCAChainPEM()
	mk := func(l api.Listener) *api.API {
		return api.New(api.Config{Listener: l, Identity: s.Identity, Certs: s.Certs, Auth: s.Auth, CAChain: chain, Logger: p.Logger, Now: p.Now})
	}
	var srv *Server
	addrs := func() (net.Addr, net.Addr) {
		if srv == nil || srv.portalLn == nil || srv.certLn == nil {
			return nil, nil
		}
		return srv.PortalAddr(), srv.CertPortalAddr()
	}
	// mount serves the API at /api/ and /pki/ and the pages elsewhere. On
	// the certificate portal every request first needs an active
	// certificate; a refusal is explained in JSON to the API and on a page
	// to the browser.
	mount := func(l api.Listener) (http.Handler, error) {
		w, err := web.New(web.Config{Listener: l, Identity: s.Identity, Certs: s.Certs, Auth: s.Auth,
			Logins: loginHistory{p.DB}, ServiceHours: p.ServiceHours,
			PortalURL: p.PortalURL, CertPortalURL: p.CertPortalURL, Addrs: addrs,
			Logger: p.Logger, Now: p.Now, Rand: p.Rand})
		if err != nil {
			return nil, err
		}
		a := mk(l)
		mux := http.NewServeMux()
		mux.Handle("/api/", a.Handler())
		mux.Handle("/pki/", a.Handler())
		mux.Handle("/", w.Handler())
		if l != api.CertPortal {
			return mux, nil
		}
		refuse := func(rw http.ResponseWriter, r *http.Request, err error) {
			if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/pki/") {
				a.Refuse(rw, r, err)
				return
			}
			w.RefuseCertificate(rw, r, err)
		}
		return RequireCertificate(mux, s.Auth, "/static/", refuse), nil
	}
	portal, err := mount(api.Portal)
	if err != nil {
		return nil, err
	}
	certPortal, err := mount(api.CertPortal)
	if err != nil {
		return nil, err
	}
	idle := s.Auth.IdleTimeout()
	srv = New(Config{
		PortalAddr: portalAddr, CertPortalAddr: certPortalAddr,
		Certificate: cert, ClientCAs: pool, Auth: s.Auth,
		Portal: portal, CertPortal: certPortal,
		Logger: p.Logger, Now: p.Now,
		Jobs: []Job{{Name: "expired sessions", Every: 5 * time.Minute, Run: func(ctx context.Context) error {
			_, err := p.DB.DeleteExpiredSessions(ctx, p.Now(), idle)
			return err
		}}},
	})
	return srv, nil
}

// loginHistory gives the web the last logins from the audit log.
type loginHistory struct{ db *store.DB }

// RecentLogins returns the times of the user's last n successful logins,
// newest first.
func (h loginHistory) RecentLogins(ctx context.Context, userID int64, n int) ([]time.Time, error) {
	evs, err := h.db.ListAudit(ctx, store.AuditFilter{UserID: userID, Type: audit.LoginSucceeded, Limit: n, NewestFirst: true})
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, len(evs))
	for i, ev := range evs {
		out[i] = ev.At
	}
	return out, nil
}
