package pluginreg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/notaryproject/notation-go/registry"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
)

// The signature cache keeps, per plugin manifest, the signatures that
// verified online, so that a registry that is down later still verifies
// the plugin: from the same envelopes, by the same verifier, against the
// same trust. Layout under the manifest's cache directory:
//
//	signatures/subject.json          the plugin manifest's descriptor
//	signatures/<sig-hex>.json        {"manifest": desc, "envelope": desc}
//	signatures/<sig-hex>.sig         the envelope bytes (JWS)
//
// Files are 0600 in 0700 directories, written to a temporary name and
// renamed so a crash never leaves half a file. What is read back is
// treated as outside input: sizes capped, JSON strict, digests checked.
const (
	maxEnvelope       = 1 << 20 // a JWS envelope with a certificate chain is a few KiB
	maxSigDescriptor  = 64 << 10
	maxCachedSigs     = 16
	subjectFile       = "subject.json"
	sigDescriptorExt  = ".json"
	sigEnvelopeExt    = ".sig"
	sigEnvelopeMedia  = "application/jose+json"
	sigCacheDirPerm   = 0o700
	sigCacheFilePerm  = 0o600
	maxCacheDirListed = 256
)

// cachedSig is one signature file's descriptor pair.
type cachedSig struct {
	Manifest ocispec.Descriptor `json:"manifest"`
	Envelope ocispec.Descriptor `json:"envelope"`
}

// storeSignature writes one verified signature and the subject descriptor.
func storeSignature(dir string, subject ocispec.Descriptor, sig cachedSig, envelope []byte) error {
	if err := sig.Manifest.Digest.Validate(); err != nil {
		return fmt.Errorf("signature manifest digest: %w", err)
	}
	if err := os.MkdirAll(dir, sigCacheDirPerm); err != nil {
		return fmt.Errorf("create signature cache: %w", err)
	}
	subj, err := json.Marshal(subject)
	if err != nil {
		return err
	}
	desc, err := json.Marshal(sig)
	if err != nil {
		return err
	}
	name := sig.Manifest.Digest.Encoded()
	// Envelope first, descriptor second: a reader lists descriptors, so it
	// never sees a descriptor whose envelope is missing.
	for _, f := range []struct {
		name string
		data []byte
	}{{name + sigEnvelopeExt, envelope}, {name + sigDescriptorExt, desc}, {subjectFile, subj}} {
		if err := writeAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write signature cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(sigCacheFilePerm); err != nil {
		tmp.Close()
		return fmt.Errorf("write signature cache: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write signature cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write signature cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write signature cache: %w", err)
	}
	return nil
}

// cacheRepo is a notation registry.Repository over the signature cache:
// read-only, for the one subject it was written for.
type cacheRepo struct {
	dir     string
	subject ocispec.Descriptor
	sigs    []cachedSig
}

var _ registry.Repository = (*cacheRepo)(nil)

// openSignatureCache reads the cache for the manifest with digest dgst.
// It returns (nil, nil) when nothing is cached.
func openSignatureCache(dir string, dgst string) (*cacheRepo, error) {
	subjData, err := readfile.Regular(filepath.Join(dir, subjectFile), "cached signature descriptor", maxSigDescriptor)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var subject ocispec.Descriptor
	if err := decodeStrictDescriptor(subjData, &subject); err != nil {
		return nil, fmt.Errorf("signature cache %s: %w", subjectFile, err)
	}
	if subject.Digest.String() != dgst {
		return nil, fmt.Errorf("signature cache %s names manifest %s, not %s: remove %s and verify online", subjectFile, shorten(subject.Digest.String(), 80), dgst, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read signature cache: %w", err)
	}
	if len(entries) > maxCacheDirListed {
		return nil, fmt.Errorf("signature cache %s has %d entries, more than a cache ever writes: remove it and verify online", dir, len(entries))
	}
	r := &cacheRepo{dir: dir, subject: subject}
	for _, e := range entries {
		n := e.Name()
		if n == subjectFile || !strings.HasSuffix(n, sigDescriptorExt) {
			continue
		}
		data, err := readfile.Regular(filepath.Join(dir, n), "cached signature descriptor", maxSigDescriptor)
		if err != nil {
			return nil, err
		}
		sig, err := parseCachedSig(data)
		if err != nil {
			return nil, fmt.Errorf("signature cache %s: %w", n, err)
		}
		if sig.Manifest.Digest.Encoded()+sigDescriptorExt != n {
			return nil, fmt.Errorf("signature cache %s describes signature %s: the file name and content disagree", n, shorten(sig.Manifest.Digest.String(), 80))
		}
		if len(r.sigs) == maxCachedSigs {
			break
		}
		r.sigs = append(r.sigs, sig)
	}
	if len(r.sigs) == 0 {
		return nil, nil
	}
	return r, nil
}

// parseCachedSig decodes one signature descriptor file strictly.
func parseCachedSig(data []byte) (cachedSig, error) {
	var sig cachedSig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sig); err != nil {
		return cachedSig{}, fmt.Errorf("not a signature descriptor: %w", err)
	}
	if dec.More() {
		return cachedSig{}, errors.New("trailing data after the signature descriptor")
	}
	for what, d := range map[string]ocispec.Descriptor{"manifest": sig.Manifest, "envelope": sig.Envelope} {
		if err := d.Digest.Validate(); err != nil {
			return cachedSig{}, fmt.Errorf("%s digest: %w", what, err)
		}
		if d.Size <= 0 || d.Size > maxEnvelope {
			return cachedSig{}, fmt.Errorf("%s size %d is outside 1..%d", what, d.Size, maxEnvelope)
		}
	}
	if sig.Envelope.MediaType != sigEnvelopeMedia {
		return cachedSig{}, fmt.Errorf("envelope media type %q is not %s", shorten(sig.Envelope.MediaType, 60), sigEnvelopeMedia)
	}
	return sig, nil
}

func decodeStrictDescriptor(data []byte, d *ocispec.Descriptor) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return fmt.Errorf("not a descriptor: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data after the descriptor")
	}
	return d.Digest.Validate()
}

