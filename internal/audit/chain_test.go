package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"kinko/internal/audit"
)

func sampleRow() audit.Row {
	return audit.Row{ID: 7, At: 1775034000000000, Type: audit.CertificateRevoked, Actor: "operator:suzuki",
		OrganizationID: audit.NullInt{V: 3, Valid: true}, UserID: audit.NullInt{V: 9, Valid: true},
		Serial: audit.NullText{V: "0abc", Valid: true}, RequestRef: audit.NullText{V: "REQ-1", Valid: true},
		Detail: "reason keyCompromise", PrevHash: audit.GenesisHash}
}

func TestCanonicalEncoding(t *testing.T) {
	r := sampleRow()
	got := audit.Canonical(r)
	want := []byte("kinko audit v1\n")
	want = append(want, 1, 0, 0, 0, 0, 0, 0, 0, 7)
	want = append(want, 1, 0x00, 0x06, 0x4e, 0x62, 0x4f, 0x08, 0xc4, 0x00) // 1775034000000000
	text := func(s string) {
		want = append(want, 2, 0, 0, 0, byte(len(s)))
		want = append(want, s...)
	}
	text(string(audit.CertificateRevoked))
	text("operator:suzuki")
	want = append(want, 1, 0, 0, 0, 0, 0, 0, 0, 3)
	want = append(want, 1, 0, 0, 0, 0, 0, 0, 0, 9)
	text("0abc")
	text("REQ-1")
	text("reason keyCompromise")
	text(audit.GenesisHash)
	if !bytes.Equal(got, want) {
		t.Errorf("canonical:\n got %x\nwant %x", got, want)
	}
	prev, _ := hex.DecodeString(audit.GenesisHash)
	sum := sha256.Sum256(append(prev, want...))
	if h := audit.ComputeHash(r); h != hex.EncodeToString(sum[:]) {
		t.Errorf("hash %s, want SHA-256(prev || canonical) %x", h, sum)
	}
}

// TestCanonicalVersion2: a row with a typed field (reason, cause,
// password) is encoded as version 2, with those fields after request_ref;
// a row without keeps version 1, as rows written before the fields did.
func TestCanonicalVersion2(t *testing.T) {
	r := sampleRow()
	if audit.Version(r) != 1 {
		t.Fatalf("version %d of a row without typed fields, want 1", audit.Version(r))
	}
	v1 := audit.Canonical(r)
	r.Reason = audit.NullText{V: "keyCompromise", Valid: true}
	if audit.Version(r) != 2 {
		t.Fatalf("version %d of a row with a reason, want 2", audit.Version(r))
	}
	got := audit.Canonical(r)
	want := []byte("kinko audit v2\n")
	want = append(want, v1[len("kinko audit v1\n"):]...)
	// Cut before detail and prev_hash, insert reason, cause (NULL), password (NULL).
	tail := 2*(5) + len("reason keyCompromise") + len(audit.GenesisHash)
	head, rest := want[:len(want)-tail], append([]byte(nil), want[len(want)-tail:]...)
	want = append(head, 2, 0, 0, 0, byte(len("keyCompromise")))
	want = append(want, "keyCompromise"...)
	want = append(want, 0, 0)
	want = append(want, rest...)
	if !bytes.Equal(got, want) {
		t.Errorf("canonical v2:\n got %x\nwant %x", got, want)
	}
}

