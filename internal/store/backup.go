package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupPostgres is the error of BackupSQLite given a PostgreSQL DSN:
// PostgreSQL is backed up with its own tools.
var ErrBackupPostgres = errors.New("store: backup copies a SQLite database; PostgreSQL is backed up with its own tools")

// BackupSQLite writes a consistent copy of the SQLite database named by dsn
// to dest, a new file private to the server's user (0600), while servers
// keep writing to the database: VACUUM INTO copies one snapshot, in one
// read transaction, through the driver the servers write with. The copy is
// written beside dest, synced, checked (PRAGMA quick_check) and then
// renamed to dest, so that dest is either the whole copy or absent. It
// applies no migration to the database. It returns the copy's schema
// version.
func BackupSQLite(ctx context.Context, dsn, dest string) (int, error) {
	dialect, path, err := parseDSN(dsn)
	if err != nil {
		return 0, err
	}
	if dialect != SQLite {
		return 0, ErrBackupPostgres
	}
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("store: backup: the database: %w", err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return 0, fmt.Errorf("store: backup: %s exists already", dest)
	}
	tmp := dest + ".partial"
	// VACUUM INTO writes into an empty file and keeps its mode.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	f.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	if err := vacuumInto(ctx, path, tmp); err != nil {
		return 0, err
	}
	version, err := checkCopy(ctx, tmp)
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	done = true
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return 0, err
	}
	return version, nil
}

// vacuumInto copies the database at path into the empty file tmp, and
// syncs it.
func vacuumInto(ctx context.Context, path, tmp string) error {
	src, err := sql.Open("sqlite", sqliteDSN(path, "rw"))
	if err != nil {
		return fmt.Errorf("store: backup: open %s: %w", path, err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	if _, err := src.ExecContext(ctx, `VACUUM INTO $1`, tmp); err != nil {
		return fmt.Errorf("store: backup: VACUUM INTO: %w", err)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: backup: sync: %w", err)
	}
	return nil
}

// checkCopy checks the copy at path read-only and returns its schema
// version.
func checkCopy(ctx context.Context, path string) (int, error) {
	cp, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("store: backup: check the copy: %w", err)
	}
	defer cp.Close()
	var check string
	if err := cp.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return 0, fmt.Errorf("store: backup: check the copy: %w", err)
	}
	if check != "ok" {
		return 0, fmt.Errorf("store: backup: the copy fails its check: %s", check)
	}
	var version int
	if err := cp.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return 0, fmt.Errorf("store: backup: the copy's schema version: %w", err)
	}
	return version, nil
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: backup: sync %s: %w", dir, err)
	}
	return nil
}
