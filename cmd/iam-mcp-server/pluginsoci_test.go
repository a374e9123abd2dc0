package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/pluginreg"
)

const testDigest = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// TestAppendEntry: plugins add appends its entry as text, keeping the
// file's comments, following its indentation, and the result reads back
// as the entry that was meant.
func TestAppendEntry(t *testing.T) {
	sha := strings.Repeat("b", 64)
	spec := plugin.Spec{Name: "reviewer", Source: "oci://127.0.0.1:5000/acme/reviewer:1@" + testDigest,
		Publisher: "acme", Grants: []string{"list_users", "delete_user"}}
	for _, tc := range []struct{ name, file string }{
		{"two-space list", "# ours\npublishers:\n  acme:\n    certificates: [acme.crt]\nplugins:\n  - name: local # kept\n    path: l.wasm\n    sha256: " + sha + "\n"},
		{"flush list", "publishers:\n  acme:\n    certificates: [acme.crt]\nplugins:\n- name: local\n  path: l.wasm\n  sha256: " + sha},
		{"no plugins yet", "# only publishers\npublishers:\n  acme:\n    certificates: [acme.crt]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "plugins.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := appendEntry(path, entryYAML(spec)); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(data), strings.TrimSuffix(tc.file, "\n")) {
				t.Errorf("the file's text was not kept:\n%s", data)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
			}
			cfg, err := plugin.LoadConfig(path)
			if err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			got := cfg.Plugins[len(cfg.Plugins)-1]
			if got.Name != "reviewer" || got.Source != spec.Source || got.Publisher != "acme" || strings.Join(got.Grants, ",") != "list_users,delete_user" || got.Limits.Memory != plugin.DefaultMemory {
				t.Errorf("entry read back as %+v", got)
			}
		})
	}
	// A file that cannot take an appended entry is left as it was, with
	// the entry to add by hand.
	path := filepath.Join(t.TempDir(), "plugins.yaml")
	body := "plugins: []\n"
	os.WriteFile(path, []byte(body), 0o600)
	if err := appendEntry(path, entryYAML(spec)); err == nil || !strings.Contains(err.Error(), "add this entry yourself") {
		t.Errorf("appended to a flow list: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != body {
		t.Errorf("the file changed: %q", data)
	}
}

// TestRepinEntry: plugins update changes the source of one entry in the
// text, and drops its sha256 (which named the old module).
func TestRepinEntry(t *testing.T) {
	old := "oci://127.0.0.1:5000/acme/r:1@" + testDigest
	repl := "oci://127.0.0.1:5000/acme/r:1@sha256:" + strings.Repeat("c", 64)
	body := "# header\nplugins:\n  - name: other\n    source: " + old + "\n  - name: r # the reviewer\n    source: \"" + old + "\" # pinned\n    sha256: " + strings.Repeat("a", 64) + "\n    grants: [read]\n"
	path := filepath.Join(t.TempDir(), "plugins.yaml")
	os.WriteFile(path, []byte(body), 0o600)
	if err := repinEntry(path, "r", repl); err != nil {
		t.Fatal(err)
	}
	cfg, err := plugin.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Plugins[0].Source != old || cfg.Plugins[1].Source != repl || cfg.Plugins[1].SHA256 != "" {
		t.Errorf("after repin: %+v", cfg.Plugins)
	}
	data, _ := os.ReadFile(path)
	for _, keep := range []string{"# header", "# the reviewer", "# pinned", "grants: [read]"} {
		if !strings.Contains(string(data), keep) {
			t.Errorf("lost %q:\n%s", keep, data)
		}
	}
	if err := repinEntry(path, "nobody", repl); err == nil {
		t.Error("repinned an entry that does not exist")
	}
}

