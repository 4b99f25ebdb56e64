package zengin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The bank and branch names of every Japanese financial institution (金融機関
// and their 支店), from the zengin-code data set, which is published monthly
// as the npm package zengin-code (MIT licence, see data/LICENSE.zengin-code).
// A copy ships with kinko (data/zengin-banks.json.gz, made by
// gen/update.sh from the package's tarball); the bank's operator
// replaces it with a newer one (ImportDirectory), kept in the data directory
// as DirectoryFile.

// DirectoryFile is the name of the operator's copy of the names in the data
// directory.
const DirectoryFile = "zengin-banks.json.gz"

// Limits of a directory given to LoadDirectory: the npm package is about
// 1 MB compressed and 5 MB of data.
const (
	maxDirectoryInput = 64 << 20  // bytes read from the reader
	maxDirectoryData  = 256 << 20 // bytes after decompression
)

// Errors of LoadDirectory.
var (
	// ErrDirectory is a file that is not a zengin-code tarball, data file or
	// a file written by Directory.Write.
	ErrDirectory = errors.New("zengin: not a bank directory (zengin-code tarball or data file)")
)

// Bank is a financial institution.
type Bank struct {
	Code string // 4 digits
	Name string // as the bank writes it: みずほ, 三菱ＵＦＪ
	Kana string // full-width katakana, as in the data: ミズホ
}

// Branch is a branch (支店) of a bank.
type Branch struct {
	Code string // 3 digits
	Name string
	Kana string // full-width katakana
}

// ZenginName returns the name as a Zengin field holds it: the kana in
// half-width katakana, cut to width bytes (15 for 銀行名 and 支店名).
func ZenginName(kana string, width int) string {
	n, err := NormalizeKana(kana)
	if err != nil {
		return ""
	}
	if utf8.RuneCountInString(n) <= width {
		return n
	}
	r := []rune(n)
	return strings.TrimRight(string(r[:width]), " ")
}

type bankEntry struct {
	Bank
	kana     string // Zengin form, for search
	branches []branchEntry
	byCode   map[string]int
}

type branchEntry struct {
	Branch
	kana string
}

type directoryData struct {
	source string
	banks  []bankEntry // in order of code
	byCode map[string]int
}

// Directory holds the names of banks and branches. Its methods are safe for
// concurrent use; Replace swaps the names under running readers.
type Directory struct {
	d atomic.Pointer[directoryData]
}

// Source says where the names come from, such as "zengin-code
// 1.0.0-p20260824".
func (d *Directory) Source() string { return d.d.Load().source }

// Len returns the number of banks.
func (d *Directory) Len() int { return len(d.d.Load().banks) }

// Replace makes d answer with the names of n from now on.
func (d *Directory) Replace(n *Directory) { d.d.Store(n.d.Load()) }

// Bank returns the bank of a code, reporting false for an unknown one.
func (d *Directory) Bank(code string) (Bank, bool) {
	dd := d.d.Load()
	i, ok := dd.byCode[code]
	if !ok {
		return Bank{}, false
	}
	return dd.banks[i].Bank, true
}

// Branch returns a bank's branch, reporting false for an unknown bank or
// branch.
func (d *Directory) Branch(bankCode, branchCode string) (Branch, bool) {
	dd := d.d.Load()
	i, ok := dd.byCode[bankCode]
	if !ok {
		return Branch{}, false
	}
	j, ok := dd.banks[i].byCode[branchCode]
	if !ok {
		return Branch{}, false
	}
	return dd.banks[i].branches[j].Branch, true
}

// query is a search's words in the forms it is compared in.
type query struct {
	raw    string // as typed, trimmed
	digits bool   // only ASCII digits
	kana   string // Zengin form, "" when the query has characters kana have not
}

// maxQuery bounds the characters of a search that are looked at: no name
// is longer.
const maxQuery = 64

func newQuery(q string) query {
	q = strings.TrimSpace(q)
	if r := []rune(q); len(r) > maxQuery {
		q = string(r[:maxQuery])
	}
	qq := query{raw: q, digits: q != ""}
	for _, r := range q {
		if r < '0' || r > '9' {
			qq.digits = false
		}
	}
	if k, err := NormalizeKana(q); err == nil {
		qq.kana = k
	}
	return qq
}

// rank says how well a name matches a query: 0 not at all, and lower
// numbers are better matches.
func (q query) rank(code, name, kana string) int {
	switch {
	case q.raw == "":
		return 9
	case q.digits && code == q.raw:
		return 1
	case q.digits && strings.HasPrefix(code, q.raw):
		return 2
	case name == q.raw || (q.kana != "" && kana == q.kana):
		return 3
	case strings.HasPrefix(name, q.raw) || (q.kana != "" && strings.HasPrefix(kana, q.kana)):
		return 4
	case strings.Contains(name, q.raw) || (q.kana != "" && strings.Contains(kana, q.kana)):
		return 5
	}
	return 0
}

type hit struct {
	rank int
	i    int
}

func best(hits []hit, limit int) []hit {
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].rank < hits[b].rank })
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// SearchBanks returns at most limit banks whose code begins with q, whose
// name holds q, or whose kana holds q in any width of katakana or in
// hiragana (compared in the Zengin form, see NormalizeKana): the exact
// matches first, then those that begin with q, then the others, each in
// order of code. An empty q lists the banks in order of code.
func (d *Directory) SearchBanks(q string, limit int) []Bank {
	dd := d.d.Load()
	qq := newQuery(q)
	var hits []hit
	for i, b := range dd.banks {
		if r := qq.rank(b.Code, b.Name, b.kana); r > 0 {
			hits = append(hits, hit{r, i})
		}
	}
	out := []Bank{}
	for _, h := range best(hits, limit) {
		out = append(out, dd.banks[h.i].Bank)
	}
	return out
}

