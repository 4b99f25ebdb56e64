package store_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStoreDoesNotImportNotify: the store keeps the outbox and writes the
// mails' intents by rules it is given; which mails an event causes and
// what they say belong to package notify, which the store must not import.
func TestStoreDoesNotImportNotify(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "kinko/internal/notify" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
