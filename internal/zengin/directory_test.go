package zengin_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kinko/internal/zengin"
)

const npmData = `module.exports = {
  "0001": {"code": "0001", "name": "みずほ", "kana": "ミズホ", "hira": "みずほ", "roma": "mizuho",
    "branches": {
      "001": {"code": "001", "name": "東京営業部", "kana": "トウキヨウ", "hira": "とうきよう", "roma": "toukiyou"},
      "004": {"code": "004", "name": "丸の内中央", "kana": "マルノウチチユウオウ"}
    }},
  "0005": {"code": "0005", "name": "三菱ＵＦＪ", "kana": "ミツビシユ－エフジエイ", "branches": {
      "001": {"code": "001", "name": "本店", "kana": "ホンテン"}}}
};
`

func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadDirectoryReadsEveryFormOfTheNpmPackage(t *testing.T) {
	tgz := tarball(t, map[string]string{
		"package/package.json":       `{"name": "zengin-code", "version": "1.0.0-p20990101"}`,
		"package/lib/zengin-data.js": npmData,
	})
	jsonOnly := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(npmData, "module.exports = ")), ";")
	var written bytes.Buffer
	d0, err := zengin.LoadDirectory(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	if err := d0.Write(&written); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{"tarball": tgz, "data file": []byte(npmData), "JSON": []byte(jsonOnly), "written": written.Bytes()} {
		t.Run(name, func(t *testing.T) {
			d, err := zengin.LoadDirectory(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if d.Len() != 2 {
				t.Errorf("Len = %d, want 2", d.Len())
			}
			b, ok := d.Bank("0005")
			if !ok || b.Name != "三菱ＵＦＪ" || b.Kana != "ミツビシユ－エフジエイ" {
				t.Errorf("Bank(0005) = %+v, %v", b, ok)
			}
			br, ok := d.Branch("0001", "004")
			if !ok || br.Name != "丸の内中央" {
				t.Errorf("Branch(0001, 004) = %+v, %v", br, ok)
			}
			if _, ok := d.Branch("0001", "999"); ok {
				t.Error("an unknown branch was found")
			}
		})
	}
	if got := d0.Source(); got != "zengin-code 1.0.0-p20990101" {
		t.Errorf("Source = %q", got)
	}
	var again bytes.Buffer
	d1, _ := zengin.LoadDirectory(bytes.NewReader(written.Bytes()))
	if err := d1.Write(&again); err != nil || !bytes.Equal(again.Bytes(), written.Bytes()) {
		t.Errorf("writing the same names twice gave different bytes (%v)", err)
	}
}

func TestLoadDirectoryRefusesWhatIsNotADirectory(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"not JSON":       "hello",
		"no banks":       "{}",
		"bad bank code":  `{"12": {"code": "12", "name": "x", "kana": "x", "branches": {}}}`,
		"bank no name":   `{"0001": {"code": "0001", "name": "", "kana": "x", "branches": {}}}`,
		"bad branch":     `{"0001": {"code": "0001", "name": "a", "kana": "x", "branches": {"1": {"code": "1", "name": "b"}}}}`,
		"tarball no lib": string(tarball(t, map[string]string{"package/package.json": "{}"})),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := zengin.LoadDirectory(strings.NewReader(in)); !errors.Is(err, zengin.ErrDirectory) {
				t.Errorf("err = %v, want ErrDirectory", err)
			}
		})
	}
}