// TestCanonicalDistinguishesEveryColumn changes one column at a time,
// including NULL against zero or empty and text moved between columns,
// and checks that the hash changes.
func TestCanonicalDistinguishesEveryColumn(t *testing.T) {
	base := sampleRow()
	cases := []struct {
		name   string
		change func(r *audit.Row)
	}{
		{"id", func(r *audit.Row) { r.ID++ }},
		{"at", func(r *audit.Row) { r.At++ }},
		{"type", func(r *audit.Row) { r.Type = audit.CertificateIssued }},
		{"actor", func(r *audit.Row) { r.Actor = "operator:sato" }},
		{"text moved from actor to type", func(r *audit.Row) { r.Type, r.Actor = r.Type+"o", r.Actor[1:] }},
		{"organization NULL", func(r *audit.Row) { r.OrganizationID.Valid = false }},
		{"organization 0 against NULL", func(r *audit.Row) { r.OrganizationID = audit.NullInt{V: 0, Valid: true} }},
		{"user", func(r *audit.Row) { r.UserID.V = 10 }},
		{"organization and user swapped", func(r *audit.Row) { r.OrganizationID, r.UserID = r.UserID, r.OrganizationID }},
		{"serial empty against its value", func(r *audit.Row) { r.Serial.V = "" }},
		{"serial empty against NULL", func(r *audit.Row) { r.Serial = audit.NullText{} }},
		{"request ref", func(r *audit.Row) { r.RequestRef.V = "REQ-2" }},
		{"detail", func(r *audit.Row) { r.Detail = "reason superseded" }},
		{"reason", func(r *audit.Row) { r.Reason = audit.NullText{V: "superseded", Valid: true} }},
		{"reason empty against NULL", func(r *audit.Row) { r.Reason = audit.NullText{Valid: true} }},
		{"cause", func(r *audit.Row) { r.Cause = audit.NullText{V: "never_signed", Valid: true} }},
		{"password", func(r *audit.Row) { r.Password = audit.NullText{V: "login", Valid: true} }},
		{"prev hash", func(r *audit.Row) { r.PrevHash = strings.Repeat("1", 64) }},
		{"chain_seq set (version 3)", func(r *audit.Row) { r.ChainSeq = audit.NullInt{V: 7, Valid: true} }},
	}
	h0 := audit.ComputeHash(base)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.change(&r)
			if audit.ComputeHash(r) == h0 {
				t.Error("hash unchanged")
			}
		})
	}
	t.Run("version 3", func(t *testing.T) {
		v3 := base
		v3.ChainSeq = audit.NullInt{V: 7, Valid: true}
		v3.RequestID = audit.NullText{V: "r-1", Valid: true}
		if !bytes.HasPrefix(audit.Canonical(v3), []byte("kinko audit v3\n")) {
			t.Errorf("a row with a chain_seq encodes as %q…", audit.Canonical(v3)[:15])
		}
		h3 := audit.ComputeHash(v3)
		for name, change := range map[string]func(r *audit.Row){
			"chain_seq":                   func(r *audit.Row) { r.ChainSeq.V = 8 },
			"request ID":                  func(r *audit.Row) { r.RequestID.V = "r-2" },
			"request ID NULL":             func(r *audit.Row) { r.RequestID = audit.NullText{} },
			"request ID empty":            func(r *audit.Row) { r.RequestID.V = "" },
			"request ID into request ref": func(r *audit.Row) { r.RequestRef, r.RequestID = r.RequestID, r.RequestRef },
			"reason":                      func(r *audit.Row) { r.Reason = audit.NullText{V: "superseded", Valid: true} },
		} {
			r := v3
			change(&r)
			if audit.ComputeHash(r) == h3 {
				t.Errorf("%s: hash unchanged", name)
			}
		}
	})
	t.Run("typed fields moved between columns", func(t *testing.T) {
		a, b := base, base
		a.Reason = audit.NullText{V: "x", Valid: true}
		b.Cause = audit.NullText{V: "x", Valid: true}
		if audit.ComputeHash(a) == audit.ComputeHash(b) {
			t.Error("reason and cause hash alike")
		}
	})
	t.Run("serial NULL against empty", func(t *testing.T) {
		a, b := base, base
		a.Serial, b.Serial = audit.NullText{}, audit.NullText{Valid: true}
		if audit.ComputeHash(a) == audit.ComputeHash(b) {
			t.Error("NULL and empty hash alike")
		}
	})
}

// chain returns n rows chained from the genesis.
func chain(n int) []audit.Row {
	var rows []audit.Row
	prev := audit.GenesisHash
	for i := range n {
		r := sampleRow()
		r.ID, r.At, r.PrevHash = int64(i+1), int64(1000*i), prev
		r.Hash = audit.ComputeHash(r)
		prev = r.Hash
		rows = append(rows, r)
	}
	return rows
}

// mixedChain returns two rows linked at insert (versions 1 and 2) followed
// by n rows linked after commit (version 3), with chain_seq 1..n and ids
// out of order, as late commits make them.
func mixedChain(n int) []audit.Row {
	rows := chain(2)
	prev := rows[1].Hash
	for i := range n {
		r := sampleRow()
		r.ID, r.ChainSeq = int64(10+n-i), audit.NullInt{V: int64(i + 1), Valid: true}
		r.RequestID = audit.NullText{V: fmt.Sprintf("req-%d", i), Valid: i%2 == 0}
		r.PrevHash = prev
		r.Hash = audit.ComputeHash(r)
		prev = r.Hash
		rows = append(rows, r)
	}
	return rows
}

func TestVerifier(t *testing.T) {
	cases := []struct {
		name   string
		rows   func() []audit.Row
		head   func(rows []audit.Row) (int64, int64, string)
		id     int64 // -1: no break
		reason string
	}{
		{"good", func() []audit.Row { return chain(4) }, nil, -1, ""},
		{"empty", func() []audit.Row { return nil }, nil, -1, ""},
		{"changed", func() []audit.Row { r := chain(4); r[2].Detail = "x"; return r }, nil, 3, "content does not match"},
		{"removed", func() []audit.Row { r := chain(4); return append(r[:1], r[2:]...) }, nil, 3, "hash of row 1"},
		{"reordered", func() []audit.Row { r := chain(4); r[1], r[2] = r[2], r[1]; return r }, nil, 3, "hash of row 1"},
		{"no hash", func() []audit.Row { r := chain(4); r[3].Hash = ""; return r }, nil, 4, "no hash"},
		{"tail removed", func() []audit.Row { return chain(4)[:3] },
			func([]audit.Row) (int64, int64, string) { r := chain(4); return 4, 0, r[3].Hash }, 0, "the last row linked was 4"},
		{"linked after commit, good", func() []audit.Row { return mixedChain(4) }, nil, -1, ""},
		{"linked after commit, request ID changed", func() []audit.Row { r := mixedChain(4); r[2].RequestID.V = "req-x"; return r }, nil, 14, "content does not match"},
		{"linked after commit, request ID removed", func() []audit.Row { r := mixedChain(4); r[2].RequestID = audit.NullText{}; return r }, nil, 14, "content does not match"},
		{"linked after commit, chain_seq changed", func() []audit.Row { r := mixedChain(4); r[3].ChainSeq.V = 7; return r }, nil, 13, "content does not match"},
		{"linked after commit, chain_seq cleared", func() []audit.Row { r := mixedChain(4); r[3].ChainSeq = audit.NullInt{}; return r }, nil, 13, "content does not match"},
		{"linked after commit, removed", func() []audit.Row { r := mixedChain(4); return append(r[:3], r[4:]...) }, nil, 12, "hash of row 14"},
		{"linked after commit, tail removed", func() []audit.Row { return mixedChain(4)[:5] },
			func([]audit.Row) (int64, int64, string) { r := mixedChain(4); return 11, 4, r[5].Hash }, 0, "the last row linked was 11"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := tc.rows()
			headID, headSeq, headHash := int64(0), int64(0), audit.GenesisHash
			if len(rows) > 0 {
				headID, headSeq, headHash = rows[len(rows)-1].ID, rows[len(rows)-1].ChainSeq.V, rows[len(rows)-1].Hash
			}
			if tc.head != nil {
				headID, headSeq, headHash = tc.head(rows)
			}
			v := audit.NewVerifier()
			for _, r := range rows {
				v.Add(r)
			}
			b := v.End(headID, headSeq, headHash)
			if tc.id < 0 {
				if b != nil {
					t.Fatalf("break %v on a good chain", b)
				}
				if v.Count() != len(rows) || v.LastHash() != headHash {
					t.Errorf("count %d last %s, want %d %s", v.Count(), v.LastHash(), len(rows), headHash)
				}
				return
			}
			if b == nil || b.ID != tc.id || !strings.Contains(b.Reason, tc.reason) {
				t.Errorf("break %v, want at %d with %q", b, tc.id, tc.reason)
			}
		})
	}
}

// TestCanonicalVersion4: a linked row with a transfer_id or a batch_id is
// version 4, which encodes them after request_id; a linked row without
// keeps version 3, so that rows linked before version 4 still verify.
func TestCanonicalVersion4(t *testing.T) {
	v3 := sampleRow()
	v3.ChainSeq = audit.NullInt{V: 7, Valid: true}
	v3.RequestID = audit.NullText{V: "r-1", Valid: true}
	if audit.Version(v3) != 3 {
		t.Fatalf("version %d of a linked row without transfer or batch, want 3", audit.Version(v3))
	}
	enc3 := audit.Canonical(v3)
	for _, tc := range []struct {
		name     string
		transfer audit.NullInt
		batch    audit.NullInt
		ids      []byte
	}{
		{"transfer", audit.NullInt{V: 42, Valid: true}, audit.NullInt{}, []byte{1, 0, 0, 0, 0, 0, 0, 0, 42, 0}},
		{"batch", audit.NullInt{}, audit.NullInt{V: 5, Valid: true}, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v3
			r.TransferID, r.BatchID = tc.transfer, tc.batch
			if audit.Version(r) != 4 {
				t.Fatalf("version %d, want 4", audit.Version(r))
			}
			// The v3 encoding with the magic of v4 and the two IDs
			// after request_id, which is "r-1" (tag, length, bytes).
			body := enc3[len("kinko audit v3\n"):]
			cut := bytes.Index(body, []byte("\x02\x00\x00\x00\x03r-1")) + 8
			want := append([]byte("kinko audit v4\n"), body[:cut]...)
			want = append(want, tc.ids...)
			want = append(want, body[cut:]...)
			if got := audit.Canonical(r); !bytes.Equal(got, want) {
				t.Errorf("canonical v4:\n got %x\nwant %x", got, want)
			}
			h := audit.ComputeHash(r)
			for name, change := range map[string]func(r *audit.Row){
				"transfer ID changed":        func(r *audit.Row) { r.TransferID = audit.NullInt{V: r.TransferID.V + 1, Valid: true} },
				"batch ID changed":           func(r *audit.Row) { r.BatchID = audit.NullInt{V: r.BatchID.V + 1, Valid: true} },
				"transfer and batch swapped": func(r *audit.Row) { r.TransferID, r.BatchID = r.BatchID, r.TransferID },
			} {
				c := r
				change(&c)
				if audit.ComputeHash(c) == h {
					t.Errorf("%s: hash unchanged", name)
				}
			}
		})
	}
	unlinked := v3
	unlinked.ChainSeq = audit.NullInt{}
	unlinked.TransferID = audit.NullInt{V: 42, Valid: true}
	if v := audit.Version(unlinked); v == 4 {
		t.Errorf("a row without chain_seq is version %d", v)
	}
}
