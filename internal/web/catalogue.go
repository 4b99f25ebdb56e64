package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kinko/internal/calendar"
	"kinko/internal/messages"
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

// catalogue holds every user-visible string in every language.
type catalogue struct {
	msgs map[lang]map[string]string
}

// loadCatalogue reads the message catalogue (package messages).
func loadCatalogue() (*catalogue, error) {
	m, err := messages.Load()
	if err != nil {
		return nil, fmt.Errorf("web: catalogue: %w", err)
	}
	c := &catalogue{msgs: map[lang]map[string]string{}}
	for _, l := range languages {
		c.msgs[l] = m[string(l)]
	}
	return c, nil
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

// dateTime formats t for language l, in Japan's time.
func (c *catalogue) dateTime(l lang, t time.Time) string {
	return t.In(calendar.JST).Format(c.text(l, "format.datetime"))
}

// date formats the day of t for language l, in Japan's time.
func (c *catalogue) date(l lang, t time.Time) string {
	return t.In(calendar.JST).Format(c.text(l, "format.date"))
}
