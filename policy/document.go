package policy

import (
	"fmt"
	"strconv"
)

// Document is a parsed IAM policy document.
//
// A Document is what Parse makes of the text: every shape IAM accepts is
// normalised (a single statement becomes a one-element list, a single action a
// one-element slice, and so on), so code that inspects or evaluates policies
// handles one shape only. Parse checks shapes, not IAM's rules; CheckIAM applies
// those.
type Document struct {
	Version    string
	ID         string
	Statements []Statement

	// versionSet records that the document carried a Version element, so the
	// checks can tell `"Version": ""` (invalid) from no Version (allowed).
	versionSet bool
}

// Statement is one statement, normalised: single values become one-element
// slices. A list element that is present but empty stays a non-nil, empty
// slice, so "Action": [] (invalid) can be told apart from no Action at all.
type Statement struct {
	Index        int        // 0-based position in the Statement list
	Sid          string     // "" when absent
	Effect       string     // "Allow" or "Deny" exactly as written ("" when absent)
	Principal    *Principal // nil when absent
	NotPrincipal *Principal // nil when absent

	Action, NotAction     []string // exactly one of the pair is non-nil when valid
	Resource, NotResource []string // exactly one of the pair is non-nil when valid (identity policies)

	// Condition maps operator → condition key → values, with JSON booleans
	// and numbers rendered as strings exactly as written ("true", "10").
	Condition Conditions

	// Start and End are where the statement object starts (its '{') and ends
	// (just after its '}') in the source text, as SimulatePrincipalPolicy
	// reports StartPosition and EndPosition.
	Start, End Position
}

// Position is a place in a policy's source text: 1-based line and column
// (columns count characters), the form IAM uses for StartPosition and
// EndPosition in simulation results.
type Position struct{ Line, Column int }

// Principal is a statement's Principal or NotPrincipal element.
//
// "Principal": "*" sets Wildcard. The object form sets Values, keyed by the
// principal type exactly as written ("AWS", "Service", "Federated",
// "CanonicalUser"), each with its values normalised to a slice.
type Principal struct {
	Wildcard bool
	Values   map[string][]string
}

// Conditions is a statement's Condition element: operator → condition key →
// values. Operator and key names are kept as written; the evaluator compares
// condition key names case-insensitively, as AWS does.
type Conditions map[string]map[string][]string

// parseError is Parse's error: a sentence that says what is wrong and where.
type parseError struct{ msg string }

func (e *parseError) Error() string { return "invalid policy document: " + e.msg }

func parseErrorf(format string, args ...any) error {
	return &parseError{msg: fmt.Sprintf(format, args...)}
}

// Parse accepts every JSON shape IAM accepts: Statement as an object or a
// list; Action/NotAction/Resource/NotResource as string or list; Principal as
// "*" or a map whose values are strings or lists; Condition values as string,
// bool, number or lists of those. It fails (error, with a sentence saying what
// is wrong and where: statement index/Sid and field) on malformed JSON or a
// wrong shape.
//
// Parse also refuses elements IAM does not know ("Actions", "Conditon", …) and
// duplicate keys: ignoring a misspelt Condition would turn a narrow Allow into
// a broad one, so an unknown element is an error, never skipped.
func Parse(doc string) (*Document, error) {
	root, err := decodeTree(doc)
	if err != nil {
		return nil, &parseError{msg: err.Error()}
	}
	if root.kind != jObject {
		return nil, parseErrorf("the document must be a JSON object, found %s", root.kindName())
	}
	lines := newLineIndex(doc)
	d := &Document{}
	for i, key := range root.keys {
		v := root.vals[i]
		switch key {
		case "Version":
			if v.kind != jString {
				return nil, parseErrorf("Version must be a string, found %s", v.kindName())
			}
			d.Version, d.versionSet = v.str, true
		case "Id":
			if v.kind != jString {
				return nil, parseErrorf("Id must be a string, found %s", v.kindName())
			}
			d.ID = v.str
		case "Statement":
			var objs []*jnode
			switch v.kind {
			case jObject:
				objs = []*jnode{v}
			case jArray:
				objs = v.vals
			default:
				return nil, parseErrorf("Statement must be an object or a list of objects, found %s", v.kindName())
			}
			d.Statements = make([]Statement, 0, len(objs))
			for idx, o := range objs {
				st, err := parseStatement(o, idx, lines)
				if err != nil {
					return nil, err
				}
				d.Statements = append(d.Statements, st)
			}
		default:
			return nil, parseErrorf("unknown top-level element %q (IAM knows Version, Id and Statement)", key)
		}
	}
	return d, nil
}

// statementKeys are the elements a statement may carry.
var statementKeys = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Condition": true,
}

