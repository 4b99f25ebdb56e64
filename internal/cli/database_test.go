package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kinko/internal/store"
)

// serveConfig writes the config of a server on b's data directory (and
// database), on free ports, logging JSON, with extra keys added, and
// returns its path.
func serveConfig(t *testing.T, b bank, extra map[string]any) string {
	t.Helper()
	c := map[string]any{
		"data_dir":         b.dir,
		"portal_addr":      "127.0.0.1:0",
		"cert_portal_addr": "127.0.0.1:0",
		"log_format":       "json",
	}
	if strings.HasPrefix(b.dsn, "postgres") {
		c["db"] = b.dsn
	}
	for k, v := range extra {
		c[k] = v
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kinko.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// logLine returns the first JSON log line whose msg is msg.
func logLine(t *testing.T, log, msg string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			return m
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, log)
	return nil
}

// schemaVersion returns the schema version of b's database.
func schemaVersion(t *testing.T, b bank) int {
	t.Helper()
	db, err := store.Open(context.Background(), b.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.SchemaVersion()
}

func TestServe_LogsEngineSchemaVersionAndPool(t *testing.T) {
	engines(t, func(t *testing.T, b bank) {
		want := schemaVersion(t, b)
		s := start(t, "serve", "--config", serveConfig(t, b, map[string]any{"db_max_open_conns": 5}))
		s.stop(t)
		line := logLine(t, s.stderr.String(), "database")
		engine := "sqlite"
		if strings.HasPrefix(b.dsn, "postgres") {
			engine = "postgres"
		}
		if line["engine"] != engine || line["schema_version"] != float64(want) || line["max_open_conns"] != float64(5) {
			t.Errorf("start-up log %v; want engine %s, schema_version %d, max_open_conns 5", line, engine, want)
		}
		if at, _ := line["at"].(string); at == "" {
			t.Errorf("start-up log %v does not say where the database is", line)
		}
	})
}

func TestServe_RefusesSchemaNewerThanBinary(t *testing.T) {
	engines(t, func(t *testing.T, b bank) {
		known := schemaVersion(t, b)
		db, err := store.Open(context.Background(), b.dsn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.SQL().Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, known+1)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, "serve", "--config", serveConfig(t, b, nil))
		if r.code == 0 {
			t.Fatalf("serve on a database of a newer schema: exit 0\n%s", r.stderr)
		}
		for _, want := range []string{"newer than this binary", fmt.Sprintf("schema version %d", known+1), fmt.Sprintf("up to %d", known)} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("serve on a database of a newer schema: stderr does not say %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, `"msg":"listening"`) {
			t.Errorf("serve listened on a database of a newer schema:\n%s", r.stderr)
		}
	})
}

func TestMigrate_KeyValueDSNThatDoesNotParseRefused(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	r := run(t, "migrate", "--db", "host=127.0.0.1 port=notaport dbname=kinko")
	if r.code != 1 || !strings.Contains(r.stderr, "PostgreSQL key=value DSN does not parse") {
		t.Errorf("migrate with a bad key=value DSN: exit %d, %q; want 1 and the reason", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("the DSN became a file: %v", entries)
	}
}
