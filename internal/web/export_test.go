package web

import (
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template/parse"
)

// ErrorKey exports errorKey to the tests.
var ErrorKey = errorKey

// TemplateKeys returns the catalogue keys that the templates use as
// literals, each with the templates that use it: the first argument of t,
// and the argument of the "notice" template.
func TemplateKeys() (map[string][]string, error) {
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	ts, err := parseTemplates(cat)
	if err != nil {
		return nil, err
	}
	keys := map[string][]string{}
	for page, t := range ts.pages[langJA] {
		for _, tt := range t.Templates() {
			if tt.Tree == nil {
				continue
			}
			walk(tt.Tree.Root, func(key string) { keys[key] = append(keys[key], page+":"+tt.Name()) })
		}
	}
	return keys, nil
}

func walk(n parse.Node, use func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, use)
		}
	case *parse.ActionNode:
		walk(n.Pipe, use)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, use)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					use(s.Text)
				}
			}
		}
		for _, a := range n.Args {
			walk(a, use)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, use)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, use)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, use)
	case *parse.TemplateNode:
		if n.Name == "notice" && n.Pipe != nil {
			for _, c := range n.Pipe.Cmds {
				for _, a := range c.Args {
					if s, ok := a.(*parse.StringNode); ok {
						use(s.Text)
					}
				}
			}
		}
		walk(n.Pipe, use)
	}
}

func walkBranch(b *parse.BranchNode, use func(string)) {
	walk(b.Pipe, use)
	walk(b.List, use)
	walk(b.ElseList, use)
}

// GoKeys returns the catalogue keys that Go code names: the page titles,
// the navigation, the roles, the hours and the pages' own errors.
func GoKeys() []string {
	var keys []string
	pages, _ := fs.Glob(templateFiles, "templates/pages/*.html")
	for _, p := range pages {
		keys = append(keys, titleKey(strings.TrimSuffix(path.Base(p), ".html")))
	}
	for _, pg := range publicPages {
		keys = append(keys, pg.nav)
	}
	keys = append(keys, "nav.login", "format.datetime", "format.date", "error.invalid_password_same")
	for _, k := range roleKeys {
		keys = append(keys, k)
	}
	for _, row := range DefaultServiceHours.rows() {
		keys = append(keys, row.DaysKey)
	}
	sort.Strings(keys)
	return keys
}

// PublicPaths returns the paths of the public pages and the catalogue
// keys of their titles.
func PublicPaths() map[string]string {
	out := map[string]string{}
	for _, pg := range publicPages {
		out[pg.path] = titleKey(pg.name)
	}
	return out
}