// SearchBranches is SearchBanks for the branches of one bank; it reports
// false for an unknown bank.
func (d *Directory) SearchBranches(bankCode, q string, limit int) ([]Branch, bool) {
	dd := d.d.Load()
	i, ok := dd.byCode[bankCode]
	if !ok {
		return nil, false
	}
	qq := newQuery(q)
	var hits []hit
	for j, b := range dd.banks[i].branches {
		if r := qq.rank(b.Code, b.Name, b.kana); r > 0 {
			hits = append(hits, hit{r, j})
		}
	}
	out := []Branch{}
	for _, h := range best(hits, limit) {
		out = append(out, dd.banks[i].branches[h.i].Branch)
	}
	return out, true
}

// compact is the form Write writes and LoadDirectory reads back: the
// npm package's data without its hiragana and romaji.
type compact struct {
	Source string        `json:"source"`
	Banks  []compactBank `json:"banks"`
}

// compactBank is [code, name, kana, [[code, name, kana], ...]].
type compactBank struct {
	Code, Name, Kana string
	Branches         [][3]string
}

func (b compactBank) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{b.Code, b.Name, b.Kana, b.Branches})
}

func (b *compactBank) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if len(raw) != 4 {
		return fmt.Errorf("a bank has %d fields, want 4", len(raw))
	}
	for i, p := range []*string{&b.Code, &b.Name, &b.Kana} {
		if err := json.Unmarshal(raw[i], p); err != nil {
			return err
		}
	}
	return json.Unmarshal(raw[3], &b.Branches)
}

// npmBank is a bank in the npm package's data (lib/zengin-data.js).
type npmBank struct {
	Code     string               `json:"code"`
	Name     string               `json:"name"`
	Kana     string               `json:"kana"`
	Branches map[string]npmBranch `json:"branches"`
}

type npmBranch struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kana string `json:"kana"`
}

