package e2e

import (
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// pinnedRef finds the pinned reference a command printed.
var pinnedRef = regexp.MustCompile(`oci://\S+@sha256:[0-9a-f]{64}`)

// cli runs the binary and fails the test unless it exits 0.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runServer(t, args...)
	if code != 0 {
		t.Fatalf("iam-mcp-server %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// refused runs the binary, wants exit 1 and a stderr saying each of want.
func refused(t *testing.T, what string, want []string, args ...string) string {
	t.Helper()
	out, errOut, code := runServer(t, args...)
	if code != 1 {
		t.Fatalf("%s: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", what, code, out, errOut)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("%s: stderr does not say %q:\n%s", what, w, errOut)
		}
	}
	return errOut
}

// TestRegistryPlugins goes the whole way of a third-party plugin, over
// the built binary and a registry on loopback the test starts: the
// author's keygen and signed publish; the operator's add (verified,
// pinned, written to the plugins file) and a server that serves and runs
// its tool; then each way it must be refused (a tampered cached module, a
// signature by another publisher, none at all, a digest that is not the
// module's), the registry down with a warm cache and with a cold one, and
// an update that asks for a new operation.
func TestRegistryPlugins(t *testing.T) {
	t.Parallel()
	reg := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	sandbox := []string{"--sandbox", "--sandbox-seed", "demo", "--secrets-dir", filepath.Join(dir, "secrets")}
	list := func(file, cacheDir string) []string {
		return append(append([]string{"plugins", "list"}, sandbox...), "--plugins", file, "--cache-dir", cacheDir)
	}

	// The author: a signing key, and the module published and signed.
	out := cli(t, "plugins", "keygen", "acme", "--dir", dir)
	acmeKey, acmeCert := filepath.Join(dir, "acme.key"), filepath.Join(dir, "acme.crt")
	for _, f := range []string{acmeKey, acmeCert} {
		if _, err := os.Stat(f); err != nil || !strings.Contains(out, f) {
			t.Fatalf("keygen did not write and name %s: %v\n%s", f, err, out)
		}
	}
	cli(t, "plugins", "keygen", "other", "--dir", dir)
	out = cli(t, "plugins", "publish", helloWasm, "oci://"+host+"/acme/hello:1", "--sign-key", acmeKey, "--sign-cert", acmeCert, "--cache-dir", cache)
	v1 := pinnedRef.FindString(out)
	if v1 == "" || !strings.Contains(out, "signed") {
		t.Fatalf("publish did not print a pinned reference and a signature:\n%s", out)
	}
	// An unsigned one, for the refusal of a missing signature.
	out = cli(t, "plugins", "publish", helloWasm, "oci://"+host+"/acme/unsigned:1", "--cache-dir", cache)
	unsigned := pinnedRef.FindString(out)

	// inspect reads the manifest only, and verifies with --cert.
	out = cli(t, "plugins", "inspect", "oci://"+host+"/acme/hello:1", "--cert", acmeCert, "--cache-dir", cache)
	for _, w := range []string{`"list_users"`, `"hello-iam"`, strings.TrimPrefix(v1, "oci://"), `"signature"`} {
		if !strings.Contains(out, w) {
			t.Errorf("inspect does not say %s:\n%s", w, out)
		}
	}

	// The operator: a plugins file that trusts acme, and plugins add.
	file := filepath.Join(dir, "plugins.yaml")
	header := "# the operator's plugins\npublishers:\n  acme:\n    certificates: [acme.crt]\n  other:\n    certificates: [other.crt]\n"
	if err := os.WriteFile(file, []byte(header), 0o600); err != nil {
		t.Fatal(err)
	}
	// With no terminal and no --yes, nothing is written.
	refused(t, "add without --yes", []string{"--yes"}, "plugins", "add", "oci://"+host+"/acme/hello:1", "--plugins", file, "--publisher", "acme", "--cache-dir", cache)
	if b, _ := os.ReadFile(file); string(b) != header {
		t.Fatalf("add without --yes wrote:\n%s", b)
	}
	out = cli(t, "plugins", "add", "oci://"+host+"/acme/hello:1", "--plugins", file, "--publisher", "acme", "--cache-dir", cache, "--yes")
	if !strings.Contains(out, "list_users") || !strings.Contains(out, v1) {
		t.Errorf("add did not show what the plugin asks for and the pinned source:\n%s", out)
	}
	written, _ := os.ReadFile(file)
	if !strings.HasPrefix(string(written), header) || !strings.Contains(string(written), v1) {
		t.Fatalf("the plugins file after add:\n%s", written)
	}

	// The server serves the plugin's tool and runs it.
	s, _ := startPlugins(t, file)
	if _, ok := s.tools["hello-iam_users_per_path"]; !ok {
		t.Fatalf("the added plugin's tool is not served; tools: %v", s.tools)
	}
	// Called through the client directly: plugin tools need not have
	// an output schema, which s.call insists on for built-in ones.
	ctx, cancel := ctxT()
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "hello-iam_users_per_path", Arguments: map[string]any{}})
	cancel()
	if err != nil || res.IsError || !strings.Contains(resultText(res), "/") {
		t.Errorf("hello-iam_users_per_path: %v %+v", err, res)
	}
	s.close()

	entry := func(name, src, trust string) string {
		p := filepath.Join(t.TempDir(), "plugins.yaml")
		body := "publishers:\n  acme:\n    certificates: [" + acmeCert + "]\n  other:\n    certificates: [" + filepath.Join(dir, "other.crt") + "]\n" +
			"plugins:\n  - name: " + name + "\n    source: " + src + "\n" + trust + "    grants: [list_users, list_groups_for_user]\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Signed by acme, but the entry trusts only other: refused, naming
	// the certificate expected.
	refused(t, "wrong publisher", []string{`plugin "hello-iam"`, "CN=other"}, list(entry("hello-iam", v1, "    publisher: other\n"), cache)...)
	// No signature at all where one is required.
	refused(t, "unsigned", []string{`plugin "hello-iam"`, "not signed"}, list(entry("hello-iam", unsigned, "    publisher: acme\n"), cache)...)
	// A source pinned to a digest that is not this module's manifest.
	other := v1[:len(v1)-64] + strings.Repeat("0", 64)
	refused(t, "digest mismatch", []string{`plugin "hello-iam"`}, list(entry("hello-iam", other, "    publisher: acme\n"), cache)...)
	// An entry's sha256 that is not the pinned module's.
	refused(t, "sha256 mismatch", []string{`plugin "hello-iam"`, "entry's sha256"}, list(entry("hello-iam", v1, "    publisher: acme\n    sha256: "+strings.Repeat("0", 64)+"\n"), cache)...)

	// The registry down: the warm cache still loads, verified from the
	// cached signature; a cold cache is a clear error.
	reg.Close()
	cli(t, list(file, cache)...)
	refused(t, "cold cache, registry down", []string{`plugin "hello-iam"`, host}, list(file, filepath.Join(dir, "cold"))...)

	// A module changed in the cache is refused, not loaded.
	sum := sha256File(t, helloWasm)
	var tampered int
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && sha256File(t, p) == sum {
			b, _ := os.ReadFile(toolsWasm)
			if os.WriteFile(p, b, 0o600) == nil {
				tampered++
			}
		}
		return nil
	})
	if tampered == 0 {
		t.Fatal("no cached module to tamper with")
	}
	refused(t, "tampered cache", []string{`plugin "hello-iam"`}, list(file, cache)...)
}

