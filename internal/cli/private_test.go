package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// walkPrivate fails the test for every file or directory under dir that
// its group or others may read, write or enter.
func walkPrivate(t *testing.T, what, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n++
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: %s has mode %04o, open to group or others", what, p, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("%s: only %d entries under %s", what, n, dir)
	}
}

// TestHardening_DataDirectoryPrivate: after kinko demo and kinko serve have
// started (with the usual umask 022), nothing in the data directory (the
// directory itself, the SQLite database and its -wal and -shm, the keys and
// certificates, demo.json) is open to the group or others.
func TestHardening_DataDirectoryPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	t.Run("demo", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "kinko-demo")
		r := start(t, "demo", "--data", dir, "--portal-addr", "127.0.0.1:0", "--cert-addr", "127.0.0.1:0", "--pki-addr", "127.0.0.1:0")
		for _, f := range []string{"kinko.db", "kinko.db-wal", "kinko.db-shm", "demo.json", "pki"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("the demo's data directory: %v", err)
			}
		}
		walkPrivate(t, "kinko demo", dir)
		r.stop(t)
	})
	t.Run("serve", func(t *testing.T) {
		b := initBank(t, "")
		cfg := filepath.Join(t.TempDir(), "kinko.json")
		if err := os.WriteFile(cfg, []byte(`{"data_dir": "`+b.dir+`", "portal_addr": "127.0.0.1:0", "cert_portal_addr": "127.0.0.1:0",
  "pki_addr": "127.0.0.1:0", "operating_hours": {"daily": "00:00-24:00", "maintenance": []}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		r := start(t, "serve", "--config", cfg)
		walkPrivate(t, "kinko serve", b.dir)
		r.stop(t)
	})
}