// LoadDirectory reads bank and branch names from r: the npm package
// zengin-code's tarball (zengin-code-VERSION.tgz, as `npm pack zengin-code`
// fetches it), its data file lib/zengin-data.js, that file's JSON alone, or
// a file written by Directory.Write, each of them gzipped or not. A file
// that is none of them, or holds a bank or branch without a code of 4 (3)
// digits or without a name, is refused with ErrDirectory.
func LoadDirectory(r io.Reader) (*Directory, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDirectoryInput+1))
	if err != nil {
		return nil, fmt.Errorf("zengin: read bank directory: %w", err)
	}
	if len(data) > maxDirectoryInput {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrDirectory, maxDirectoryInput)
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDirectory, err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxDirectoryData+1))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDirectory, err)
		}
		if len(data) > maxDirectoryData {
			return nil, fmt.Errorf("%w: larger than %d bytes uncompressed", ErrDirectory, maxDirectoryData)
		}
	}
	source := "zengin-code"
	if len(data) > 262 && string(data[257:262]) == "ustar" {
		data, source, err = fromTarball(data)
		if err != nil {
			return nil, err
		}
	}
	s := strings.TrimSpace(string(data))
	s = strings.TrimPrefix(s, "\ufeff")
	if i := strings.Index(s, "module.exports"); i >= 0 && i < 1024 {
		if j := strings.Index(s[i:], "="); j >= 0 {
			s = s[i+j+1:]
		}
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ";"))
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDirectory, err)
	}
	var c compact
	if _, ok := top["banks"]; ok {
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDirectory, err)
		}
	} else {
		c.Source = source
		for code, raw := range top {
			var b npmBank
			if err := json.Unmarshal(raw, &b); err != nil {
				return nil, fmt.Errorf("%w: bank %q: %v", ErrDirectory, code, err)
			}
			if b.Code == "" {
				b.Code = code
			}
			cb := compactBank{Code: b.Code, Name: b.Name, Kana: b.Kana}
			for bc, br := range b.Branches {
				if br.Code == "" {
					br.Code = bc
				}
				cb.Branches = append(cb.Branches, [3]string{br.Code, br.Name, br.Kana})
			}
			c.Banks = append(c.Banks, cb)
		}
	}
	dd, err := build(c)
	if err != nil {
		return nil, err
	}
	d := &Directory{}
	d.d.Store(dd)
	return d, nil
}

// fromTarball returns the data file of an npm package's tarball and the
// package's name and version.
func fromTarball(data []byte) ([]byte, string, error) {
	tr := tar.NewReader(bytes.NewReader(data))
	var js []byte
	source := "zengin-code"
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrDirectory, err)
		}
		switch {
		case strings.HasSuffix(h.Name, "lib/zengin-data.js"):
			if js, err = io.ReadAll(io.LimitReader(tr, maxDirectoryData)); err != nil {
				return nil, "", fmt.Errorf("%w: %v", ErrDirectory, err)
			}
		case h.Name == "package/package.json":
			var p struct{ Name, Version string }
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err == nil && json.Unmarshal(b, &p) == nil && p.Name != "" {
				source = strings.TrimSpace(p.Name + " " + p.Version)
			}
		}
	}
	if js == nil {
		return nil, "", fmt.Errorf("%w: the tarball has no lib/zengin-data.js", ErrDirectory)
	}
	return js, source, nil
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// build checks and indexes the names.
func build(c compact) (*directoryData, error) {
	if len(c.Banks) == 0 {
		return nil, fmt.Errorf("%w: no banks", ErrDirectory)
	}
	dd := &directoryData{source: c.Source, byCode: map[string]int{}}
	sort.Slice(c.Banks, func(i, j int) bool { return c.Banks[i].Code < c.Banks[j].Code })
	for _, b := range c.Banks {
		if !digits(b.Code, 4) || strings.TrimSpace(b.Name) == "" {
			return nil, fmt.Errorf("%w: bank %q %q: a code of 4 digits and a name are needed", ErrDirectory, b.Code, b.Name)
		}
		if _, dup := dd.byCode[b.Code]; dup {
			return nil, fmt.Errorf("%w: bank %s twice", ErrDirectory, b.Code)
		}
		e := bankEntry{Bank: Bank{Code: b.Code, Name: b.Name, Kana: b.Kana}, kana: searchKana(b.Kana), byCode: map[string]int{}}
		sort.Slice(b.Branches, func(i, j int) bool { return b.Branches[i][0] < b.Branches[j][0] })
		for _, br := range b.Branches {
			if !digits(br[0], 3) || strings.TrimSpace(br[1]) == "" {
				return nil, fmt.Errorf("%w: bank %s branch %q %q: a code of 3 digits and a name are needed", ErrDirectory, b.Code, br[0], br[1])
			}
			if _, dup := e.byCode[br[0]]; dup {
				return nil, fmt.Errorf("%w: bank %s branch %s twice", ErrDirectory, b.Code, br[0])
			}
			e.byCode[br[0]] = len(e.branches)
			e.branches = append(e.branches, branchEntry{Branch: Branch{Code: br[0], Name: br[1], Kana: br[2]}, kana: searchKana(br[2])})
		}
		dd.byCode[b.Code] = len(dd.banks)
		dd.banks = append(dd.banks, e)
	}
	return dd, nil
}

