package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// lang is a language of the pages.
type lang string

// Languages: Japanese first.
const (
	langJA lang = "ja"
	langEN lang = "en"
)

// languages are the supported languages, the default first.
var languages = []lang{langJA, langEN}

// langCookie holds the user's choice of language.
const langCookie = "kinko-lang"

// language returns the language of a request: the kinko-lang cookie, or
// Japanese.
func language(r *http.Request) lang {
	if c, err := r.Cookie(langCookie); err == nil {
		if l := lang(c.Value); slices.Contains(languages, l) {
			return l
		}
	}
	return langJA
}

//go:embed messages/*.json
var messageFiles embed.FS

// catalogue holds every user-visible string in every language.
type catalogue struct {
	msgs map[lang]map[string]string
}

// loadCatalogue reads, for every language, messages/<lang>.json and the
// files messages/<lang>-<part>.json (one part per area of the portal), and
// checks that no key is defined twice and that every language has the same
// keys.
func loadCatalogue() (*catalogue, error) {
	c := &catalogue{msgs: map[lang]map[string]string{}}
	for _, l := range languages {
		files, err := fs.Glob(messageFiles, "messages/"+string(l)+"-*.json")
		if err != nil {
			return nil, fmt.Errorf("web: catalogue: %w", err)
		}
		all := map[string]string{}
		for _, name := range append([]string{"messages/" + string(l) + ".json"}, files...) {
			b, err := messageFiles.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("web: catalogue: %w", err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("web: catalogue %s: %w", name, err)
			}
			for k, v := range m {
				if _, dup := all[k]; dup {
					return nil, fmt.Errorf("web: catalogue %s: message %q defined twice", name, k)
				}
				all[k] = v
			}
		}
		c.msgs[l] = all
	}
	for _, l := range languages[1:] {
		for k := range c.msgs[languages[0]] {
			if _, ok := c.msgs[l][k]; !ok {
				return nil, fmt.Errorf("web: catalogue %s: no message %q", l, k)
			}
		}
		for k := range c.msgs[l] {
			if _, ok := c.msgs[languages[0]][k]; !ok {
				return nil, fmt.Errorf("web: catalogue %s: no message %q", languages[0], k)
			}
		}
	}
	return c, nil
}

// has reports whether the catalogue has a message for key.
func (c *catalogue) has(key string) bool {
	_, ok := c.msgs[languages[0]][key]
	return ok
}

// text returns the message for key in language l with {0}, {1}, ...
// replaced by args. A missing key shows as itself in brackets (a test
// makes sure none is missing).
func (c *catalogue) text(l lang, key string, args ...any) string {
	m, ok := c.msgs[l][key]
	if !ok {
		return "[" + key + "]"
	}
	for i, a := range args {
		m = strings.ReplaceAll(m, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return m
}

// japan is the time zone in which times are shown (Japan has no daylight
// saving time).
var japan = time.FixedZone("JST", 9*60*60)

// dateTime formats t for language l, in Japan's time.
func (c *catalogue) dateTime(l lang, t time.Time) string {
	return t.In(japan).Format(c.text(l, "format.datetime"))
}

// date formats the day of t for language l, in Japan's time.
func (c *catalogue) date(l lang, t time.Time) string {
	return t.In(japan).Format(c.text(l, "format.date"))
}