// TestWriteChanges: a new operation asked for by an update is shown,
// loudly, as not granted unless the file's grants already cover it.
func TestWriteChanges(t *testing.T) {
	before := pluginreg.Info{Tools: []pluginreg.ToolInfo{{Name: "a", Operations: []string{"list_users"}}, {Name: "gone"}}}
	after := pluginreg.Info{Tools: []pluginreg.ToolInfo{{Name: "a", Operations: []string{"list_users", "delete_user", "list_roles"}}, {Name: "b"}}}
	var out bytes.Buffer
	writeChanges(&out, []string{"read"}, before, after)
	s := out.String()
	for _, w := range []string{"new tool: b", "removed tool: gone", "NEW OPERATIONS", "delete_user (WRITE): NOT GRANTED", "list_roles (read): already granted"} {
		if !strings.Contains(s, w) {
			t.Errorf("changes do not say %q:\n%s", w, s)
		}
	}
}

// TestOCICommandUsage: the new subcommands parse strictly.
func TestOCICommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plugins", "publish", "x.wasm"}, "publish what, where?"},
		{[]string{"plugins", "publish", "x.wasm", "oci://r/a:1", "--sign-key", "k"}, "--sign-key and --sign-cert go together"},
		{[]string{"plugins", "sign", "oci://r/a:1"}, "--key and --cert are required"},
		{[]string{"plugins", "keygen"}, "whose key?"},
		{[]string{"plugins", "keygen", "a", "b"}, "unexpected argument"},
		{[]string{"plugins", "add", "oci://r/a:1", "--publisher", "acme"}, "--plugins FILE is required"},
		{[]string{"plugins", "add", "oci://r/a:1", "--plugins", "p.yaml"}, "whose signature?"},
		{[]string{"plugins", "add", "oci://r/a:1", "--bogus"}, "bogus"},
		{[]string{"plugins", "update", "r"}, "--plugins FILE is required"},
		{[]string{"plugins", "frob"}, "publish, sign, keygen, add or update"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(process{}, tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// FuzzPluginsFileEdit: whatever the plugins file holds, plugins add and
// plugins update never panic, and what they write reads back as a plugins
// file with the change (add keeps the file's text before its entry).
func FuzzPluginsFileEdit(f *testing.F) {
	src := "oci://127.0.0.1:5000/acme/r:1@" + testDigest
	for _, s := range []string{
		"plugins:\n  - name: r\n    source: " + src + "\n",
		"# c\nplugins:\n- name: r # x\n  source: '" + src + "'\n  sha256: " + strings.Repeat("a", 64) + "\n",
		"publishers:\n  acme:\n    certificates: [a.crt]\n", "plugins: []\n", "", "plugins:\n  - name: r\n    source: >\n      " + src + "\n",
	} {
		f.Add([]byte(s))
	}
	repl := "oci://127.0.0.1:5000/acme/r:1@sha256:" + strings.Repeat("c", 64)
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "plugins.yaml")
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := repinEntry(path, "r", repl); err == nil {
			cfg, err := plugin.LoadConfig(path)
			if err != nil {
				t.Fatalf("repin of %q wrote a file that does not read: %v", in, err)
			}
			i := slices.IndexFunc(cfg.Plugins, func(s plugin.Spec) bool { return s.Name == "r" })
			if i < 0 || cfg.Plugins[i].Source != repl {
				t.Fatalf("repin of %q did not repin r: %+v", in, cfg.Plugins)
			}
		}
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Fatal(err)
		}
		spec := plugin.Spec{Name: "added", Source: src, Grants: []string{"list_users"}}
		if err := appendEntry(path, entryYAML(spec)); err == nil {
			data, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(data), strings.TrimSuffix(string(in), "\n")) {
				t.Fatalf("add to %q did not keep the file's text:\n%s", in, data)
			}
			cfg, err := plugin.LoadConfig(path)
			if err != nil || !slices.ContainsFunc(cfg.Plugins, func(s plugin.Spec) bool { return s.Name == "added" && s.Source == src }) {
				t.Fatalf("add to %q: %v %+v", in, err, cfg)
			}
		}
	})
}
