package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"kinko/internal/audit"
	"kinko/internal/identity"
	"kinko/internal/store"
)

// TestBackupSQLite_ConsistentCopyWhileWriting takes a copy while writers
// add organizations (each with its audit event): the copy holds at least
// what was committed before the backup began, its audit chain verifies,
// and it is private.
func TestBackupSQLite_ConsistentCopyWhileWriting(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kinko.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	// The backup begins once the writers have committed some rows.
	started := make(chan struct{})
	var once sync.Once
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				org := identity.Organization{Code: unitName("9"), Name: "労組 " + unitName("o"), CreatedAt: unitT0}
				master := identity.User{LoginID: unitName("m"), Name: "マスター", Email: "m@example.org", Role: identity.RoleMaster,
					PasswordHash: "hash", ConfirmationHash: "hash", CreatedAt: unitT0}
				if err := unitCreateOrg(ctx, db, &org, &master, audit.Event{At: unitT0, Type: audit.OrganizationCreated, Actor: "operator:test"}); err != nil {
					errs <- err
					once.Do(func() { close(started) })
					return
				}
				if committed.Add(1) == 20 {
					once.Do(func() { close(started) })
				}
			}
		}()
	}
	<-started
	before := committed.Load()
	dest := filepath.Join(t.TempDir(), "copy.db")
	version, err := store.BackupSQLite(ctx, path, dest)
	during := committed.Load()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("writer: %v", err)
	}
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if version != db.SchemaVersion() {
		t.Errorf("backup's schema version %d, want %d", version, db.SchemaVersion())
	}
	st, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(dest + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial copy is left behind: %v", err)
	}

	cp, err := store.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	orgs, err := cp.ListOrganizations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := int64(len(orgs)); n < before || n > committed.Load() {
		t.Errorf("the copy holds %d organizations; want at least the %d committed before the backup, at most the %d committed in all", n, before, committed.Load())
	}
	v, err := cp.VerifyAudit(ctx)
	if err != nil || v.Break != nil {
		t.Errorf("audit chain of the copy: %+v, %v", v.Break, err)
	}
	if v.Count != len(orgs) {
		t.Errorf("the copy has %d audit events for %d organizations: not one snapshot", v.Count, len(orgs))
	}
	t.Logf("%d organizations committed before the backup, %d by its end, %d in the copy", before, during, len(orgs))
}

func TestBackupSQLite_Refusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kinko.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	exists := filepath.Join(dir, "exists.db")
	if err := os.WriteFile(exists, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dsn, dest, want string
	}{
		{"PostgreSQL URL", "postgres://kinko@db.internal/kinko", filepath.Join(dir, "a.db"), "PostgreSQL is backed up with its own tools"},
		{"PostgreSQL key=value", "host=db.internal dbname=kinko", filepath.Join(dir, "b.db"), "PostgreSQL is backed up with its own tools"},
		{"no database", filepath.Join(dir, "none.db"), filepath.Join(dir, "c.db"), "no such file"},
		{"destination exists", path, exists, "exists already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.BackupSQLite(ctx, tt.dsn, tt.dest)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("backup: %v, want %q", err, tt.want)
			}
		})
	}
	if b, err := os.ReadFile(exists); err != nil || string(b) != "keep" {
		t.Errorf("the existing destination was changed: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup of a missing database created it: %v", err)
	}
}
