package strictyaml

import (
	"strings"
	"testing"
)

type outer struct {
	Name  string `yaml:"name"`
	Items []item `yaml:"items"`
}

type item struct {
	ID string `yaml:"id"`
}

func known(t string) string {
	if t == "item" {
		return "id"
	}
	return "name, items"
}

func TestDecode(t *testing.T) {
	var v outer
	if err := Decode([]byte("name: a\nitems:\n  - id: x\n"), &v, "test file", known); err != nil || v.Name != "a" || len(v.Items) != 1 {
		t.Fatalf("%+v %v", v, err)
	}
	for _, c := range []struct{ in, want string }{
		{"nmae: a\n", `line 1: unknown key "nmae" (known: name, items)`},
		{"items:\n  - ID: x\n", `line 2: unknown key "ID" (known: id)`},
		{"name: a\n---\nname: b\n", "the test file must hold one YAML document"},
		{"name: [\n", "yaml:"},
		{"\"\\x1b[31m\": 1\n", `unknown key "\x1b[31m"`},
	} {
		err := Decode([]byte(c.in), &outer{}, "test file", known)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
	// An empty document decodes to nothing, without error.
	if err := Decode(nil, &outer{}, "test file", known); err != nil {
		t.Errorf("empty: %v", err)
	}
}
