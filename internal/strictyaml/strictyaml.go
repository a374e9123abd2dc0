// Package strictyaml reads the operator's YAML files (plugins, accounts)
// strictly: one document, every key one the Go type declares. A misspelt
// key must be an error naming it — "grant" must not silently grant
// nothing, "mdoe" must not silently leave an account at its default — and
// yaml.v3's own words for it name Go types the operator never wrote.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/iammcp/iam-mcp-server/internal/quote"
)

// unknownField is yaml.v3's message for a key the type does not declare.
var unknownField = regexp.MustCompile(`^(line \d+: )?field (\S+) not found in type [\w.]*?(\w+)$`)

// Decode reads data, which must hold one YAML document, into v. what
// names the file in messages ("plugins file"); known gives, for a Go
// type's name (its name without the package), the keys it accepts, for
// the refusal of an unknown one.
//
// A key written with no value ("accounts:" with its entries commented
// out) is refused: yaml reads it as if the key were absent, which for an
// allowlist means everything — the opposite of what the operator was
// writing.
func Decode(data []byte, v any, what string, known func(typeName string) string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil {
		if err := noEmptyValues(&doc); err != nil {
			return err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return rewrite(err, known)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("the %s must hold one YAML document", what)
	}
	return nil
}

// noEmptyValues refuses the first mapping key under n whose value is
// null: nothing, "~" or "null".
func noEmptyValues(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				return fmt.Errorf("line %d: %s has no value; write one (list at least one entry, for a list), or leave the key out", k.Line, quote.Short(k.Value, 64))
			}
		}
	}
	for _, c := range n.Content {
		if err := noEmptyValues(c); err != nil {
			return err
		}
	}
	return nil
}

// rewrite names an unknown key as the operator wrote it, with the keys
// that exist there.
func rewrite(err error, known func(string) string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		if m := unknownField.FindStringSubmatch(e); m != nil {
			e = fmt.Sprintf("%sunknown key %s (known: %s)", m[1], quote.Short(m[2], 64), known(m[3]))
		}
		msgs = append(msgs, e)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// Value is the value of key in the YAML mapping n, or nil: for checks
// that need a file's nodes, such as a key written with no value, which
// decodes as if it were absent.
func Value(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
