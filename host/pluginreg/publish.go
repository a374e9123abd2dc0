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
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
)

// The artifact format of a published plugin: an OCI image manifest (v1.1)
// with
//
//	artifactType  application/vnd.iammcp.plugin.v1
//	config        application/vnd.iammcp.plugin.config.v1+json: Info as JSON
//	              {"name","version","description","tools":[{"name","description","operations"}],"sha256"}
//	layers        exactly one, application/vnd.iammcp.plugin.wasm.v1 (or application/wasm): the module
//	annotations   org.opencontainers.image.title (name), org.opencontainers.image.version,
//	              org.opencontainers.image.description, io.iammcp.plugin.tools (comma list),
//	              io.iammcp.plugin.operations (comma list of the operations asked for)
//
// The config is what Inspect trusts (strictly decoded); the annotations
// are for registry UIs and `oras manifest fetch` readers.
const (
	ArtifactType    = "application/vnd.iammcp.plugin.v1"
	ConfigMediaType = "application/vnd.iammcp.plugin.config.v1+json"
	WasmMediaType   = "application/vnd.iammcp.plugin.wasm.v1"
	wasmAltMedia    = "application/wasm"

	annTools      = "io.iammcp.plugin.tools"
	annOperations = "io.iammcp.plugin.operations"

	maxModule   = 64 << 20 // a plugin module; the runtime's own cap is below this
	maxManifest = 4 << 20
	maxConfig   = 1 << 20
)

// Info is what a plugin says of itself (its describe), as published.
type Info struct {
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	Description string     `json:"description"`
	Tools       []ToolInfo `json:"tools"`
	SHA256      string     `json:"sha256"` // the module's sha256 (hex): the wasm layer's digest
}

// ToolInfo is one tool and the operations it asks for.
type ToolInfo struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Operations  []string `json:"operations"`
}

// Asked is every operation any tool asks for, sorted, unique.
func (i Info) Asked() []string {
	var ops []string
	for _, t := range i.Tools {
		ops = append(ops, t.Operations...)
	}
	slices.Sort(ops)
	return slices.Compact(ops)
}

// parseInfo decodes a config blob strictly: exact keys, unknown refused,
// one JSON value, a well-formed module hash.
func parseInfo(data []byte) (Info, error) {
	if len(data) > maxConfig {
		return Info{}, fmt.Errorf("plugin config is %d bytes, more than %d", len(data), maxConfig)
	}
	var info Info
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&info); err != nil {
		return Info{}, fmt.Errorf("plugin config is not valid: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Info{}, errors.New("plugin config has trailing data after its JSON object")
	}
	if info.Name == "" {
		return Info{}, errors.New("plugin config has no name")
	}
	if len(info.SHA256) != 64 || strings.Trim(info.SHA256, "0123456789abcdef") != "" {
		return Info{}, errors.New("plugin config's sha256 is not 64 lower-case hex digits")
	}
	for _, t := range info.Tools {
		if t.Name == "" {
			return Info{}, errors.New("plugin config names a tool without a name")
		}
	}
	return info, nil
}

// Publish pushes the module at wasmPath as ref (which must have a tag)
// with info as its config and annotations, and returns ref pinned to the
// pushed manifest's digest.
func (c *Client) Publish(ctx context.Context, wasmPath string, ref Ref, info Info) (Ref, error) {
	if ref.Tag == "" {
		return Ref{}, fmt.Errorf("publish %s: name a tag to publish under (oci://REGISTRY/REPO:TAG)", ref)
	}
	if ref.Digest != "" {
		return Ref{}, fmt.Errorf("publish %s: leave out the @sha256: digest; the registry computes it", ref)
	}
	module, err := readModule(wasmPath)
	if err != nil {
		return Ref{}, err
	}
	sum := sha256.Sum256(module)
	if info.SHA256 == "" {
		info.SHA256 = hex.EncodeToString(sum[:])
	} else if info.SHA256 != hex.EncodeToString(sum[:]) {
		return Ref{}, fmt.Errorf("publish %s: the info describes module sha256 %s but %s has %x", ref, info.SHA256, wasmPath, sum)
	}
	cfg, err := json.Marshal(info)
	if err != nil {
		return Ref{}, err
	}
	if _, err := parseInfo(cfg); err != nil {
		return Ref{}, fmt.Errorf("publish %s: %w", ref, err)
	}
	repo, err := c.Repository(ref)
	if err != nil {
		return Ref{}, err
	}
	layer := content.NewDescriptorFromBytes(WasmMediaType, module)
	layer.Annotations = map[string]string{ocispec.AnnotationTitle: info.Name + ".wasm"}
	config := content.NewDescriptorFromBytes(ConfigMediaType, cfg)
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{layer, module}, {config, cfg}} {
		if err := pushBlob(ctx, repo, b.d, b.data); err != nil {
			return Ref{}, registryError(ref, "push to", err)
		}
	}
	var tools []string
	for _, t := range info.Tools {
		tools = append(tools, t.Name)
	}
	manifest, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, ArtifactType, oras.PackManifestOptions{
		Layers:           []ocispec.Descriptor{layer},
		ConfigDescriptor: &config,
		ManifestAnnotations: map[string]string{
			ocispec.AnnotationTitle:       info.Name,
			ocispec.AnnotationVersion:     info.Version,
			ocispec.AnnotationDescription: info.Description,
			annTools:                      strings.Join(tools, ","),
			annOperations:                 strings.Join(info.Asked(), ","),
		},
	})
	if err != nil {
		return Ref{}, registryError(ref, "push manifest to", err)
	}
	if err := repo.Tag(ctx, manifest, ref.Tag); err != nil {
		return Ref{}, registryError(ref, "tag", err)
	}
	ref.Digest = manifest.Digest.String()
	c.log.Info("plugin published", "ref", ref.String(), "module_sha256", info.SHA256)
	return ref, nil
}

// blobPusher is what Publish needs of a repository.
type blobPusher interface {
	Exists(ctx context.Context, d ocispec.Descriptor) (bool, error)
	Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error
}

// pushBlob pushes a blob unless the registry already has it.
func pushBlob(ctx context.Context, repo blobPusher, d ocispec.Descriptor, data []byte) error {
	ok, err := repo.Exists(ctx, d)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	return repo.Push(ctx, d, bytes.NewReader(data))
}

// readModule reads a regular file of at most maxModule bytes.
func readModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read module %s: not a regular file", path)
	}
	if st.Size() > maxModule {
		return nil, fmt.Errorf("module %s is %d bytes, more than the %d a plugin may be", path, st.Size(), maxModule)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxModule+1))
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	if len(data) > maxModule {
		return nil, fmt.Errorf("module %s grew past %d bytes while being read", path, maxModule)
	}
	return data, nil
}

// digestHex is the hex of a sha256 digest, or "" for any other algorithm.
func digestHex(d digest.Digest) string {
	if d.Algorithm() != digest.SHA256 || d.Validate() != nil {
		return ""
	}
	return d.Encoded()
}
