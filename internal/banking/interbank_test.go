package banking_test

import (
	"errors"
	"testing"

	"kinko/internal/banking"
	"kinko/internal/store"
	"kinko/internal/testutil"
)

// memoryFiles keeps the files of an interbank export; failWrite makes
// writing fail.
type memoryFiles struct {
	written   map[string][]byte
	removed   []string
	failWrite error
}

func (m *memoryFiles) Place(files []banking.InterbankFile) error {
	for i := range files {
		files[i].Name = "zengin-" + files[i].Account.Number + ".txt"
	}
	return nil
}

func (m *memoryFiles) Write(f banking.InterbankFile) error {
	if m.failWrite != nil {
		return m.failWrite
	}
	if m.written == nil {
		m.written = map[string][]byte{}
	}
	m.written[f.Name] = f.Data
	return nil
}

func (m *memoryFiles) Remove(f banking.InterbankFile) error {
	m.removed = append(m.removed, f.Name)
	delete(m.written, f.Name)
	return nil
}

// TestExportInterbank: one file per paying account, written then marked
// sent; a file that cannot be written leaves its transfers pending, and a
// second export finds nothing.
func TestExportInterbank(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		o := f.newOrg("労組 A")
		first, second := f.newAccount(o, 50_000), f.newAccount(o, 50_000)
		req, appr := f.newUser(o, all), f.newUser(o, all)
		for _, from := range []banking.Account{second, first, second} {
			f.approve(appr, f.request(req, from.ID, elsewhere, 1_000).ID)
		}
		export := banking.InterbankExport{Through: day0, Operator: "test"}

		broken := errors.New("disk full")
		files, err := f.svc.ExportInterbank(f.ctx, export, &memoryFiles{failWrite: broken})
		if !errors.Is(err, broken) || len(files) != 0 {
			t.Fatalf("export with a failing write: %d files, %v; want none and the write's error", len(files), err)
		}
		if pending, _ := f.svc.InterbankPending(f.ctx, day0); len(pending) != 3 {
			t.Fatalf("pending after a failed export: %d, want 3", len(pending))
		}

		m := &memoryFiles{}
		files, err = f.svc.ExportInterbank(f.ctx, export, m)
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		if len(files) != 2 || files[0].Account.ID != first.ID || files[0].Count() != 1 || files[1].Count() != 2 ||
			files[1].Total != 2_000 || len(m.written) != 2 {
			t.Fatalf("files %+v, want one of the first account's transfer, then one of the second's two", files)
		}
		for _, file := range files {
			for _, id := range file.TransferIDs {
				if got := f.transfer(id); got.InterbankFile != file.Name {
					t.Errorf("transfer %d recorded in %q, want %q", id, got.InterbankFile, file.Name)
				}
			}
		}
		if files, err := f.svc.ExportInterbank(f.ctx, export, m); err != nil || len(files) != 0 {
			t.Errorf("second export: %d files, %v; want none", len(files), err)
		}
		f.verify()
	})
}
