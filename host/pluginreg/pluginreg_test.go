package pluginreg

import (
	"context"
	"encoding/base64"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// startRegistry runs go-containerregistry's in-memory registry on
// loopback (plain HTTP, as for any loopback registry), optionally behind
// basic auth.
func startRegistry(t *testing.T, user, pass string) (*httptest.Server, string) {
	t.Helper()
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if user != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return srv, u.Host
}

func newClient(t *testing.T, dockerConfig string) *Client {
	t.Helper()
	if dockerConfig == "" {
		dockerConfig = filepath.Join(t.TempDir(), "config.json") // absent: no credentials, not the user's
	}
	c, err := New(Options{CacheDir: filepath.Join(t.TempDir(), "cache"), DockerConfig: dockerConfig})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testModule is a real, minimal Wasm module (magic + version): Publish and
// Pull move bytes and never run them.
func testModule(t *testing.T, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plugin.wasm")
	if err := os.WriteFile(p, append([]byte("\x00asm\x01\x00\x00\x00"), extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var testInfo = Info{
	Name: "audit", Version: "1.2.0", Description: "audits things",
	Tools: []ToolInfo{
		{Name: "audit_users", Description: "lists users", Operations: []string{"iam:ListUsers", "iam:GetUser"}},
		{Name: "audit_roles", Description: "lists roles", Operations: []string{"iam:ListRoles", "iam:ListUsers"}},
	},
}

func mustRef(t *testing.T, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPublishResolveInspectPull(t *testing.T) {
	ctx := context.Background()
	srv, host := startRegistry(t, "", "")
	c := newClient(t, "")
	ref := mustRef(t, "oci://"+host+"/acme/audit:1.2.0")
	pinned, err := c.Publish(ctx, testModule(t, ""), ref, testInfo)
	if err != nil {
		t.Fatal(err)
	}
	if !pinned.Pinned() || pinned.Tag != "1.2.0" {
		t.Fatalf("Publish = %v, want the tag pinned", pinned)
	}
	resolved, err := c.Resolve(ctx, ref)
	if err != nil || resolved != pinned {
		t.Fatalf("Resolve = %v, %v; want %v", resolved, err, pinned)
	}
	iref, info, err := c.Inspect(ctx, ref)
	if err != nil || iref != pinned {
		t.Fatalf("Inspect = %v, %v", iref, err)
	}
	if info.Name != "audit" || info.Version != "1.2.0" || len(info.Tools) != 2 || len(info.SHA256) != 64 {
		t.Fatalf("Inspect info = %+v", info)
	}
	if got := strings.Join(info.Asked(), ","); got != "iam:GetUser,iam:ListRoles,iam:ListUsers" {
		t.Fatalf("Asked = %s", got)
	}
	_, raw, err := repoFetchManifest(ctx, c, pinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"artifactType":"application/vnd.iammcp.plugin.v1"`, `"io.iammcp.plugin.operations":"iam:GetUser,iam:ListRoles,iam:ListUsers"`, `"io.iammcp.plugin.tools":"audit_users,audit_roles"`, `"org.opencontainers.image.title":"audit"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("manifest lacks %s:\n%s", want, raw)
		}
	}

	if _, err := c.Pull(ctx, ref); err == nil || !strings.Contains(err.Error(), "no @sha256: digest") {
		t.Fatalf("Pull(unpinned) = %v", err)
	}
	m, err := c.Pull(ctx, pinned)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(m.Path)
	if err != nil || sha256Hex(data) != info.SHA256 || m.Info.Name != "audit" {
		t.Fatalf("pulled %s: %v, sha %s want %s", m.Path, err, sha256Hex(data), info.SHA256)
	}
	if st, _ := os.Stat(m.Path); st.Mode().Perm() != 0o600 {
		t.Errorf("module mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(c.cacheDir); st.Mode().Perm() != 0o700 {
		t.Errorf("cache mode %v, want 0700", st.Mode().Perm())
	}

	// Warm cache, registry gone: still pulls, with no network.
	srv.Close()
	if m2, err := c.Pull(ctx, pinned); err != nil || m2.Path != m.Path {
		t.Fatalf("warm Pull with the registry down = %v, %v", m2, err)
	}
	// Tampered cache with the registry down: refused, clearly.
	if err := os.WriteFile(m.Path, append(data, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(ctx, pinned); err == nil || !strings.Contains(err.Error(), "cache was altered") {
		t.Fatalf("Pull of a tampered cache = %v, want it refused", err)
	}
	// Cold cache, registry down: a clear error naming the registry.
	cold := newClient(t, "")
	_, err = cold.Pull(ctx, pinned)
	if err == nil || !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), "not in the cache") {
		t.Fatalf("cold Pull with the registry down = %v", err)
	}
}

// repoFetchManifest fetches the raw manifest for assertions.
func repoFetchManifest(ctx context.Context, c *Client, ref Ref) (Ref, []byte, error) {
	repo, err := c.Repository(ref)
	if err != nil {
		return Ref{}, nil, err
	}
	r, p, err := fetchManifest(ctx, repo, ref)
	return r, p.raw, err
}

func TestTamperedCacheIsFetchedAgain(t *testing.T) {
	ctx := context.Background()
	_, host := startRegistry(t, "", "")
	c := newClient(t, "")
	pinned, err := c.Publish(ctx, testModule(t, ""), mustRef(t, "oci://"+host+"/acme/audit:1"), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Pull(ctx, pinned)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.Path, []byte("\x00asm\x01\x00\x00\x00evil"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err = c.Pull(ctx, pinned)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(m.Path); sha256Hex(data) != m.Info.SHA256 {
		t.Fatal("the tampered module was not replaced by the registry's")
	}
}

func TestDigestMismatchRefused(t *testing.T) {
	ctx := context.Background()
	_, host := startRegistry(t, "", "")
	c := newClient(t, "")
	a, err := c.Publish(ctx, testModule(t, "a"), mustRef(t, "oci://"+host+"/acme/audit:a"), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Publish(ctx, testModule(t, "b"), mustRef(t, "oci://"+host+"/acme/audit:b"), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	// Tag a, pinned to b's digest: the pin wins, and resolving the tag
	// shows the mismatch.
	wrong := a
	wrong.Digest = b.Digest
	m, err := c.Pull(ctx, wrong)
	if err != nil || m.Ref.Digest != b.Digest {
		t.Fatalf("Pull pins by digest: %v, %v", m, err)
	}
	unknown := a
	unknown.Digest = "sha256:" + strings.Repeat("0", 64)
	if _, err := c.Pull(ctx, unknown); err == nil {
		t.Fatal("Pull of a digest the registry does not have succeeded")
	}
	// A cached manifest under another digest's directory is refused.
	if err := os.MkdirAll(c.manifestDir(unknown.Digest), 0o700); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(c.manifestDir(b.Digest), cacheManifest))
	if err := os.WriteFile(filepath.Join(c.manifestDir(unknown.Digest), cacheManifest), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.fromCache(unknown); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("fromCache with another manifest = %v", err)
	}
}

func TestForeignArtifactRefused(t *testing.T) {
	ctx := context.Background()
	_, host := startRegistry(t, "", "")
	c := newClient(t, "")
	ref := mustRef(t, "oci://"+host+"/acme/image:1")
	repo, _ := c.Repository(ref)
	body := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`
	if err := pushBlob(ctx, repo, emptyDesc, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := repo.PushReference(ctx, descOf("application/vnd.oci.image.manifest.v1+json", []byte(body)), strings.NewReader(body), "1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Inspect(ctx, ref); err == nil || !strings.Contains(err.Error(), "not an iam-mcp plugin") {
		t.Fatalf("Inspect of a foreign artifact = %v", err)
	}
}

func TestRepositoryPlainHTTPOnlyForLoopback(t *testing.T) {
	c := newClient(t, "")
	for reg, plain := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:5000": true, "127.1.2.3": true, "[::1]:5000": true,
		"ghcr.io": false, "registry.example.com:443": false, "10.0.0.1:5000": false, "localhost.example.com": false,
	} {
		repo, err := c.Repository(Ref{Registry: reg, Repository: "a/b", Tag: "1"})
		if err != nil {
			t.Fatal(err)
		}
		if repo.PlainHTTP != plain {
			t.Errorf("%s: PlainHTTP = %v, want %v", reg, repo.PlainHTTP, plain)
		}
	}
}

func TestCredentialsFromDockerConfig(t *testing.T) {
	ctx := context.Background()
	_, host := startRegistry(t, "alice", "s3cret")
	cfg := filepath.Join(t.TempDir(), "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	if err := os.WriteFile(cfg, []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := mustRef(t, "oci://"+host+"/acme/audit:1")
	if _, err := newClient(t, cfg).Publish(ctx, testModule(t, ""), ref, testInfo); err != nil {
		t.Fatalf("Publish with credentials: %v", err)
	}
	_, err := newClient(t, "").Resolve(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Resolve without credentials = %v, want a 401", err)
	}
	wrong := filepath.Join(t.TempDir(), "config.json")
	bad := base64.StdEncoding.EncodeToString([]byte("alice:wrong"))
	if err := os.WriteFile(wrong, []byte(`{"auths":{"`+host+`":{"auth":"`+bad+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err2 := newClient(t, wrong).Resolve(ctx, ref)
	if err2 == nil || !strings.Contains(err2.Error(), "401") {
		t.Fatalf("Resolve with a wrong password = %v, want a 401", err2)
	}
	for _, e := range []error{err, err2} {
		if strings.Contains(e.Error(), "s3cret") || strings.Contains(e.Error(), "wrong") || strings.Contains(e.Error(), auth) {
			t.Fatalf("the error shows a secret: %v", e)
		}
	}
}

func TestNewRefusesSharedCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{CacheDir: dir}); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("New(shared cache) = %v", err)
	}
}

// A registry that answers another manifest for the pinned digest (a
// compromised or confused registry) is refused before the manifest is used.
func TestRegistryAnsweringAnotherManifestRefused(t *testing.T) {
	ctx := context.Background()
	var swap atomic.Pointer[[2]string] // from, to: set once both are published
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := swap.Load(); s != nil && strings.HasSuffix(r.URL.Path, "/manifests/"+s[0]) {
			r.URL.Path = strings.TrimSuffix(r.URL.Path, s[0]) + s[1]
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c := newClient(t, "")
	a, err := c.Publish(ctx, testModule(t, "a"), mustRef(t, "oci://"+u.Host+"/acme/audit:a"), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Publish(ctx, testModule(t, "b"), mustRef(t, "oci://"+u.Host+"/acme/audit:b"), testInfo)
	if err != nil {
		t.Fatal(err)
	}
	swap.Store(&[2]string{a.Digest, b.Digest})
	if _, err := c.Pull(ctx, a); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("Pull with the registry answering another manifest = %v, want it refused", err)
	} else {
		t.Log(err)
	}
	if _, err := os.Stat(c.manifestDir(a.Digest)); err == nil {
		if _, err := os.Stat(filepath.Join(c.manifestDir(a.Digest), cacheManifest)); err == nil {
			t.Fatal("the refused manifest was cached")
		}
	}
}

// emptyDesc is the OCI empty config ("{}").
var emptyDesc = content.NewDescriptorFromBytes(ocispec.MediaTypeEmptyJSON, []byte("{}"))

func descOf(mediaType string, b []byte) ocispec.Descriptor {
	return content.NewDescriptorFromBytes(mediaType, b)
}
