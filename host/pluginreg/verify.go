package pluginreg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// maxSignatureAttempts bounds how many signatures of one manifest are
// checked: anyone who can push to the repository can attach signatures,
// and each costs a fetch and a verification.
const maxSignatureAttempts = 10

// Verify checks that the plugin manifest ref pins carries a valid Notary
// Project signature by one of the trusted publishers, and says which.
//
// Online, the signatures are the registry's referrers of ref.Digest; the
// one that verifies is kept in the cache. When the registry cannot be
// reached, the cached signatures are verified instead, by the same
// verifier against the same trust: a plugin verified once stays
// verifiable offline, and nothing unverified ever enters the cache.
func (c *Client) Verify(ctx context.Context, ref Ref, trusted []Publisher) (*Verified, error) {
	if !ref.Pinned() {
		return nil, fmt.Errorf("verify %s: the reference must be pinned to a digest (…@sha256:…)", ref)
	}
	doc, store, err := trustFor(ref.Registry+"/"+ref.Repository, trusted)
	if err != nil {
		return nil, err
	}
	// No plugin manager: a signature that needs a notation plugin to
	// verify is refused rather than executing a binary from the machine.
	v, err := verifier.NewWithOptions(doc, store, nil, verifier.VerifierOptions{})
	if err != nil {
		return nil, fmt.Errorf("verify %s: trust policy: %w", ref, err)
	}
	dir := c.signatureDir(ref.Digest)
	remote, err := c.Repository(ref)
	if err != nil {
		return nil, err
	}
	online := &recordingRepo{Repository: registry.NewRepository(remote)}
	res, sig, err := verifyWith(ctx, v, online, ref, trusted)
	if err == nil {
		if serr := storeSignature(dir, sig.subject, sig.cachedSig, sig.blob); serr != nil {
			// Verified is verified; only a later offline start loses.
			c.log.Warn("could not cache the verified signature; offline verification will not be possible", "ref", ref.String(), "err", serr)
		}
		return res, nil
	}
	if !unreachable(online.resolveErr) && !unreachable(online.listErr) {
		return nil, err
	}
	cause := online.resolveErr
	if cause == nil {
		cause = online.listErr
	}
	cached, cerr := openSignatureCache(dir, ref.Digest)
	if cerr != nil {
		return nil, fmt.Errorf("verify %s: the registry is unreachable (%v) and the signature cache cannot be read: %w", ref, shortErr(cause), cerr)
	}
	if cached == nil {
		return nil, fmt.Errorf("verify %s: the registry is unreachable (%v) and no signature of it is cached (a plugin is verifiable offline only after one online verification); retry when %s is reachable", ref, shortErr(cause), ref.Registry)
	}
	res, _, err = verifyWith(ctx, v, &recordingRepo{Repository: cached}, ref, trusted)
	if err != nil {
		return nil, fmt.Errorf("verify %s from the signature cache (the registry is unreachable): %w", ref, err)
	}
	c.log.Info("plugin signature verified from the cache; the registry is unreachable", "ref", ref.String(), "publisher", res.Publisher, "cause", shortErr(cause))
	return res, nil
}

// verifiedSig is what the cache keeps of a signature that verified.
type verifiedSig struct {
	cachedSig
	subject ocispec.Descriptor
	blob    []byte
}

