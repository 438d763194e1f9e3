package catalog

import (
	"fmt"
	"github.com/wharf-data/wharf/internal/suggest"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// field is one scalar value read from the catalog, with where it was
// written, so that validation can point at it.
type field struct {
	// Path names the value in messages, e.g. "workflows[2].schedule".
	Path  string
	Value string
	Pos   Pos
	// Set is true when the value was written in the file or filled in by a
	// default.
	Set bool
	// Bad marks a value already reported as malformed; validation skips it.
	Bad bool
}

// unset is a value not written in the file: messages about it point at
// the enclosing entry.
func unset(path string, pos Pos) field { return field{Path: path, Pos: pos} }

// decoder walks a yaml.Node tree, collecting every error it meets.
type decoder struct {
	file string
	errs *errorList
	// open holds the mappings being read, so that a merge key naming the
	// mapping it sits in (<<: *self) is a cycle to report, not a loop.
	open map[*yaml.Node]bool
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Column: n.Column}
}

// deref follows aliases (*name) to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean " + n.Value
		case "!!int", "!!float":
			return "number " + n.Value
		}
		return fmt.Sprintf("string %q", n.Value)
	}
	return "nothing"
}

// pair is one key and value of a mapping.
type pair struct {
	key     string
	keyNode *yaml.Node
	value   *yaml.Node
}

// mapping returns the pairs of a mapping node in file order. It reports a
// node that is not a mapping (want says what was expected), duplicate keys
// and, when known is not nil, keys that are not in known, with a
// suggestion. YAML merge keys (<<: *anchor) are expanded; written keys win
// over merged ones.
func (d *decoder) mapping(n *yaml.Node, path, want string, known []string) ([]pair, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true // an empty section
	}
	if n.Kind != yaml.MappingNode {
		d.errs.add(d.pos(n), path, "want %s, got %s", want, describe(n))
		return nil, false
	}
	if d.open == nil {
		d.open = map[*yaml.Node]bool{}
	}
	d.open[n] = true
	defer delete(d.open, n)
	var out []pair
	seen := map[string]*yaml.Node{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(v, path, want, known)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errs.add(d.pos(k), path, "keys must be plain strings, got %s", describe(k))
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			d.errs.add(d.pos(k), path, "duplicate key %q (first at line %d)", key, first.Line)
			continue
		}
		seen[key] = k
		if known != nil && !contains(known, key) {
			d.unknownKey(k, path, known)
			continue
		}
		out = append(out, pair{key, k, v})
	}
	for _, p := range merged {
		if _, written := seen[p.key]; written {
			continue
		}
		seen[p.key] = p.keyNode
		out = append(out, p)
	}
	return out, true
}

// mergePairs expands the value of a << key: a mapping or a list of them.
func (d *decoder) mergePairs(v *yaml.Node, path, want string, known []string) []pair {
	merge := func(m *yaml.Node) []pair {
		if target := deref(m); d.open[target] {
			d.errs.add(d.pos(m), path, "the merge key (<<) names the mapping it is part of (*%s, anchored at line %d): a cycle", m.Value, target.Line)
			return nil
		}
		ps, _ := d.mapping(m, path, want, known)
		return ps
	}
	if s := deref(v); s.Kind == yaml.SequenceNode {
		var out []pair
		for _, m := range s.Content {
			out = append(out, merge(m)...)
		}
		return out
	}
	return merge(v)
}

func (d *decoder) unknownKey(k *yaml.Node, path string, known []string) {
	hint := suggest.DidYouMean(k.Value, known)
	if hint == "" {
		sorted := append([]string(nil), known...)
		sort.Strings(sorted)
		hint = " (known keys: " + strings.Join(sorted, ", ") + ")"
	}
	d.errs.add(d.pos(k), path, "unknown key %q%s", k.Value, hint)
}

// scalar reads a string value. Numbers and dates are taken as written;
// null is an explicit empty value; booleans, lists and mappings are errors.
func (d *decoder) scalar(n *yaml.Node, path string) field {
	n = deref(n)
	f := field{Path: path, Pos: d.pos(n), Set: true}
	switch {
	case n.Kind != yaml.ScalarNode:
		d.errs.add(f.Pos, path, "want a single value, got %s", describe(n))
		f.Bad = true
	case n.ShortTag() == "!!null":
	case n.ShortTag() == "!!bool":
		d.errs.add(f.Pos, path, "want a string, got boolean %s (quote it if you mean the text)", n.Value)
		f.Bad = true
	default:
		f.Value = n.Value
	}
	return f
}

// sequence returns the items of a list node, or reports what it got.
func (d *decoder) sequence(n *yaml.Node, path, want string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			return nil, true
		}
		d.errs.add(d.pos(n), path, "want %s, got %s", want, describe(n))
		return nil, false
	}
	return n.Content, true
}

// stringList reads a list of strings; a single string is a list of one.
func (d *decoder) stringList(n *yaml.Node, path, want string) []field {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		if n.ShortTag() == "!!null" {
			return nil
		}
		return []field{d.scalar(n, path)}
	}
	items, _ := d.sequence(n, path, want)
	out := make([]field, 0, len(items))
	for i, item := range items {
		out = append(out, d.scalar(item, fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
