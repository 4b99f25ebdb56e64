package zengin

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds Parse arbitrary bytes, starting from the files in
// testdata/. Parse must not panic; it returns either a file or an
// ErrorList of well-formed errors; a file it accepts is written back and
// read again unchanged.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.dat"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("\x1a"))
	f.Add([]byte("1\r\n2\r\n8\r\n9\r\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(bytes.NewReader(data))
		if err != nil {
			if file != nil {
				t.Fatalf("Parse returned a file and an error: %v", err)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse error is not a non-empty ErrorList: %v", err)
			}
			if len(list) > MaxErrors+1 {
				t.Fatalf("%d errors, more than MaxErrors+1", len(list))
			}
			for _, e := range list {
				if e.Code == "" || e.Line < 0 || e.Message("ja") == "" || e.Message("en") == "" {
					t.Fatalf("malformed error %+v", e)
				}
			}
			return
		}
		if file == nil || len(file.Records) == 0 {
			t.Fatalf("Parse accepted a file without transfers")
		}
		var b bytes.Buffer
		if err := Write(&b, file, WriteOptions{CRLF: true}); err != nil {
			t.Fatalf("Write of a parsed file: %v", err)
		}
		again, err := Parse(&b)
		if err != nil {
			t.Fatalf("Parse of a written file: %v", err)
		}
		if diff := cmp.Diff(file, again); diff != "" {
			t.Fatalf("round trip (-parsed +reparsed):\n%s", diff)
		}
	})
}

// FuzzNormalizeKana checks that NormalizeKana never panics, and that what
// it returns is valid Zengin text that it leaves unchanged and that
// encodes to one byte a character.
func FuzzNormalizeKana(f *testing.F) {
	for _, s := range []string{"やまだ たろう", "カ）ロウキンショウジ", "ｷｬｯﾌﾟ", "ＡＢＣ１２３", "ヤマダ太郎", "ヴ゛ー", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeKana(s)
		if err != nil {
			var ke *KanaError
			if !errors.As(err, &ke) || ke.Message("ja") == "" || ke.Message("en") == "" {
				t.Fatalf("NormalizeKana(%q) error %v is not a KanaError with messages", s, err)
			}
			return
		}
		if err := ValidKana(n); err != nil {
			t.Fatalf("NormalizeKana(%q) = %q, not valid: %v", s, n, err)
		}
		if again, err := NormalizeKana(n); err != nil || again != n {
			t.Fatalf("NormalizeKana(%q) = %q, then %q, %v", s, n, again, err)
		}
		b, err := EncodeSJIS(n)
		if err != nil || len(b) != Width(n) {
			t.Fatalf("EncodeSJIS(%q) = %d bytes, %v; want %d", n, len(b), err, Width(n))
		}
	})
}