// verifyWith runs the Notary Project verification over repo and turns
// its outcome into Verified or an error naming what was expected and
// what was found.
func verifyWith(ctx context.Context, v notation.Verifier, repo *recordingRepo, ref Ref, trusted []Publisher) (*Verified, verifiedSig, error) {
	subject, outcomes, err := notation.Verify(ctx, v, repo, notation.VerifyOptions{
		ArtifactReference:    artifactReference(ref),
		MaxSignatureAttempts: maxSignatureAttempts,
	})
	if err == nil {
		if len(outcomes) != 1 || outcomes[0].EnvelopeContent == nil || len(outcomes[0].EnvelopeContent.SignerInfo.CertificateChain) == 0 {
			return nil, verifiedSig{}, fmt.Errorf("verify %s: the verifier reported success without a signer", ref)
		}
		chain := outcomes[0].EnvelopeContent.SignerInfo.CertificateChain
		name, ok := matchPublisher(chain, trusted)
		if !ok {
			return nil, verifiedSig{}, fmt.Errorf("verify %s: signed by %s, which no trusted publisher's certificate anchors", ref, describeCert(chain[0]))
		}
		var vs verifiedSig
		for _, f := range repo.fetched {
			if string(f.blob) == string(outcomes[0].RawSignature) {
				vs = verifiedSig{cachedSig: cachedSig{Manifest: f.manifest, Envelope: f.envelope}, subject: subject, blob: f.blob}
			}
		}
		return &Verified{Publisher: name, Subject: chain[0].Subject.String()}, vs, nil
	}
	if repo.resolveErr != nil {
		return nil, verifiedSig{}, fmt.Errorf("verify %s: cannot read the plugin manifest: %v", ref, shortErr(repo.resolveErr))
	}
	if repo.listErr != nil {
		return nil, verifiedSig{}, fmt.Errorf("verify %s: cannot list its signatures: %v", ref, shortErr(repo.listErr))
	}
	expected := describeTrusted(trusted)
	if len(repo.fetched) == 0 {
		return nil, verifiedSig{}, fmt.Errorf("%s is not signed; expected %s (sign it with `plugins sign`)", ref, expected)
	}
	var found []string
	for _, f := range repo.fetched {
		found = append(found, describeSignature(f, ref.Digest))
	}
	return nil, verifiedSig{}, fmt.Errorf("%s has no valid signature by a trusted publisher; expected %s; found %s (verifier: %v)", ref, expected, strings.Join(found, "; "), shortErr(err))
}

// describeSignature says what a signature that did not verify is, for
// the error: unreadable, tampered, over another artifact, or by whom.
func describeSignature(f fetchedSig, want string) string {
	env, err := signature.ParseEnvelope(f.envelope.MediaType, f.blob)
	if err != nil {
		return fmt.Sprintf("signature %s is unreadable (%v)", f.manifest.Digest, shortErr(err))
	}
	content, err := env.Verify()
	if err != nil {
		return fmt.Sprintf("signature %s is tampered or invalid: its envelope does not verify (%v)", f.manifest.Digest, shortErr(err))
	}
	var payload struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}
	if json.Unmarshal(content.Payload.Content, &payload) == nil && payload.TargetArtifact.Digest.String() != want {
		return fmt.Sprintf("signature %s is over another artifact (%s)", f.manifest.Digest, shorten(payload.TargetArtifact.Digest.String(), 80))
	}
	if chain := content.SignerInfo.CertificateChain; len(chain) > 0 {
		return fmt.Sprintf("signature %s by %s", f.manifest.Digest, describeCert(chain[0]))
	}
	return fmt.Sprintf("signature %s without a certificate", f.manifest.Digest)
}

// fetchedSig is one signature notation fetched through a recordingRepo.
type fetchedSig struct {
	manifest, envelope ocispec.Descriptor
	blob               []byte
}

// recordingRepo keeps what notation.Verify flattens into strings: the
// transport errors (to tell "registry down" from "not signed") and the
// signatures fetched (to cache the good one and describe the bad ones).
type recordingRepo struct {
	registry.Repository
	resolveErr, listErr error
	fetched             []fetchedSig
}

func (r *recordingRepo) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	d, err := r.Repository.Resolve(ctx, reference)
	r.resolveErr = err
	return d, err
}

func (r *recordingRepo) ListSignatures(ctx context.Context, desc ocispec.Descriptor, fn func([]ocispec.Descriptor) error) error {
	var fnErr error
	err := r.Repository.ListSignatures(ctx, desc, func(ds []ocispec.Descriptor) error {
		fnErr = fn(ds)
		return fnErr
	})
	if err != nil && !errors.Is(err, fnErr) {
		r.listErr = err
	}
	return err
}

func (r *recordingRepo) FetchSignatureBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	blob, bd, err := r.Repository.FetchSignatureBlob(ctx, desc)
	if err == nil && len(r.fetched) < maxSignatureAttempts {
		r.fetched = append(r.fetched, fetchedSig{manifest: desc, envelope: bd, blob: blob})
	}
	return blob, bd, err
}

// unreachable says whether err means the registry could not be talked
// to (network failure, timeout, or a 5xx), as opposed to an answer.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var er *errcode.ErrorResponse
	return errors.As(err, &er) && er.StatusCode >= 500
}

// shortErr keeps a wrapped error readable in a one-line message.
func shortErr(err error) string {
	if err == nil {
		return ""
	}
	return shorten(strings.ReplaceAll(err.Error(), "\n", "; "), 300)
}
