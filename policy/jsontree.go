package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds how deeply a policy document may nest. IAM documents never
// nest more than five levels (document → Statement → statement → Condition →
// operator → key → list); the bound only stops hostile input from using the
// recursive tree builder to exhaust the stack.
const maxDepth = 32

type jkind uint8

const (
	jObject jkind = iota + 1
	jArray
	jString
	jNumber
	jBool
	jNull
)

// jnode is one JSON value with the byte offsets where it starts and ends in
// the source text. encoding/json's Unmarshal throws positions away, and
// SimulatePrincipalPolicy must report where each statement is, so the
// package builds its own small tree from the decoder's token stream.
type jnode struct {
	kind jkind
	str  string // jString: the value; jNumber: the literal as written
	b    bool   // jBool
	keys []string
	vals []*jnode // jObject: values in key order; jArray: elements
	// start is exact for objects and arrays (the offset of '{' or '[');
	// end is the offset just past the value for every kind.
	start, end int
}

func (n *jnode) kindName() string {
	switch n.kind {
	case jObject:
		return "an object"
	case jArray:
		return "a list"
	case jString:
		return "a string"
	case jNumber:
		return "a number"
	case jBool:
		return "a boolean"
	default:
		return "null"
	}
}

// lookup returns the value of key in an object node.
func (n *jnode) lookup(key string) (*jnode, bool) {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i], true
		}
	}
	return nil, false
}

// decodeTree parses doc into a tree. It refuses trailing text after the
// document and duplicate keys in one object: different JSON parsers resolve a
// duplicate differently (first wins, last wins), and a policy whose meaning
// depends on the parser is a security bug waiting to happen.
func decodeTree(doc string) (*jnode, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	lines := newLineIndex(doc)
	n, err := readNode(dec, 0)
	if err != nil {
		return nil, describeJSONError(err, lines)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := int(dec.InputOffset())
		p := lines.position(off)
		return nil, fmt.Errorf("unexpected text after the end of the policy document at line %d, column %d", p.Line, p.Column)
	}
	return n, nil
}

// syntaxAt is a JSON syntax problem found by this package (not the
// decoder), with the byte offset it applies to.
type syntaxAt struct {
	msg string
	off int
}

func (e *syntaxAt) Error() string { return e.msg }

func describeJSONError(err error, lines lineIndex) error {
	var se *json.SyntaxError
	var at *syntaxAt
	switch {
	case errors.As(err, &se):
		p := lines.position(int(se.Offset))
		return fmt.Errorf("the policy is not valid JSON: %s (line %d, column %d)", se.Error(), p.Line, p.Column)
	case errors.As(err, &at):
		p := lines.position(at.off)
		return fmt.Errorf("the policy is not valid JSON: %s (line %d, column %d)", at.msg, p.Line, p.Column)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the policy is not valid JSON: the document is empty or ends too early")
	default:
		return fmt.Errorf("the policy is not valid JSON: %v", err)
	}
}

func readNode(dec *json.Decoder, depth int) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	end := int(dec.InputOffset())
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, &syntaxAt{msg: fmt.Sprintf("nesting deeper than %d levels", maxDepth), off: end}
		}
		n := &jnode{start: end - 1}
		switch t {
		case '{':
			n.kind = jObject
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, &syntaxAt{msg: "object key is not a string", off: int(dec.InputOffset())}
				}
				if seen[key] {
					return nil, &syntaxAt{msg: fmt.Sprintf("duplicate key %q", key), off: int(dec.InputOffset())}
				}
				seen[key] = true
				v, err := readNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = jArray
			for dec.More() {
				v, err := readNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
		default:
			return nil, &syntaxAt{msg: fmt.Sprintf("unexpected %q", rune(t)), off: end}
		}
		// The closing delimiter; the decoder has already checked it matches.
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		n.end = int(dec.InputOffset())
		return n, nil
	case string:
		return &jnode{kind: jString, str: t, end: end}, nil
	case json.Number:
		return &jnode{kind: jNumber, str: string(t), end: end}, nil
	case bool:
		return &jnode{kind: jBool, b: t, end: end}, nil
	case nil:
		return &jnode{kind: jNull, end: end}, nil
	default:
		return nil, &syntaxAt{msg: fmt.Sprintf("unexpected token %v", tok), off: end}
	}
}

// lineIndex turns byte offsets into the 1-based line and column IAM reports.
// Columns count characters (runes), not bytes, so a policy with non-ASCII
// text in it reports the column a person sees in an editor.
type lineIndex struct {
	doc    string
	starts []int // byte offset where each line begins
}

func newLineIndex(doc string) lineIndex {
	starts := []int{0}
	for i := 0; i < len(doc); i++ {
		if doc[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{doc: doc, starts: starts}
}

func (li lineIndex) position(off int) Position {
	if off < 0 {
		off = 0
	}
	if off > len(li.doc) {
		off = len(li.doc)
	}
	// The last line start that is <= off.
	line := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	col := utf8.RuneCountInString(li.doc[li.starts[line]:off]) + 1
	return Position{Line: line + 1, Column: col}
}
