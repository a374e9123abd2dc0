package pluginreg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
)

// Module is a pulled, verified plugin module in the cache.
type Module struct {
	Ref  Ref
	Path string // the verified module in the cache
	Info Info
}

// plugin is a manifest checked to be an iam-mcp plugin.
type plugin struct {
	raw    []byte
	layer  ocispec.Descriptor
	config ocispec.Descriptor
}

// parseManifest checks raw (whose digest the caller verified) is a plugin
// artifact: an image manifest, our artifact type, one wasm layer.
func parseManifest(ref Ref, raw []byte) (plugin, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return plugin{}, fmt.Errorf("%s: the manifest is not valid JSON: %w", ref, err)
	}
	if m.MediaType != ocispec.MediaTypeImageManifest {
		return plugin{}, fmt.Errorf("%s is not an iam-mcp plugin: manifest media type %q, want %s", ref, shorten(m.MediaType, 80), ocispec.MediaTypeImageManifest)
	}
	if m.ArtifactType != ArtifactType || m.Config.MediaType != ConfigMediaType {
		return plugin{}, fmt.Errorf("%s is not an iam-mcp plugin: artifact type %q, config %q (a plugin has %s, published with `iam-mcp-server plugins publish`)", ref, shorten(m.ArtifactType, 80), shorten(m.Config.MediaType, 80), ArtifactType)
	}
	if len(m.Layers) != 1 || (m.Layers[0].MediaType != WasmMediaType && m.Layers[0].MediaType != wasmAltMedia) {
		return plugin{}, fmt.Errorf("%s is not an iam-mcp plugin: it must have exactly one %s layer", ref, WasmMediaType)
	}
	l, cf := m.Layers[0], m.Config
	if digestHex(l.Digest) == "" || digestHex(cf.Digest) == "" {
		return plugin{}, fmt.Errorf("%s: the manifest's layer and config must have sha256 digests", ref)
	}
	if l.Size <= 0 || l.Size > maxModule || cf.Size <= 0 || cf.Size > maxConfig {
		return plugin{}, fmt.Errorf("%s: the module (%d bytes) or config (%d bytes) is outside the limits (%d, %d)", ref, l.Size, cf.Size, maxModule, maxConfig)
	}
	return plugin{raw: raw, layer: l, config: cf}, nil
}

// fetchManifest fetches ref's manifest (by digest if pinned), bounded,
// and checks its bytes hash to ref.Digest before parsing them.
func fetchManifest(ctx context.Context, repo *remote.Repository, ref Ref) (Ref, plugin, error) {
	desc, rc, err := repo.FetchReference(ctx, ref.reference())
	if err != nil {
		return Ref{}, plugin{}, registryError(ref, "fetch", err)
	}
	defer rc.Close()
	if desc.Size > maxManifest {
		return Ref{}, plugin{}, fmt.Errorf("%s: the manifest is %d bytes, more than %d", ref, desc.Size, maxManifest)
	}
	raw, err := io.ReadAll(io.LimitReader(rc, maxManifest+1))
	if err != nil {
		return Ref{}, plugin{}, registryError(ref, "fetch", err)
	}
	if len(raw) > maxManifest {
		return Ref{}, plugin{}, fmt.Errorf("%s: the manifest is more than %d bytes", ref, maxManifest)
	}
	got := digest.FromBytes(raw).String()
	want := ref.Digest
	if want == "" {
		want = desc.Digest.String()
	}
	if got != want {
		return Ref{}, plugin{}, fmt.Errorf("%s: the registry's manifest has digest %s, not %s: refused", ref, got, want)
	}
	ref.Digest = got
	p, err := parseManifest(ref, raw)
	return ref, p, err
}

// fetchConfig fetches and strictly decodes the config blob.
func fetchConfig(ctx context.Context, repo *remote.Repository, ref Ref, p plugin) ([]byte, Info, error) {
	data, err := content.FetchAll(ctx, repo, p.config) // verifies size and digest
	if err != nil {
		return nil, Info{}, registryError(ref, "fetch the config of", err)
	}
	info, err := parseInfo(data)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", ref, err)
	}
	if info.SHA256 != p.layer.Digest.Encoded() {
		return nil, Info{}, fmt.Errorf("%s: the config names module sha256 %s but the manifest's layer is %s", ref, info.SHA256, p.layer.Digest)
	}
	return data, info, nil
}

