package cli

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"errors"
	"flag"
	"fmt"

	"kinko/internal/hsm"
	"kinko/internal/pki"
)

// runCA is "kinko ca": the ceremony of the root CA's operations, run where
// the root key lives (offline), on a copy of the data directory's pki
// directory that is then carried back to the servers. No server ever
// reads the root key.
func runCA(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageErr("want a subcommand: server-cert, issuing or operator")
	}
	switch args[0] {
	case "server-cert":
		return runCAServerCert(args[1:], env)
	case "issuing":
		return runCAIssuing(args[1:], env)
	case "operator":
		return runCAOperator(args[1:], env)
	}
	return usageErr("unknown subcommand %q: want server-cert, issuing or operator", args[0])
}

// caFlags are the flags every ceremony takes.
func caFlags(name string, env Env) (*flag.FlagSet, *string, *string) {
	fs := newFlags("ca "+name, env)
	data := fs.String("data", "", "data directory whose pki directory the ceremony signs for (required)")
	rootDir := fs.String("root-dir", "", "directory of the root CA's key, as given to kinko init (required)")
	return fs, data, rootDir
}

// loadCeremony loads the authority of data with the root key of rootDir.
func loadCeremony(data, rootDir string) (*pki.Authority, error) {
	if data == "" || rootDir == "" {
		return nil, usageErr("--data and --root-dir are required")
	}
	return pki.LoadWithRoot(pkiDir(data), rootDir)
}

// runCAServerCert is "kinko ca server-cert": a new server certificate for
// the listeners, signed by the root, written to DATA/pki.
func runCAServerCert(args []string, env Env) error {
	fs, data, rootDir := caFlags("server-cert", env)
	var names stringList
	fs.Var(&names, "server-name", "DNS name or IP address of the listeners (repeatable; default localhost and 127.0.0.1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := loadCeremony(*data, *rootDir)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		names = stringList{"localhost", "127.0.0.1"}
	}
	c, err := a.ServerCertificate(names, nowFunc(), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Server certificate for %s in %s, valid until %s. Copy server.pem and server.key to the servers' %s and restart them.\n",
		names.String(), a.Dir, c.Leaf.NotAfter.UTC().Format("2006-01-02"), a.Dir)
	return nil
}

// runCAIssuing is "kinko ca issuing": a new certificate for the issuing
// CA, signed by the root: for a new key file (the default), for the key
// the current certificate names (--renew), or for a key in an HSM
// (--key URI, made first with --generate).
func runCAIssuing(args []string, env Env) error {
	fs, data, rootDir := caFlags("issuing", env)
	renew := fs.Bool("renew", false, "sign a new certificate for the current issuing key (file or HSM) instead of making a new key")
	uri := fs.String("key", "", "PKCS#11 URI of the issuing key in an HSM (the issuing_key of the config)")
	generate := fs.Bool("generate", false, "with --key: generate the key (ECDSA P-256) in the HSM first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *renew && *uri != "" || *generate && *uri == "" {
		return usageErr("--renew and --key exclude each other; --generate needs --key")
	}
	a, err := loadCeremony(*data, *rootDir)
	if err != nil {
		return err
	}
	var pub crypto.PublicKey
	var key crypto.Signer // written as the new key file
	switch {
	case *renew:
		pub = a.Issuing.PublicKey
	case *uri != "":
		var k *hsm.Key
		if *generate {
			k, err = hsm.Generate(*uri, elliptic.P256())
		} else {
			k, err = hsm.Open(*uri)
		}
		if err != nil {
			return err
		}
		defer k.Close()
		pub = k.Public()
	default:
		if key, err = a.NewIssuingKey(nil); err != nil {
			return err
		}
		pub = key.Public()
	}
	der, err := a.SignIssuing(pub, nowFunc(), nil)
	if err != nil {
		return err
	}
	if err := pki.WriteIssuing(a.Dir, der, key); err != nil {
		return err
	}
	switch {
	case *renew:
		fmt.Fprintf(env.Stdout, "Renewed the issuing CA's certificate in %s. Copy %s to the servers and restart them.\n", a.Dir, pki.IssuingCertFile)
	case *uri != "":
		fmt.Fprintf(env.Stdout, "The issuing CA's certificate for the key in the HSM is in %s. Copy %s to the servers, set issuing_key to the key's URI and restart them.\n", a.Dir, pki.IssuingCertFile)
	default:
		fmt.Fprintf(env.Stdout, "New issuing CA key and certificate in %s. Copy %s and %s to the servers and restart them.\n", a.Dir, pki.IssuingCertFile, pki.IssuingKeyFile)
	}
	return nil
}

// runCAOperator is "kinko ca operator": the operator CA of an
// installation made before it had one (kinko init makes it), signed by the
// root and written to DATA/pki. It never replaces an operator CA: the
// operators' certificates chain to it.
func runCAOperator(args []string, env Env) error {
	fs, data, rootDir := caFlags("operator", env)
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := loadCeremony(*data, *rootDir)
	if err != nil {
		return err
	}
	if err := a.CreateOperatorCA(nowFunc(), nil); errors.Is(err, pki.ErrExists) {
		return fmt.Errorf("%w: this installation has its operator CA already; it is never replaced, because the operators' certificates chain to it", err)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "New operator CA key and certificate in %s. Copy %s and %s to the servers and restart them; set console_addr to open the operator console.\n",
		a.Dir, pki.OperatorCertFile, pki.OperatorKeyFile)
	return nil
}
