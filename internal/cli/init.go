package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"kinko/internal/pki"
	"kinko/internal/store"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// runInit is "kinko init": create the authority and the database.
func runInit(ctx context.Context, args []string, env Env) error {
	fs := newFlags("init", env)
	data := fs.String("data", "", "data directory (keys, certificates, SQLite database)")
	rootDir := fs.String("root-dir", "", "directory for the root CA's key, kept offline afterwards; never the data directory (required)")
	db := fs.String("db", "", "PostgreSQL DSN (default: SQLite in the data directory)")
	name := fs.String("name", "kinko", "the bank's name, used in the CA certificates")
	var names stringList
	fs.Var(&names, "server-name", "DNS name or IP address of the listeners (repeatable; default localhost and 127.0.0.1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return usageErr("--data is required")
	}
	if *rootDir == "" {
		return usageErr("--root-dir is required: the root CA's key is written there, to be kept offline (see docs/keys.md)")
	}
	if within(*rootDir, *data) {
		return usageErr("--root-dir must not be inside the data directory: the server must never read the root CA's key")
	}
	if len(names) == 0 {
		names = stringList{"localhost", "127.0.0.1"}
	}
	dir := pkiDir(*data)
	err := pki.Create(dir, pki.CreateOptions{Name: *name, RootDir: *rootDir, ServerNames: names})
	switch {
	case errors.Is(err, pki.ErrExists):
		fmt.Fprintf(env.Stdout, "The authority in %s already exists; keeping it.\n", dir)
		if _, err := pki.LoadOperatorCA(dir); errors.Is(err, pki.ErrNoOperatorCA) {
			fmt.Fprintf(env.Stdout, "It has no operator CA (for the operator console): make it with kinko ca operator --data %s --root-dir %s.\n", *data, *rootDir)
		}
	case err != nil:
		return err
	default:
		fmt.Fprintf(env.Stdout, "Created the root CA (limited to %s), the client-issuing CA and the operator CA in %s (keys mode 0600).\n", names.String(), dir)
		fmt.Fprintf(env.Stdout, "The root CA's key is in %s: keep that directory offline; kinko serve never reads it.\n", *rootDir)
	}
	authority, err := pki.LoadWithRoot(dir, *rootDir)
	if err != nil {
		return err
	}
	if _, err := authority.ServerCertificate(names, nowFunc(), nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Server certificate for %s in %s; clients trust %s/%s.\n", names.String(), dir, dir, pki.RootCertFile)
	d, err := store.Open(ctx, dsnFor(*data, *db))
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(env.Stdout, "Database ready (%s).\nNext: kinko operator --data %s org create --name NAME --master-login-id ID --master-email E\n", d.Dialect(), *data)
	return nil
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && (rel == "." || !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != "..")
}