// Resolve answers only the cached manifest's digest: the cache pins it.
func (r *cacheRepo) Resolve(_ context.Context, reference string) (ocispec.Descriptor, error) {
	if reference != r.subject.Digest.String() {
		return ocispec.Descriptor{}, fmt.Errorf("the signature cache holds %s, not %s", r.subject.Digest, shorten(reference, 80))
	}
	return r.subject, nil
}

func (r *cacheRepo) ListSignatures(_ context.Context, desc ocispec.Descriptor, fn func([]ocispec.Descriptor) error) error {
	if desc.Digest != r.subject.Digest {
		return fmt.Errorf("the signature cache holds signatures of %s, not %s", r.subject.Digest, desc.Digest)
	}
	var ds []ocispec.Descriptor
	for _, s := range r.sigs {
		ds = append(ds, s.Manifest)
	}
	return fn(ds)
}

func (r *cacheRepo) FetchSignatureBlob(_ context.Context, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	for _, s := range r.sigs {
		if s.Manifest.Digest != desc.Digest {
			continue
		}
		blob, err := readfile.Regular(filepath.Join(r.dir, s.Manifest.Digest.Encoded()+sigEnvelopeExt), "cached signature", maxEnvelope)
		if err != nil {
			return nil, ocispec.Descriptor{}, fmt.Errorf("cached signature envelope: %w", err)
		}
		if int64(len(blob)) != s.Envelope.Size || digest.FromBytes(blob) != s.Envelope.Digest {
			return nil, ocispec.Descriptor{}, fmt.Errorf("cached signature envelope %s does not match its recorded digest: the cache was altered; remove %s and verify online", s.Manifest.Digest, r.dir)
		}
		return blob, s.Envelope, nil
	}
	return nil, ocispec.Descriptor{}, fmt.Errorf("signature %s is not in the cache", desc.Digest)
}

func (r *cacheRepo) PushSignature(context.Context, string, []byte, ocispec.Descriptor, map[string]string) (ocispec.Descriptor, ocispec.Descriptor, error) {
	return ocispec.Descriptor{}, ocispec.Descriptor{}, errors.New("the signature cache is read-only: sign against the registry")
}