func TestSearchBanksByCodeNameAndKanaInEveryWidth(t *testing.T) {
	d := zengin.Embedded()
	if d.Len() < 1000 || !strings.HasPrefix(d.Source(), "zengin-code ") {
		t.Fatalf("the embedded directory has %d banks from %q", d.Len(), d.Source())
	}
	for _, q := range []string{"0001", "みずほ", "ミズホ", "ﾐｽﾞﾎ", "みず", "ずほ"} {
		got := d.SearchBanks(q, 20)
		if len(got) == 0 || got[0].Code != "0001" {
			t.Errorf("SearchBanks(%q) = %v, want みずほ (0001) first", q, got)
		}
	}
	got := d.SearchBanks("三菱", 20)
	found := false
	for _, b := range got {
		if b.Code == "0005" {
			found = true
		}
	}
	if !found {
		t.Errorf("SearchBanks(三菱) = %v, want 三菱ＵＦＪ among them", got)
	}
	if got := d.SearchBanks("0", 20); len(got) != 20 {
		t.Errorf("SearchBanks(0) gave %d banks, want the bound 20", len(got))
	}
	if got := d.SearchBanks("存在しない銀行名", 20); len(got) != 0 {
		t.Errorf("SearchBanks of nothing = %v", got)
	}
}

func TestSearchBranchesOfOneBank(t *testing.T) {
	d := zengin.Embedded()
	got, ok := d.SearchBranches("0001", "とうきょう", 20)
	if !ok || len(got) == 0 {
		t.Fatalf("SearchBranches(0001, とうきょう) = %v, %v", got, ok)
	}
	got, _ = d.SearchBranches("0001", "001", 20)
	if len(got) == 0 || got[0].Code != "001" || got[0].Name != "東京営業部" {
		t.Errorf("SearchBranches(0001, 001) = %v", got)
	}
	if _, ok := d.SearchBranches("9998", "", 20); ok {
		t.Error("the branches of an unknown bank were found")
	}
}

func TestZenginNameIsHalfWidthKanaCutToTheField(t *testing.T) {
	for in, want := range map[string]string{
		"ミズホ":             "ﾐｽﾞﾎ",
		"ミツビシユ－エフジエイ":     "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ",
		"マルノウチチユウオウガイチヨウ": "ﾏﾙﾉｳﾁﾁﾕｳｵｳｶﾞｲﾁﾖ",
	} {
		got := zengin.ZenginName(in, zengin.BankNameWidth)
		if got != want {
			t.Errorf("ZenginName(%q) = %q, want %q", in, got, want)
		}
		if err := zengin.ValidKana(got); err != nil {
			t.Errorf("ZenginName(%q): %v", in, err)
		}
	}
}

func TestImportDirectoryReplacesTheShippedNames(t *testing.T) {
	dir := t.TempDir()
	d, err := zengin.OpenDirectory(dir)
	if err != nil || d.Len() < 1000 {
		t.Fatalf("OpenDirectory of a data directory without names: %v, %d banks", err, d.Len())
	}
	if _, err := zengin.ImportDirectory(dir, strings.NewReader("nothing")); !errors.Is(err, zengin.ErrDirectory) {
		t.Fatalf("import of a bad file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, zengin.DirectoryFile)); !os.IsNotExist(err) {
		t.Fatalf("a bad import left a file: %v", err)
	}
	if _, err := zengin.ImportDirectory(dir, strings.NewReader(npmData)); err != nil {
		t.Fatal(err)
	}
	d2, err := zengin.OpenDirectory(dir)
	if err != nil || d2.Len() != 2 {
		t.Fatalf("OpenDirectory after the import: %v, %d banks", err, d2.Len())
	}
	if err := d.Reload(dir); err != nil || d.Len() != 2 {
		t.Errorf("Reload: %d banks, %v", d.Len(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, zengin.DirectoryFile), []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(dir); !errors.Is(err, zengin.ErrDirectory) || d.Len() != 2 {
		t.Errorf("Reload of a broken file: %v, %d banks; want the error and the names kept", err, d.Len())
	}
	d.Replace(zengin.Embedded())
	if d.Len() < 1000 {
		t.Errorf("Replace: %d banks", d.Len())
	}
	d2.Replace(d)
	if d2.Len() < 1000 || zengin.Embedded().Len() < 1000 {
		t.Error("Replace changed the shipped names")
	}
}