func searchKana(k string) string {
	n, err := NormalizeKana(k)
	if err != nil {
		return ""
	}
	return n
}

// Write writes the names gzipped in kinko's compact form, which
// LoadDirectory reads. The same names give the same bytes.
func (d *Directory) Write(w io.Writer) error {
	dd := d.d.Load()
	c := compact{Source: dd.source}
	for _, b := range dd.banks {
		cb := compactBank{Code: b.Code, Name: b.Name, Kana: b.Kana, Branches: [][3]string{}}
		for _, br := range b.branches {
			cb.Branches = append(cb.Branches, [3]string{br.Code, br.Name, br.Kana})
		}
		c.Banks = append(c.Banks, cb)
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("zengin: write bank directory: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zengin: write bank directory: %w", err)
	}
	return nil
}

//go:generate sh gen/update.sh

//go:embed data/zengin-banks.json.gz
var embedded []byte

var (
	embeddedOnce sync.Once
	embeddedDir  *Directory
)

// Embedded returns a new Directory of the names that ship with kinko.
func Embedded() *Directory {
	embeddedOnce.Do(func() {
		d, err := LoadDirectory(bytes.NewReader(embedded))
		if err != nil {
			panic("zengin: the embedded bank directory: " + err.Error())
		}
		embeddedDir = d
	})
	d := &Directory{}
	d.Replace(embeddedDir)
	return d
}

// OpenDirectory returns the names in dataDir's DirectoryFile, put there by
// ImportDirectory, or those that ship with kinko when there is none.
func OpenDirectory(dataDir string) (*Directory, error) {
	f, err := os.Open(filepath.Join(dataDir, DirectoryFile))
	if errors.Is(err, os.ErrNotExist) {
		return Embedded(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("zengin: open bank directory: %w", err)
	}
	defer f.Close()
	d, err := LoadDirectory(f)
	if err != nil {
		return nil, fmt.Errorf("zengin: %s: %w", f.Name(), err)
	}
	return d, nil
}

// Reload replaces d's names by those OpenDirectory finds in dataDir now
// (for a server told to read its files again, SIGHUP); on an error d keeps
// its names.
func (d *Directory) Reload(dataDir string) error {
	n, err := OpenDirectory(dataDir)
	if err != nil {
		return err
	}
	d.Replace(n)
	return nil
}

// ImportDirectory reads names as LoadDirectory does and, when they are good,
// stores them in dataDir's DirectoryFile (written to a temporary file, then
// renamed over the old one), where OpenDirectory finds them. It returns the
// names stored.
func ImportDirectory(dataDir string, r io.Reader) (*Directory, error) {
	d, err := LoadDirectory(r)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dataDir, DirectoryFile+".*")
	if err != nil {
		return nil, fmt.Errorf("zengin: import bank directory: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := d.Write(tmp); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("zengin: import bank directory: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("zengin: import bank directory: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("zengin: import bank directory: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, DirectoryFile)); err != nil {
		return nil, fmt.Errorf("zengin: import bank directory: %w", err)
	}
	return d, nil
}
