package pluginreg

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
)

// Sign signs the plugin manifest ref pins with key, whose certificate is
// chain[0] (chain ends at the self-signed certificate or root CA), and
// pushes the signature to ref's repository as an OCI referrer of the
// manifest. It is a Notary Project signature (JWS envelope), so
// `notation verify` checks it as well as Verify does.
func (c *Client) Sign(ctx context.Context, ref Ref, key crypto.Signer, chain []*x509.Certificate) error {
	if !ref.Pinned() {
		return fmt.Errorf("sign %s: the reference must be pinned to a digest (…@sha256:…): a tag can move after signing", ref)
	}
	if key == nil || len(chain) == 0 {
		return errors.New("sign: a key and its certificate are both needed (`plugins keygen` writes NAME.key and NAME.crt)")
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(chain[0].PublicKey) {
		return fmt.Errorf("sign: the key does not belong to the certificate %s: give the .crt written with this .key", chain[0].Subject)
	}
	s, err := signer.NewGenericSigner(key, chain)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	remote, err := c.Repository(ref)
	if err != nil {
		return err
	}
	_, err = notation.Sign(ctx, s, registry.NewRepository(remote), notation.SignOptions{
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: sigEnvelopeMedia},
		ArtifactReference: artifactReference(ref),
	})
	if err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}
	return nil
}

// artifactReference is ref as notation names it: registry/repo@digest.
func artifactReference(ref Ref) string {
	return ref.Registry + "/" + ref.Repository + "@" + ref.Digest
}
