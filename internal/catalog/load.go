package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Load reads the catalog file at path (wharf YAML/JSON or a Glue workflow
// catalog) and returns it defaulted and validated. On failure the error is
// Errors, with every problem found.
func Load(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, Errors{{Pos: Pos{File: path}, Msg: "cannot read the catalog: " + err.Error()}}
	}
	return Parse(path, data)
}

// Parse reads a catalog from data; path is used in messages only. YAML and
// JSON are read by one parser (JSON is YAML), so every error has a line and
// column. A top-level WorkflowList key means a Glue workflow catalog.
//
// Loading is three steps: parse the file into values with positions, fill
// in defaults, then validate everything. On failure the error is Errors,
// with every problem found.
func Parse(path string, data []byte) (*Catalog, error) {
	errs := &errorList{}
	top, err := parseYAML(path, data)
	if err != nil {
		return nil, Errors{err}
	}
	d := &decoder{file: path, errs: errs}
	var doc *document
	if isGlue(top) {
		doc = d.glue(top)
	} else {
		doc = d.wharf(top)
	}
	doc.withDefaults()
	cat := doc.validate(errs)
	if err := errs.result(); err != nil {
		return nil, err
	}
	return cat, nil
}

// yamlLineRE finds the line yaml.v3 puts in its syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML returns the top node of the only document in data.
func parseYAML(path string, data []byte) (*yaml.Node, *Error) {
	syntax := "YAML"
	if strings.EqualFold(filepath.Ext(path), ".json") {
		syntax = "JSON"
	}
	if i, msg := unreadable(data); msg != "" {
		line, col := lineCol(data, i+1)
		return nil, &Error{Pos: Pos{File: path, Line: line, Column: col}, Msg: msg}
	}
	// YAML takes what JSON does not (a trailing comma, single quotes,
	// comments): a JSON file, a Glue catalog above all, must stay JSON for
	// the other tools that read it.
	if looksJSON(path, data) {
		if err := jsonSyntax(path, data); err != nil {
			return nil, err
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Pos: Pos{File: path}, Msg: "the catalog is empty"}
		}
		return nil, syntaxError(path, syntax, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(path, syntax, data, err)
	default:
		pos := Pos{File: path, Line: extra.Line, Column: extra.Column}
		if len(extra.Content) > 0 {
			pos.Line, pos.Column = extra.Content[0].Line, extra.Content[0].Column
		}
		return nil, &Error{Pos: pos, Msg: "more than one YAML document (---): a catalog is one document"}
	}
	if len(root.Content) == 0 {
		return nil, &Error{Pos: Pos{File: path}, Msg: "the catalog is empty"}
	}
	top := deref(root.Content[0])
	if top.Kind != yaml.MappingNode {
		if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
			return nil, &Error{Pos: Pos{File: path}, Msg: "the catalog is empty"}
		}
		return nil, &Error{Pos: Pos{File: path, Line: top.Line, Column: top.Column},
			Msg: "want a mapping at the top (connections, lakes, workflows, ...) or a Glue catalog {\"WorkflowList\": [...]}, got " + describe(top)}
	}
	return top, nil
}

// unreadable returns the offset of the first byte that yaml.v3's reader
// refuses and why, or "" when it takes them all. yaml.v3 names no place for
// these (it fails before it scans), so they are found here: bytes that are
// not UTF-8, and characters outside YAML's printable set (control
// characters such as DEL or U+0085..U+009F, U+FFFE, U+FFFF) that JSON
// allows raw inside a string.
func unreadable(data []byte) (int, string) {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return i, fmt.Sprintf("byte 0x%02x is not UTF-8: a catalog is UTF-8 text", data[i])
		case !yamlPrintable(r):
			return i, fmt.Sprintf("character U+%04X is not allowed raw in a catalog: write it as the escape \\u%04X inside a double-quoted string", r, r)
		}
		i += n
	}
	return 0, ""
}

// yamlPrintable is YAML 1.2's c-printable set, which yaml.v3 enforces.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// syntaxError turns a yaml.v3 syntax error into an Error at the right line.
// yaml.v3 reports the line where the enclosing block starts, not where the
// problem is, so for YAML the position is found again as the first line at
// which a prefix of the file fails with the same message. (A JSON file's
// syntax errors are placed by jsonSyntax before yaml.v3 reads it.)
func syntaxError(path, syntax string, data []byte, err error) *Error {
	msg := err.Error()
	pos := Pos{File: path}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if !looksJSON(path, data) {
		if line := firstFailingLine(data, msg); line > 0 {
			pos.Line = line
		}
	}
	if pos.Line == 0 {
		// yaml.v3 gives no line for what it finds at the end of the input
		// ("found unexpected end of stream"): the last line.
		pos.Line = bytes.Count(bytes.TrimRight(data, "\n"), []byte("\n")) + 1
	}
	return &Error{Pos: pos, Msg: syntax + " syntax error: " + msg}
}

// looksJSON reports whether the catalog at path is JSON: its name ends in
// .json, or it starts with '{' and its name does not end in .yaml or .yml.
func looksJSON(path string, data []byte) bool {
	ext := strings.ToLower(filepath.Ext(path))
	trimmed := bytes.TrimSpace(data)
	return ext == ".json" || (ext != ".yaml" && ext != ".yml" && len(trimmed) > 0 && trimmed[0] == '{')
}

// jsonSyntax returns encoding/json's syntax error for data at its exact
// line and column, or nil.
func jsonSyntax(path string, data []byte) *Error {
	var v json.RawMessage
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &v); errors.As(err, &se) {
		line, col := lineCol(data, int(se.Offset))
		return &Error{Pos: Pos{File: path, Line: line, Column: col}, Msg: "JSON syntax error: " + se.Error()}
	}
	return nil
}

// maxRelocateLines bounds the prefix search of firstFailingLine.
const maxRelocateLines = 5000

// firstFailingLine returns the first line n such that the file's first n
// lines fail to parse with the message msg, or 0.
func firstFailingLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxRelocateLines {
		return 0
	}
	var prefix []byte
	for i, l := range lines {
		prefix = append(prefix, l...)
		var n yaml.Node
		err := yaml.Unmarshal(prefix, &n)
		if err == nil {
			continue
		}
		m := err.Error()
		if sub := yamlLineRE.FindStringSubmatch(m); sub != nil {
			m = m[len(sub[0]):]
		}
		if m == msg {
			return i + 1
		}
	}
	return 0
}

// lineCol converts a byte offset (as encoding/json reports it: the bytes
// read before the error) into a 1-based line and column.
func lineCol(data []byte, offset int) (line, col int) {
	if offset > len(data) {
		offset = len(data)
	}
	if offset > 0 {
		offset-- // the offending byte
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = offset - bytes.LastIndexByte(before, '\n')
	return line, col
}
