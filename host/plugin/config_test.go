package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const sha = "9a0c95dd2601276b939064ea09e662afd4066743e77271cbc05d9fb0551b2408"

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plugins.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	path := writeConfig(t, `
plugins:
  - name: reviews
    path: plugins/reviews.wasm
    sha256: `+sha+`
    grants: [read, create_user]
    config:
      team: platform
      threshold: 90
    limits:
      memory: 128MiB
      timeout: 1m30s
      max_iam_calls: 500
      max_mutations: 3
  - name: bare
    path: /abs/bare.wasm
    sha256: `+strings.ToUpper(sha)+`
    prefix: ""
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Plugins) != 2 {
		t.Fatalf("%d plugins", len(cfg.Plugins))
	}
	r, b := cfg.Plugins[0], cfg.Plugins[1]
	if want := filepath.Join(filepath.Dir(path), "plugins", "reviews.wasm"); r.Path != want {
		t.Errorf("relative path resolved to %s, want %s (relative to the plugins file)", r.Path, want)
	}
	if b.Path != "/abs/bare.wasm" {
		t.Errorf("absolute path changed to %s", b.Path)
	}
	if r.Prefix != nil {
		t.Errorf("absent prefix is %q, want nil (the plugin's name)", *r.Prefix)
	}
	if b.Prefix == nil || *b.Prefix != "" {
		t.Errorf("prefix \"\" must be kept as an empty prefix, got %v", b.Prefix)
	}
	if r.Config["team"] != "platform" || r.Config["threshold"] != "90" {
		t.Errorf("config %v", r.Config)
	}
	want := Limits{Memory: "128MiB", Timeout: 90 * time.Second, MaxIAMCalls: 500, MaxMutations: 3}
	if r.Limits != want {
		t.Errorf("limits %+v, want %+v", r.Limits, want)
	}
	if pages, _ := r.Limits.Pages(); pages != 2048 {
		t.Errorf("128MiB is %d pages, want 2048", pages)
	}
	if d := b.Limits.withDefaults(); d.Memory != DefaultMemory || d.Timeout != DefaultTimeout || d.MaxIAMCalls != 0 {
		t.Errorf("defaults %+v", d)
	}
	if pages, _ := b.Limits.Pages(); pages != 1024 {
		t.Errorf("the default memory is %d pages, want 1024 (64MiB)", pages)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	entry := func(extra string) string {
		return "plugins:\n  - name: p\n    path: p.wasm\n    sha256: " + sha + "\n" + extra
	}
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown top-level key", "plugin:\n  - name: p\n", []string{`unknown key "plugin"`}},
		{"misspelt grants", entry("    grant: [read]\n"), []string{`unknown key "grant"`, "line 5"}},
		{"unknown limits key", entry("    limits:\n      max_mutation: 1\n"), []string{`unknown key "max_mutation" in limits`, "max_mutations"}},
		{"bad timeout", entry("    limits:\n      timeout: 30\n"), []string{`limits.timeout "30" is not a duration`}},
		{"negative timeout", entry("    limits:\n      timeout: -1s\n"), []string{"must be positive"}},
		{"too little memory", entry("    limits:\n      memory: 512KiB\n"), []string{`plugin "p"`, "16 pages"}},
		{"almost 1MiB", entry("    limits:\n      memory: 1000KiB\n"), []string{"16 pages"}},
		{"too much memory", entry("    limits:\n      memory: 5GiB\n"), []string{"4GiB"}},
		{"bad unit", entry("    limits:\n      memory: 64 parsecs\n"), []string{"unknown unit"}},
		{"negative cap", entry("    limits:\n      max_iam_calls: -1\n"), []string{"0 (no cap) or more"}},
		{"missing sha256", "plugins:\n  - name: p\n    path: p.wasm\n", []string{`plugin "p"`, "sha256 is missing", "plugins inspect"}},
		{"short sha256", "plugins:\n  - name: p\n    path: p.wasm\n    sha256: abc\n", []string{"not 64 hex digits"}},
		{"missing path", "plugins:\n  - name: p\n    sha256: " + sha + "\n", []string{"path", "missing"}},
		{"missing name", "plugins:\n  - path: p.wasm\n    sha256: " + sha + "\n", []string{"plugins[0]", "name is missing"}},
		{"bad name", "plugins:\n  - name: 'a b'\n    path: p.wasm\n    sha256: " + sha + "\n", []string{`name "a b"`}},
		{"bad prefix", entry("    prefix: 'x.y'\n"), []string{`prefix "x.y"`}},
		{"unknown grants", entry("    grants: [read, delete_everything, list_user]\n"), []string{`"delete_everything"`, `"list_user"`, "do not exist"}},
		{"duplicate names", entry("  - name: p\n    path: q.wasm\n    sha256: " + sha + "\n"), []string{"plugins[0] and plugins[1]", `"p"`}},
		{"two documents", entry("---\nplugins: []\n"), []string{"one YAML document"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tc.body))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestLoadConfigEmpty(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, "# nothing yet\n"))
	if err != nil || len(cfg.Plugins) != 0 {
		t.Fatalf("empty file: %v, %+v", err, cfg)
	}
}

func TestLimitsPages(t *testing.T) {
	for in, want := range map[string]uint32{
		"": 1024, "64MiB": 1024, "1MiB": MinPages, "1048576": 16, "2 MiB": 32, "1GiB": 16384, "4GiB": MaxPages, "100Mi": 1600, "65600": 1,
	} {
		got, err := Limits{Memory: in}.Pages()
		if in == "65600" {
			if err == nil {
				t.Errorf("%q: accepted %d pages, fewer than 16", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: %d pages, %v; want %d", in, got, err, want)
		}
	}
}

func TestReadGrantExpands(t *testing.T) {
	got, err := expandGrants([]string{ReadGrant})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, op := range api.All() {
		if op.Mutates && got[op.Name] {
			t.Errorf("read grants the mutating %s", op.Name)
		}
		if !op.Mutates {
			reads++
			if !got[op.Name] {
				t.Errorf("read does not grant %s", op.Name)
			}
		}
	}
	if len(got) != reads || !got["list_users"] || got["create_user"] {
		t.Errorf("read expands to %d operations, want %d", len(got), reads)
	}
	both, _ := expandGrants([]string{"read", "create_user"})
	if len(both) != reads+1 || !both["create_user"] {
		t.Errorf("read + create_user: %v", sortedKeys(both))
	}
}
