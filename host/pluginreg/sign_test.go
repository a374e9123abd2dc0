package pluginreg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	notationreg "github.com/notaryproject/notation-go/registry"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// testRegistry is an in-memory OCI registry on loopback (the real
// go-containerregistry registry, served over real HTTP).
func testRegistry(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(nilLogger())))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return srv, u.Host
}

// pushArtifact pushes a small manifest with one layer of content to
// host/repo with oras-go and returns the pinned reference.
func pushArtifact(t *testing.T, c *Client, host, repo string, content []byte) Ref {
	t.Helper()
	ctx := context.Background()
	ref := Ref{Registry: host, Repository: repo, Tag: "v1"}
	r, err := c.Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	layer := ocispec.Descriptor{MediaType: "application/wasm", Digest: digest.FromBytes(content), Size: int64(len(content))}
	if err := r.Push(ctx, layer, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, r, oras.PackManifestVersion1_1, "application/vnd.iam-mcp.plugin.v1", oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatal(err)
	}
	ref.Digest = desc.Digest.String()
	return ref
}

type publisherKit struct {
	pub      Publisher
	keyPath  string
	certPath string
}

func newPublisher(t *testing.T, name string) publisherKit {
	t.Helper()
	keyPath, certPath, err := GenerateKey(t.TempDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := LoadCertificates(certPath)
	if err != nil {
		t.Fatal(err)
	}
	return publisherKit{Publisher{Name: name, Certificates: certs}, keyPath, certPath}
}

func (p publisherKit) sign(t *testing.T, c *Client, ref Ref) {
	t.Helper()
	key, err := LoadKey(p.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Sign(context.Background(), ref, key, p.pub.Certificates); err != nil {
		t.Fatal(err)
	}
}

func fingerprint(p Publisher) string {
	sum := sha256.Sum256(p.Certificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

func newTestClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignThenVerify(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("\x00asm module one"))
	acme, other := newPublisher(t, "acme"), newPublisher(t, "other")
	acme.sign(t, c, ref)

	got, err := c.Verify(context.Background(), ref, []Publisher{other.pub, acme.pub})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Publisher != "acme" || got.Subject != "CN=acme,O=acme" {
		t.Fatalf("Verified = %+v, want publisher acme, subject CN=acme,O=acme", got)
	}
}

func TestSignNeedsPinnedRefAndMatchingKey(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("module"))
	acme, other := newPublisher(t, "acme"), newPublisher(t, "other")
	key, err := LoadKey(acme.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	unpinned := ref
	unpinned.Digest = ""
	if err := c.Sign(context.Background(), unpinned, key, acme.pub.Certificates); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Fatalf("Sign(unpinned) = %v, want an error saying it must be pinned", err)
	}
	if err := c.Sign(context.Background(), ref, key, other.pub.Certificates); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("Sign(key of acme, cert of other) = %v, want a key/certificate mismatch error", err)
	}
}

func TestVerifyRefusesAnotherPublishersSignature(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("module"))
	acme, evil := newPublisher(t, "acme"), newPublisher(t, "evil")
	evil.sign(t, c, ref)

	_, err := c.Verify(context.Background(), ref, []Publisher{acme.pub})
	if err == nil {
		t.Fatal("Verify accepted a signature by an untrusted certificate")
	}
	for _, want := range []string{"no valid signature by a trusted publisher", "publisher acme", "CN=acme,O=acme", fingerprint(acme.pub), "CN=evil,O=evil", fingerprint(evil.pub)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestVerifyRefusesUnsigned(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("module"))
	acme := newPublisher(t, "acme")
	_, err := c.Verify(context.Background(), ref, []Publisher{acme.pub})
	if err == nil || !strings.Contains(err.Error(), "is not signed; expected a signature by publisher acme") || !strings.Contains(err.Error(), fingerprint(acme.pub)) {
		t.Fatalf("Verify(unsigned) = %v, want 'is not signed; expected a signature by publisher acme' with its fingerprint", err)
	}
}

// signatureOf fetches the one signature envelope attached to ref.
func signatureOf(t *testing.T, c *Client, ref Ref) ([]byte, ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	r, err := c.Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	nr := notationreg.NewRepository(r)
	subject, err := nr.Resolve(ctx, ref.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []ocispec.Descriptor
	if err := nr.ListSignatures(ctx, subject, func(d []ocispec.Descriptor) error { sigs = append(sigs, d...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 {
		t.Fatalf("%d signatures attached, want 1", len(sigs))
	}
	blob, desc, err := nr.FetchSignatureBlob(ctx, sigs[0])
	if err != nil {
		t.Fatal(err)
	}
	return blob, desc
}

// attachSignature pushes an envelope as a signature (referrer) of ref,
// as anyone with push access to the repository could.
func attachSignature(t *testing.T, c *Client, ref Ref, blob []byte) {
	t.Helper()
	ctx := context.Background()
	r, err := c.Repository(ref)
	if err != nil {
		t.Fatal(err)
	}
	nr := notationreg.NewRepository(r)
	subject, err := nr.Resolve(ctx, ref.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := nr.PushSignature(ctx, sigEnvelopeMedia, blob, subject, nil); err != nil {
		t.Fatal(err)
	}
}

// tamper changes one character of a JWS envelope's signature value.
func tamper(t *testing.T, blob []byte) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(blob, &env); err != nil {
		t.Fatal(err)
	}
	sig, _ := env["signature"].(string)
	if len(sig) < 10 {
		t.Fatalf("envelope has no signature value: %s", blob)
	}
	b := []byte(sig)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	env["signature"] = string(b)
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyRefusesTamperedSignature(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	acme := newPublisher(t, "acme")
	signed := pushArtifact(t, c, host, "plugins/signed", []byte("module"))
	acme.sign(t, c, signed)
	blob, _ := signatureOf(t, c, signed)

	// A fresh artifact (same content, other repository) carrying only a
	// tampered copy of acme's genuine signature.
	target := pushArtifact(t, c, host, "plugins/target", []byte("module"))
	attachSignature(t, c, target, tamper(t, blob))
	_, err := c.Verify(context.Background(), target, []Publisher{acme.pub})
	if err == nil || !strings.Contains(err.Error(), "tampered or invalid") {
		t.Fatalf("Verify(tampered) = %v, want a 'tampered or invalid' error", err)
	}
}

func TestSignatureOverAnotherDigestDoesNotVerify(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	acme := newPublisher(t, "acme")
	a := pushArtifact(t, c, host, "plugins/hello", []byte("module A"))
	b := pushArtifact(t, c, host, "plugins/hello", []byte("module B"))
	acme.sign(t, c, b)
	blob, _ := signatureOf(t, c, b)
	attachSignature(t, c, a, blob) // B's genuine signature, replayed onto A

	_, err := c.Verify(context.Background(), a, []Publisher{acme.pub})
	if err == nil || !strings.Contains(err.Error(), "over another artifact ("+b.Digest+")") {
		t.Fatalf("Verify(A with B's signature) = %v, want an error naming the other artifact %s", err, b.Digest)
	}
	if _, err := c.Verify(context.Background(), b, []Publisher{acme.pub}); err != nil {
		t.Fatalf("Verify(B) = %v, want it still valid", err)
	}
}

func TestVerifyOfflineFromCache(t *testing.T) {
	srv, host := testRegistry(t)
	c := newTestClient(t)
	acme, evil := newPublisher(t, "acme"), newPublisher(t, "evil")
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("module"))
	acme.sign(t, c, ref)
	if _, err := c.Verify(context.Background(), ref, []Publisher{acme.pub}); err != nil {
		t.Fatalf("online Verify: %v", err)
	}
	dir := c.signatureDir(ref.Digest)
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 3 {
		t.Fatalf("signature cache %s: %v, %d files, want subject, descriptor and envelope", dir, err, len(files))
	}
	for _, f := range files {
		if info, err := f.Info(); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("cache file %s mode %v (%v), want 0600", f.Name(), info.Mode().Perm(), err)
		}
	}

	srv.Close() // the registry is down from here on
	got, err := c.Verify(context.Background(), ref, []Publisher{acme.pub})
	if err != nil {
		t.Fatalf("offline Verify: %v", err)
	}
	if got.Publisher != "acme" {
		t.Fatalf("offline Verify = %+v, want publisher acme", got)
	}
	// The same trust applies offline: the cached signature is acme's.
	if _, err := c.Verify(context.Background(), ref, []Publisher{evil.pub}); err == nil || !strings.Contains(err.Error(), "from the signature cache") {
		t.Fatalf("offline Verify trusting only evil = %v, want a refusal from the cache", err)
	}
	// An altered cache is refused, not trusted.
	envs, _ := filepath.Glob(filepath.Join(dir, "*"+sigEnvelopeExt))
	if len(envs) != 1 {
		t.Fatalf("cached envelopes: %v", envs)
	}
	blob, err := os.ReadFile(envs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(envs[0], tamper(t, blob), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(context.Background(), ref, []Publisher{acme.pub}); err == nil {
		t.Fatal("offline Verify accepted an altered cached signature")
	}
}

func TestVerifyOfflineWithNothingCached(t *testing.T) {
	srv, host := testRegistry(t)
	c := newTestClient(t)
	acme := newPublisher(t, "acme")
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("module"))
	acme.sign(t, c, ref)
	srv.Close()
	_, err := c.Verify(context.Background(), ref, []Publisher{acme.pub})
	if err == nil || !strings.Contains(err.Error(), "registry is unreachable") || !strings.Contains(err.Error(), "no signature of it is cached") {
		t.Fatalf("Verify(registry down, empty cache) = %v, want 'registry is unreachable … no signature of it is cached'", err)
	}
}

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }
