package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"kinko/internal/banking"
	"kinko/internal/calendar"
	"kinko/internal/config"
	"kinko/internal/demo"
	"kinko/internal/operators"
	"kinko/internal/pki"
	"kinko/internal/server"
	"kinko/internal/store"
)

// runDemo is "kinko demo", the trial version (体験版): it creates the
// authority and seeds two organizations on first start, reuses them later,
// and serves both listeners.
func runDemo(ctx context.Context, args []string, env Env) error {
	fs := newFlags("demo", env)
	data := fs.String("data", "./kinko-demo", "data directory")
	db := fs.String("db", "", "PostgreSQL DSN (default: SQLite in the data directory)")
	portalAddr := fs.String("portal-addr", config.DefaultPortalAddr, "portal listener address")
	certAddr := fs.String("cert-addr", config.DefaultCertPortalAddr, "certificate portal listener address")
	pkiAddr := fs.String("pki-addr", "", "plain-HTTP listener address of the CRL and OCSP (default: the portal's host, port "+config.DefaultPKIPort+", or port 0 when the portal's is 0)")
	opsAddr := fs.String("ops-addr", "", "operations listener address, plain HTTP: /healthz, /readyz, /metrics (default: "+config.DefaultDemoOpsAddr+", or port 0 on 127.0.0.1 when the portal's port is 0)")
	consoleAddr := fs.String("console", "", "operator console listener address, TLS with an operator's certificate (default: "+config.DefaultDemoConsoleAddr+", or port 0 on 127.0.0.1 when the portal's port is 0)")
	validity := fs.Duration("cert-validity", 0, "client certificate validity (default: one calendar year)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *opsAddr == "" {
		*opsAddr = config.DefaultDemoOpsAddr
		if _, port, err := net.SplitHostPort(*portalAddr); err == nil && port == "0" {
			*opsAddr = "127.0.0.1:0"
		}
	}
	if *consoleAddr == "" {
		*consoleAddr = config.DefaultDemoConsoleAddr
		if _, port, err := net.SplitHostPort(*portalAddr); err == nil && port == "0" {
			*consoleAddr = "127.0.0.1:0"
		}
	}
	cfg := config.Config{DataDir: *data, DB: *db, PortalAddr: *portalAddr, CertPortalAddr: *certAddr, PKIAddr: *pkiAddr, OpsAddr: *opsAddr,
		ConsoleAddr: *consoleAddr,
		BankName:    "kinko demo bank", CertValidity: config.Duration(*validity), LogLevel: *logLevel,
		// The trial is open at all hours: no maintenance nights.
		OperatingHours: calendar.Hours{Maintenance: []calendar.Window{}}}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := newLogger(env.Stderr, cfg.LogLevel, cfg.LogFormat)
	dir := pkiDir(cfg.DataDir)
	// The trial keeps its root key in its own data directory, in a
	// directory of its own that the server never reads: it renews its
	// server certificate here, before the server starts, as a bank does
	// with the ceremony.
	rootDir := demoRootDir(cfg.DataDir)
	if err := pki.Create(dir, pki.CreateOptions{Name: cfg.BankName, RootDir: rootDir, ServerNames: cfg.ServerNames}); err != nil && !errors.Is(err, pki.ErrExists) {
		return err
	} else if err == nil {
		fmt.Fprintf(env.Stdout, "Created the demo bank's certificate authority in %s.\n", dir)
	}
	ceremony, err := pki.LoadWithRoot(dir, rootDir)
	if err != nil {
		return err
	}
	// A demo data directory made before the operator CA gets it here.
	if _, err := pki.LoadOperatorCA(dir); errors.Is(err, pki.ErrNoOperatorCA) {
		if err := ceremony.CreateOperatorCA(nowFunc(), nil); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Created the demo bank's operator CA in %s.\n", dir)
	}
	if _, err := ceremony.ServerCertificate(cfg.ServerNames, nowFunc(), nil); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()
	srv, err := a.listen()
	if err != nil {
		return err
	}
	parts := srv.Services.Parts
	orgs, err := demo.Seed(ctx, demo.Config{Store: a.db, Hasher: parts.Hasher, BankCode: parts.BankCode,
		Calendar: parts.Calendar, Cutoff: parts.Cutoff, Fees: parts.Fees})
	if err != nil {
		srv.Close()
		return err
	}
	serverCA, err := filepath.Abs(filepath.Join(dir, pki.RootCertFile))
	if err != nil {
		srv.Close()
		return err
	}
	f := demo.File{PortalURL: "https://" + srv.PortalAddr().String(), CertPortalURL: "https://" + srv.CertPortalAddr().String(),
		PKIURL: "http://" + srv.PKIAddr().String(), ServerCA: serverCA, Organizations: orgs, ConsoleURL: srv.ConsoleURL()}
	if srv.Services.OperatorCA != nil {
		if f.Operators, err = seedOperators(ctx, srv.Services, cfg.DataDir); err != nil {
			srv.Close()
			return err
		}
	}
	if err := f.Write(demo.Path(cfg.DataDir)); err != nil {
		srv.Close()
		return err
	}
	payroll, payday, err := demo.PayrollFile(orgs, parts.BankCode, parts.Calendar, nowFunc())
	if err != nil {
		srv.Close()
		return err
	}
	payrollPath := filepath.Join(cfg.DataDir, demo.PayrollFileName)
	if err := os.WriteFile(payrollPath, payroll, 0o600); err != nil {
		srv.Close()
		return err
	}
	printDemo(env, f, cfg, a.db.Dialect())
	fmt.Fprintf(env.Stdout, `
給与振込 (payroll): %s is a sample 給与振込 file of %s paying its staff on %s.
Upload it on 総合振込（ファイル） as %s (no 給与振込の照会: names and amounts hidden) and
confirm it; %s approves it seeing the count and total only; the master %s sees everything
and gives 給与振込の照会 on a user's privileges page.
`, payrollPath, f.Organizations[0].Name, payday, f.Organizations[0].Users[1].LoginID, f.Organizations[0].Users[2].LoginID,
		f.Organizations[0].Users[0].LoginID)
	return a.run(ctx, env, srv)
}

func printDemo(env Env, f demo.File, cfg config.Config, dialect store.Dialect) {
	w := env.Stdout
	fmt.Fprintf(w, "\nkinko demo (体験版) is running. Stop it with Ctrl-C; the data stays in %s (%s).\n\n", cfg.DataDir, dialect)
	fmt.Fprintf(w, "  Portal (ID+password login, 電子証明書発行):  %s\n", f.PortalURL)
	fmt.Fprintf(w, "  Certificate portal (電子証明書ログイン):       %s\n", f.CertPortalURL)
	fmt.Fprintf(w, "  CRL and OCSP (失効リスト):                   %s/pki/crl, %s/pki/ocsp\n", f.PKIURL, f.PKIURL)
	fmt.Fprintf(w, "  Server CA to trust:                          %s\n", f.ServerCA)
	mailDir := filepath.Join(cfg.DataDir, "mail")
	if abs, err := filepath.Abs(mailDir); err == nil {
		mailDir = abs
	}
	fmt.Fprintf(w, "  Mails (メール, written as .eml files, not sent): %s\n", mailDir)
	if f.ConsoleURL != "" {
		fmt.Fprintf(w, "  Operator console (銀行のオペレータ画面):      %s\n", f.ConsoleURL)
		for _, o := range f.Operators {
			fmt.Fprintf(w, "    %-8s %s %s: certificate %s, file password %s\n", o.Name, o.DisplayName, o.RoleLabel, o.PKCS12File, o.PKCS12Password)
		}
		fmt.Fprintln(w, "    Import an operator's file into the browser's certificates (Windows, macOS: open it;")
		fmt.Fprintln(w, "    Chrome on Linux: pk12util -i FILE -d sql:$HOME/.pki/nssdb), then open the console with it.")
	}
	fmt.Fprintln(w)
	for _, o := range f.Organizations {
		mode := "ID + password login"
		if o.CertificateLogin {
			mode = "certificate login (電子証明書方式)"
		}
		fmt.Fprintf(w, "  %s (code %s): %s\n", o.Name, o.Code, mode)
		for _, u := range o.Users {
			fmt.Fprintf(w, "    %-7s %-9s password %-16s confirmation %s\n", u.Role, u.LoginID, u.Password, u.ConfirmationPassword)
		}
		for _, a := range o.Accounts {
			fmt.Fprintf(w, "    口座 account %d: %s %s-%s %s, 残高 balance %s円\n", a.ID, banking.AccountType(a.Type).Label(), a.Branch, a.Number, a.Holder, groupDigits(a.Balance))
		}
		if p := o.Pending; p != nil {
			fmt.Fprintf(w, "    承認待ちの振込 transfer %d awaiting approval: %s %s円 on %s, requested by %s, for %s to approve\n",
				p.ID, p.PayeeName, groupDigits(p.Amount), p.ExecutionDate, p.RequestedBy, o.Users[0].LoginID)
		}
	}
	cu := f.Organizations[0].Users[1]
	fmt.Fprintf(w, `
Next: open %[2]s in Chrome or Edge, press 電子証明書発行 (certificate issuance) and issue a
certificate for %[1]s (login password %[4]s); the page saves %[1]s.p12 and explains how to
install it, then 電子証明書ログイン logs in with it (trust %[3]s in the browser first).
Without a browser:
  go run ./cmd/kinko cert enroll --portal %[2]s --ca %[3]s --login-id %[1]s --out %[1]s
    (asks for the login password %[4]s; writes %[1]s.key and %[1]s.pem)
  curl --cacert %[3]s --cert %[1]s.pem --key %[1]s.key -c cookies.txt \
       -H 'Content-Type: application/json' -d '{"password":"%[4]s"}' %[5]s/api/v1/sessions
  curl --cacert %[3]s --cert %[1]s.pem --key %[1]s.key -b cookies.txt %[5]s/api/v1/me
The same logins and URLs are in %[6]s.
`, cu.LoginID, f.PortalURL, f.ServerCA, cu.Password, f.CertPortalURL, demo.Path(cfg.DataDir))
}

