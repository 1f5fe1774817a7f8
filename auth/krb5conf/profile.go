package krb5conf

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxIncludeDepth bounds include nesting; MIT has no bound, so an include
// cycle makes it recurse until it runs out of file descriptors.
const maxIncludeDepth = 16

// profile is a parsed MIT profile (krb5.conf): sections holding ordered
// relations, which are either tag = value or tag = { subsection }. Sections
// and subsections with the same name are merged, as MIT's profile library
// does, so that values from earlier files come first and win.
type profile struct {
	sections []*pnode
	files    []string // every file read, includes too, in order
}

type pnode struct {
	name string
	rels []prel
}

type prel struct {
	tag   string
	value string
	sub   *pnode // non-nil for tag = { ... }
}

func (p *profile) section(name string) *pnode {
	for _, s := range p.sections {
		if s.name == name {
			return s
		}
	}
	s := &pnode{name: name}
	p.sections = append(p.sections, s)
	return s
}

func (p *profile) find(name string) *pnode {
	for _, s := range p.sections {
		if s.name == name {
			return s
		}
	}
	return nil
}

// first returns the first value of tag directly under section.
func (p *profile) first(section, tag string) (string, bool) {
	s := p.find(section)
	if s == nil {
		return "", false
	}
	for _, r := range s.rels {
		if r.sub == nil && r.tag == tag {
			return r.value, true
		}
	}
	return "", false
}

func (n *pnode) subsection(name string) *pnode {
	for _, r := range n.rels {
		if r.sub != nil && r.tag == name {
			return r.sub
		}
	}
	sub := &pnode{name: name}
	n.rels = append(n.rels, prel{tag: name, sub: sub})
	return sub
}

// SyntaxError is a krb5.conf (or included file) that cannot be parsed:
// a malformed line, an unbalanced brace, an include that cannot be read or
// nests too deep. It matches [ErrMalformed].
type SyntaxError struct {
	File string
	Line int // 0 when the error is about the whole file
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrMalformed }

func (p *profile) parseFile(path string, depth int) error {
	if depth > maxIncludeDepth {
		return &SyntaxError{File: path, Msg: fmt.Sprintf("includes nested deeper than %d (an include cycle?)", maxIncludeDepth)}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	p.files = append(p.files, path)
	return p.parse(string(b), path, depth)
}

// includeDirName reports whether MIT's includedir would read name: only
// letters, digits, '-' and '_', or anything ending in ".conf" (so that
// editor backups and package-manager leftovers are skipped).
func includeDirName(name string) bool {
	if len(name) > len(".conf") && strings.HasSuffix(name, ".conf") {
		return true
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return name != ""
}

func (p *profile) parseDir(dir string, depth int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() && includeDirName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // MIT reads them in sorted order too
	for _, n := range names {
		if err := p.parseFile(filepath.Join(dir, n), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// directive recognises MIT's top-level "include FILE", "includedir DIR" and
// "module ..." lines: the keyword at the very start of the line, then
// whitespace.
func directive(line, word string) (string, bool) {
	if len(line) <= len(word) || !strings.HasPrefix(line, word) || (line[len(word)] != ' ' && line[len(word)] != '\t') {
		return "", false
	}
	return strings.TrimSpace(line[len(word):]), true
}

// parse adds text (from file name, for messages) to p. Lines before the
// first section header are ignored, as MIT does; an included file starts
// afresh and the including file carries on in its own section.
func (p *profile) parse(text, name string, depth int) error {
	var stack []*pnode // current section, then open subsections
	for i, line := range strings.Split(text, "\n") {
		lineNo := i + 1
		line = strings.TrimRight(line, "\r")
		fail := func(msg string) error { return &SyntaxError{File: name, Line: lineNo, Msg: msg} }
		if arg, ok := directive(line, "include"); ok {
			if err := p.parseFile(arg, depth+1); err != nil {
				return wrapInclude(err, name, lineNo)
			}
			continue
		}
		if arg, ok := directive(line, "includedir"); ok {
			if err := p.parseDir(arg, depth); err != nil {
				return wrapInclude(err, name, lineNo)
			}
			continue
		}
		if _, ok := directive(line, "module"); ok {
			continue
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			end := strings.IndexByte(t, ']')
			if end < 0 {
				return fail("missing ']' in section header")
			}
			stack = []*pnode{p.section(strings.TrimSpace(t[1:end]))}
			continue
		}
		if len(stack) == 0 {
			continue
		}
		if t[0] == '}' {
			if len(stack) == 1 {
				return fail("'}' without an open '{'")
			}
			stack = stack[:len(stack)-1]
			continue
		}
		eq := strings.IndexByte(t, '=')
		if eq < 0 {
			return fail("expected 'tag = value'")
		}
		tag := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(t[:eq]), "*"))
		value := strings.TrimSpace(t[eq+1:])
		if tag == "" {
			return fail("empty tag")
		}
		cur := stack[len(stack)-1]
		if value == "{" {
			stack = append(stack, cur.subsection(tag))
			continue
		}
		if strings.HasPrefix(value, `"`) {
			v, ok := unquote(value)
			if !ok {
				return fail("unterminated quoted value")
			}
			value = v
		}
		cur.rels = append(cur.rels, prel{tag: tag, value: value})
	}
	if len(stack) > 1 {
		return &SyntaxError{File: name, Msg: "missing '}' at end of file"}
	}
	return nil
}

func wrapInclude(err error, name string, line int) error {
	if _, ok := err.(*SyntaxError); ok {
		return err
	}
	return &SyntaxError{File: name, Line: line, Msg: err.Error()}
}

// unquote decodes MIT's quoted values: "..." with \n \t \b \\ and \".
func unquote(v string) (string, bool) {
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			i++
			if i == len(v) {
				return "", false
			}
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			default:
				b.WriteByte(v[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}