// TestRegistryPluginUpdate: a new version that asks for one more
// operation is shown, loudly, as not granted; without --yes nothing is
// written, with it only the source is repinned, the grants kept.
func TestRegistryPluginUpdate(t *testing.T) {
	t.Parallel()
	reg := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	cli(t, "plugins", "keygen", "acme", "--dir", dir)
	key, cert := filepath.Join(dir, "acme.key"), filepath.Join(dir, "acme.crt")
	tag := "oci://" + host + "/acme/tools:1"
	v1 := pinnedRef.FindString(cli(t, "plugins", "publish", helloWasm, tag, "--sign-key", key, "--sign-cert", cert, "--cache-dir", cache))
	file := filepath.Join(dir, "plugins.yaml")
	os.WriteFile(file, []byte("publishers:\n  acme:\n    certificates: [acme.crt]\n"), 0o600)
	cli(t, "plugins", "add", tag, "--plugins", file, "--publisher", "acme", "--name", "p", "--cache-dir", cache, "--yes")
	out := cli(t, "plugins", "update", "p", "--plugins", file, "--cache-dir", cache)
	if !strings.Contains(out, "already current") {
		t.Errorf("update with nothing new:\n%s", out)
	}
	// v2 under the same tag: another module, asking for more (create_user).
	v2 := pinnedRef.FindString(cli(t, "plugins", "publish", toolsWasm, tag, "--sign-key", key, "--sign-cert", cert, "--cache-dir", cache))
	before, _ := os.ReadFile(file)
	stdout, stderr, code := runServer(t, "plugins", "update", "p", "--plugins", file, "--cache-dir", cache)
	if code != 1 || !strings.Contains(stdout, "NEW OPERATIONS") || !strings.Contains(stdout, "create_user (WRITE): NOT GRANTED") || !strings.Contains(stderr, "--yes") {
		t.Errorf("update without --yes: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Errorf("update without --yes wrote the file")
	}
	cli(t, "plugins", "update", "p", "--plugins", file, "--cache-dir", cache, "--yes")
	after, _ := os.ReadFile(file)
	if !strings.Contains(string(after), v2) || strings.Contains(string(after), v1) {
		t.Errorf("after update --yes:\n%s", after)
	}
	if strings.Contains(string(after), "create_user") {
		t.Errorf("the update granted a new operation:\n%s", after)
	}
}