// seedOperators adds the demo's operators that do not exist yet and gives
// each a certificate of the operator CA, as a PKCS#12 file in
// DATA/operators with its password in demo.json; an operator whose file
// and password a former start left is kept as it is.
func seedOperators(ctx context.Context, svc *server.Services, dataDir string) ([]demo.Operator, error) {
	prev := map[string]demo.Operator{}
	if old, err := demo.Read(demo.Path(dataDir)); err == nil {
		for _, o := range old.Operators {
			prev[o.Name] = o
		}
	}
	dir := filepath.Join(dataDir, "operators")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out []demo.Operator
	for _, o := range demo.Operators() {
		st, err := svc.Operators.StaffByName(ctx, o.Name)
		if errors.Is(err, operators.ErrNotFound) {
			st, err = svc.Operators.AddStaff(ctx, operators.NewStaff{Name: o.Name, DisplayName: o.DisplayName, Role: operators.Role(o.Role)}, "")
		}
		if err != nil {
			return nil, fmt.Errorf("demo operator %s: %w", o.Name, err)
		}
		o.RoleLabel = operators.RoleLabel(st.Role)
		o.PKCS12File, err = filepath.Abs(filepath.Join(dir, o.Name+".p12"))
		if err != nil {
			return nil, err
		}
		if p, ok := prev[o.Name]; ok && p.PKCS12Password != "" {
			if _, err := os.Stat(o.PKCS12File); err == nil {
				o.PKCS12Password = p.PKCS12Password
				out = append(out, o)
				continue
			}
		}
		p12, password, err := server.IssueOperatorCertificate(ctx, svc.OperatorCA, svc.Operators, st, svc.Parts)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(o.PKCS12File, p12, 0o600); err != nil {
			return nil, err
		}
		o.PKCS12Password = password
		out = append(out, o)
	}
	return out, nil
}

// demoRootDir is where the trial keeps its root CA's key: DATA/root, or
// DATA/pki for a trial made before the root key had a directory of its own.
func demoRootDir(dataDir string) string {
	if _, err := os.Lstat(filepath.Join(pkiDir(dataDir), pki.RootKeyFile)); err == nil {
		return pkiDir(dataDir)
	}
	return filepath.Join(dataDir, "root")
}
