package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"kinko/internal/config"
	"kinko/internal/store"
)

const backupUsage = `Usage:
  kinko backup --data DIR [--db FILE] --out DIR
  kinko backup --config FILE --out DIR
        copy a running SQLite installation into a new data directory DIR: the
        database (one consistent snapshot, taken while servers write) and the
        keys and certificates of DIR/pki; restore by putting it in place of the
        data directory (see docs/operations.md). PostgreSQL is refused: back it
        up with its own tools as docs/operations.md explains.
`

// runBackup is "kinko backup": a consistent copy of a SQLite installation,
// made while it runs.
func runBackup(ctx context.Context, args []string, env Env) error {
	fs := newFlags("backup", env)
	fs.Usage = func() { fmt.Fprint(env.Stderr, backupUsage) }
	data := fs.String("data", "", "data directory (keys, certificates, SQLite database)")
	db := fs.String("db", "", "the SQLite database file, when it is not DIR/kinko.db")
	cfgPath := fs.String("config", "", "the server's config file, instead of --data and --db")
	out := fs.String("out", "", "the backup: a new data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if *cfgPath != "" {
		if *data != "" || *db != "" {
			return usageErr("--config or --data, not both")
		}
		cfg, err := config.Load(*cfgPath, env.Getenv)
		if err != nil {
			return err
		}
		*data, *db = cfg.DataDir, cfg.DB
	}
	if *data == "" || *out == "" {
		return usageErr("--data (or --config) and --out are required")
	}
	dsn := dsnFor(*data, *db)
	dialect, err := store.DialectOf(dsn)
	if err != nil {
		return err
	}
	if dialect != store.SQLite {
		return fmt.Errorf("the database is PostgreSQL: kinko backup copies SQLite installations only; back up PostgreSQL with pg_dump, or a base backup with WAL archiving, and the keys of %s by hand, as docs/operations.md explains", pkiDir(*data))
	}
	if err := newBackupDir(*out); err != nil {
		return err
	}
	version, err := store.BackupSQLite(ctx, dsn, store.SQLitePath(*out))
	if err != nil {
		return err
	}
	n, err := copyPrivateTree(pkiDir(*data), pkiDir(*out))
	if err != nil {
		return fmt.Errorf("backup: keys and certificates: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Backed up the database (SQLite, schema version %d) and %d key and certificate files of %s to %s.\n", version, n, *data, *out)
	fmt.Fprintf(env.Stdout, "It holds password hashes and private keys: keep it as safe as the data directory.\n")
	return nil
}

// newBackupDir makes dir, private to the user; it must not exist or be
// empty.
func newBackupDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("backup: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("backup: %s is not empty: give a new directory", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// copyPrivateTree copies the regular files under src to dst, keeping each
// file's permission bits (keys stay 0600), directories 0700, each file
// synced. It returns the number of files.
func copyPrivateTree(src, dst string) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := copyFile(path, target, info.Mode().Perm()); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// copyFile copies src to a new file dst of mode perm, synced.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Chmod(perm); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
