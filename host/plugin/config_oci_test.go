package plugin

import (
	"path/filepath"
	"strings"
	"testing"
)

const ociSource = "oci://registry.example.com/acme/reviewer:1.2.0@sha256:" + sha

// TestLoadConfigOCI reads an entry published to a registry: the source,
// its publisher and per-entry certificates, with relative certificate
// paths resolved against the file like plugin paths are.
func TestLoadConfigOCI(t *testing.T) {
	path := writeConfig(t, `
publishers:
  acme:
    certificates: [keys/acme.crt, /abs/acme2.crt]
plugins:
  - name: reviewer
    source: `+ociSource+`
    publisher: acme
    signed_by: [keys/other.crt]
    grants: [read]
  - name: local
    path: local.wasm
    sha256: `+sha+`
`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	if got := cfg.Publishers["acme"].Certificates; len(got) != 2 || got[0] != filepath.Join(dir, "keys/acme.crt") || got[1] != "/abs/acme2.crt" {
		t.Errorf("publisher certificates = %q", got)
	}
	r := cfg.Plugins[0]
	if r.Source != ociSource || r.Publisher != "acme" || r.Path != "" || r.SHA256 != "" {
		t.Errorf("entry = %+v", r)
	}
	if len(r.SignedBy) != 1 || r.SignedBy[0] != filepath.Join(dir, "keys/other.crt") {
		t.Errorf("signed_by = %q", r.SignedBy)
	}
	// Once resolved by the command, an entry holds both the source and
	// the cached module's path and hash, and still validates (Load
	// validates again).
	cfg.Plugins[0].Path, cfg.Plugins[0].SHA256 = "/cache/oci/m.wasm", sha
	if err := cfg.Validate(); err != nil {
		t.Errorf("a resolved entry does not validate: %v", err)
	}
}

func TestLoadConfigOCIErrors(t *testing.T) {
	pubs := "publishers:\n  acme:\n    certificates: [acme.crt]\n"
	entry := func(extra string) string {
		return pubs + "plugins:\n  - name: p\n    source: " + ociSource + "\n" + extra
	}
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"path and source", entry("    path: p.wasm\n"), []string{`plugin "p"`, "both path and source"}},
		{"unpinned source", pubs + "plugins:\n  - name: p\n    source: oci://r.example.com/a/b:1\n", []string{`plugin "p"`, "not pinned", "plugins add"}},
		{"not oci", pubs + "plugins:\n  - name: p\n    source: https://r.example.com/a/b@sha256:" + sha + "\n", []string{"not an oci:// reference"}},
		{"bad digest", pubs + "plugins:\n  - name: p\n    source: oci://r.example.com/a/b@sha256:abc\n", []string{"not a reference such as"}},
		{"no repository", pubs + "plugins:\n  - name: p\n    source: oci://r.example.com@sha256:" + sha + "\n", []string{"not a reference such as"}},
		{"unknown publisher", entry("    publisher: acne\n"), []string{`plugin "p"`, `publisher "acne"`, "known: acme"}},
		{"publisher with path", pubs + "plugins:\n  - name: p\n    path: p.wasm\n    sha256: " + sha + "\n    publisher: acme\n", []string{"only to a plugin with a source"}},
		{"signed_by with path", "plugins:\n  - name: p\n    path: p.wasm\n    sha256: " + sha + "\n    signed_by: [a.crt]\n", []string{"only to a plugin with a source"}},
		{"empty signed_by", entry("    signed_by: []\n"), []string{"signed_by lists no certificate"}},
		{"bad sha256", entry("    sha256: xyz\n"), []string{"not 64 hex digits"}},
		{"publisher without certificates", "publishers:\n  acme: {}\nplugins: []\n", []string{`publisher "acme"`, "certificates is missing"}},
		{"unknown publisher key", "publishers:\n  acme:\n    certs: [a.crt]\n", []string{`unknown key "certs"`, "certificates"}},
		{"bad publisher name", "publishers:\n  'a b':\n    certificates: [a.crt]\n", []string{"publisher", "letters, digits"}},
		{"neither path nor source", "plugins:\n  - name: p\n    sha256: " + sha + "\n", []string{"path", "source", "missing"}},
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
}