// Inspect resolves ref and reads what the plugin says of itself from the
// manifest and config alone: the module is neither pulled nor run.
func (c *Client) Inspect(ctx context.Context, ref Ref) (Ref, Info, error) {
	repo, err := c.Repository(ref)
	if err != nil {
		return Ref{}, Info{}, err
	}
	ref, p, err := fetchManifest(ctx, repo, ref)
	if err != nil {
		return Ref{}, Info{}, err
	}
	_, info, err := fetchConfig(ctx, repo, ref, p)
	if err != nil {
		return Ref{}, Info{}, err
	}
	return ref, info, nil
}

// Pull returns the verified module of the pinned ref, from the cache when
// it holds it (no network), else from the registry into the cache.
func (c *Client) Pull(ctx context.Context, ref Ref) (*Module, error) {
	if !ref.Pinned() {
		return nil, fmt.Errorf("pull %s: %w", ref, errNotPinned)
	}
	m, cacheErr := c.fromCache(ref)
	if cacheErr == nil {
		return m, nil
	}
	if !errors.Is(cacheErr, os.ErrNotExist) {
		c.log.Warn("plugin cache entry refused; fetching again", "ref", ref.String(), "error", cacheErr)
	}
	m, err := c.fetch(ctx, ref)
	if err != nil {
		if errors.Is(cacheErr, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (the module is not in the cache %s)", err, c.cacheDir)
		}
		return nil, fmt.Errorf("%w (and the cached copy was refused: %v)", err, cacheErr)
	}
	return m, nil
}

// fromCache verifies a cached entry: manifest bytes hash to ref.Digest,
// config and module hash to the manifest's descriptors.
func (c *Client) fromCache(ref Ref) (*Module, error) {
	dir := c.manifestDir(ref.Digest)
	raw, err := readfile.Regular(filepath.Join(dir, cacheManifest), "cached manifest", maxManifest)
	if err != nil {
		return nil, err
	}
	if got := digest.FromBytes(raw).String(); got != ref.Digest {
		return nil, fmt.Errorf("cached manifest of %s hashes to %s: the cache was altered", ref, got)
	}
	p, err := parseManifest(ref, raw)
	if err != nil {
		return nil, err
	}
	cfg, err := readfile.Regular(filepath.Join(dir, cacheConfig), "cached config", maxConfig)
	if err != nil {
		return nil, err
	}
	if digest.FromBytes(cfg) != p.config.Digest {
		return nil, fmt.Errorf("cached config of %s does not match the manifest: the cache was altered", ref)
	}
	info, err := parseInfo(cfg)
	if err != nil {
		return nil, fmt.Errorf("cached config of %s: %w", ref, err)
	}
	path := filepath.Join(dir, cacheModule)
	sum, size, err := hashFile(path, maxModule)
	if err != nil {
		return nil, err
	}
	if sum != p.layer.Digest.Encoded() || size != p.layer.Size || info.SHA256 != sum {
		return nil, fmt.Errorf("cached module of %s has sha256 %s, the manifest says %s: the cache was altered", ref, sum, p.layer.Digest.Encoded())
	}
	return &Module{Ref: ref, Path: path, Info: info}, nil
}

// fetch pulls ref from the registry into the cache, verifying each part.
// The manifest is written last: an entry without it is not in the cache.
func (c *Client) fetch(ctx context.Context, ref Ref) (*Module, error) {
	repo, err := c.Repository(ref)
	if err != nil {
		return nil, err
	}
	ref, p, err := fetchManifest(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	cfg, info, err := fetchConfig(ctx, repo, ref, p)
	if err != nil {
		return nil, err
	}
	dir := c.manifestDir(ref.Digest)
	rc, err := repo.Fetch(ctx, p.layer)
	if err != nil {
		return nil, registryError(ref, "fetch the module of", err)
	}
	path := filepath.Join(dir, cacheModule)
	err = writeCacheFile(path, rc, p.layer.Size, p.layer.Digest.Encoded())
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if err := writeCacheFile(filepath.Join(dir, cacheConfig), bytes.NewReader(cfg), int64(len(cfg)), sha256Hex(cfg)); err != nil {
		return nil, err
	}
	if err := writeCacheFile(filepath.Join(dir, cacheManifest), bytes.NewReader(p.raw), int64(len(p.raw)), sha256Hex(p.raw)); err != nil {
		return nil, err
	}
	c.log.Info("plugin pulled", "ref", ref.String(), "module_sha256", info.SHA256)
	return &Module{Ref: ref, Path: path, Info: info}, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
