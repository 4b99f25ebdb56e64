// Package messages is kinko's message catalogue: every user-visible string
// in Japanese and English, in the JSON files beside this file
// (<lang>.json, plus <lang>-<part>.json per area of the portal). The pages
// and the API's error messages both read it, so that a message is written
// once. It must hold text only, never decide anything.
package messages

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"
)

//go:embed *.json
var files embed.FS

// Languages are the catalogue's languages, Japanese (the default) first.
var Languages = []string{"ja", "en"}

// Load reads the catalogue: for every language, the merged messages of its
// files by key. A key defined twice, or missing in a language, is an error.
func Load() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, l := range Languages {
		parts, err := fs.Glob(files, l+"-*.json")
		if err != nil {
			return nil, fmt.Errorf("messages: %w", err)
		}
		all := map[string]string{}
		for _, name := range append([]string{l + ".json"}, parts...) {
			b, err := files.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("messages: %w", err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("messages: %s: %w", name, err)
			}
			for k, v := range m {
				if _, dup := all[k]; dup {
					return nil, fmt.Errorf("messages: %s: message %q defined twice", name, k)
				}
				all[k] = v
			}
		}
		out[l] = all
	}
	for _, l := range Languages[1:] {
		for k := range out[Languages[0]] {
			if _, ok := out[l][k]; !ok {
				return nil, fmt.Errorf("messages: %s: no message %q", l, k)
			}
		}
		for k := range out[l] {
			if _, ok := out[Languages[0]][k]; !ok {
				return nil, fmt.Errorf("messages: %s: no message %q", Languages[0], k)
			}
		}
	}
	return out, nil
}

var loaded = sync.OnceValues(Load)

// Text returns the message key in language l, and whether it exists.
func Text(l, key string) (string, bool) {
	m, err := loaded()
	if err != nil {
		return "", false
	}
	s, ok := m[l][key]
	return s, ok
}