func parseStatement(o *jnode, idx int, lines lineIndex) (Statement, error) {
	if o.kind != jObject {
		return Statement{}, parseErrorf("statement %d must be an object, found %s", idx, o.kindName())
	}
	where := fmt.Sprintf("statement %d", idx)
	// Name the statement by its Sid in messages, wherever the Sid is written.
	if sid, ok := o.lookup("Sid"); ok && sid.kind == jString && sid.str != "" {
		where += fmt.Sprintf(" (Sid %q)", sid.str)
	}
	st := Statement{Index: idx, Start: lines.position(o.start), End: lines.position(o.end)}
	for i, key := range o.keys {
		v := o.vals[i]
		if !statementKeys[key] {
			return Statement{}, parseErrorf("%s: unknown element %q", where, key)
		}
		var err error
		switch key {
		case "Sid":
			st.Sid, err = stringField(v, where, key)
		case "Effect":
			st.Effect, err = stringField(v, where, key)
		case "Principal":
			st.Principal, err = parsePrincipal(v, where, key)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipal(v, where, key)
		case "Action":
			st.Action, err = stringList(v, where, key)
		case "NotAction":
			st.NotAction, err = stringList(v, where, key)
		case "Resource":
			st.Resource, err = stringList(v, where, key)
		case "NotResource":
			st.NotResource, err = stringList(v, where, key)
		case "Condition":
			st.Condition, err = parseConditions(v, where)
		}
		if err != nil {
			return Statement{}, err
		}
	}
	return st, nil
}

func stringField(v *jnode, where, key string) (string, error) {
	if v.kind != jString {
		return "", parseErrorf("%s: %s must be a string, found %s", where, key, v.kindName())
	}
	return v.str, nil
}

func stringList(v *jnode, where, key string) ([]string, error) {
	switch v.kind {
	case jString:
		return []string{v.str}, nil
	case jArray:
		out := make([]string, 0, len(v.vals))
		for i, e := range v.vals {
			if e.kind != jString {
				return nil, parseErrorf("%s: %s must be a string or a list of strings, but element %d is %s", where, key, i, e.kindName())
			}
			out = append(out, e.str)
		}
		return out, nil
	default:
		return nil, parseErrorf("%s: %s must be a string or a list of strings, found %s", where, key, v.kindName())
	}
}

func parsePrincipal(v *jnode, where, key string) (*Principal, error) {
	switch v.kind {
	case jString:
		if v.str != "*" {
			return nil, parseErrorf(`%s: %s must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}, found the string %q`, where, key, v.str)
		}
		return &Principal{Wildcard: true}, nil
	case jObject:
		p := &Principal{Values: make(map[string][]string, len(v.keys))}
		for i, typ := range v.keys {
			vals, err := stringList(v.vals[i], where, key+"."+typ)
			if err != nil {
				return nil, err
			}
			p.Values[typ] = vals
		}
		return p, nil
	default:
		return nil, parseErrorf(`%s: %s must be "*" or an object, found %s`, where, key, v.kindName())
	}
}

func parseConditions(v *jnode, where string) (Conditions, error) {
	if v.kind != jObject {
		return nil, parseErrorf("%s: Condition must be an object of operators, found %s", where, v.kindName())
	}
	c := make(Conditions, len(v.keys))
	for i, op := range v.keys {
		block := v.vals[i]
		if block.kind != jObject {
			return nil, parseErrorf("%s: Condition operator %s must map to an object of condition keys, found %s", where, op, block.kindName())
		}
		keys := make(map[string][]string, len(block.keys))
		for j, ck := range block.keys {
			vals, err := conditionValues(block.vals[j], where, op, ck)
			if err != nil {
				return nil, err
			}
			keys[ck] = vals
		}
		c[op] = keys
	}
	return c, nil
}

func conditionValues(v *jnode, where, op, key string) ([]string, error) {
	if s, ok := scalarString(v); ok {
		return []string{s}, nil
	}
	if v.kind != jArray {
		return nil, parseErrorf("%s: Condition %s %s must be a string, boolean, number or a list of those, found %s", where, op, key, v.kindName())
	}
	out := make([]string, 0, len(v.vals))
	for i, e := range v.vals {
		s, ok := scalarString(e)
		if !ok {
			return nil, parseErrorf("%s: Condition %s %s: element %d must be a string, boolean or number, found %s", where, op, key, i, e.kindName())
		}
		out = append(out, s)
	}
	return out, nil
}

// scalarString renders a condition value as the string IAM compares: strings
// as they are, booleans as "true"/"false", numbers exactly as written.
func scalarString(v *jnode) (string, bool) {
	switch v.kind {
	case jString, jNumber:
		return v.str, true
	case jBool:
		return strconv.FormatBool(v.b), true
	default:
		return "", false
	}
}
