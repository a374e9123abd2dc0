package pluginreg

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
)

// Publisher is whom the operator trusts for a plugins-file entry: a name
// (the plugins file's `publishers:` key) and the certificates whose
// signatures count as that publisher's (a self-signed signing certificate
// from `plugins keygen`, or a CA that issues the publisher's).
type Publisher struct {
	Name         string
	Certificates []*x509.Certificate
}

// Verified says who signed a verified plugin.
type Verified struct {
	Publisher string // the Publisher.Name whose certificate anchors the signature
	Subject   string // the signing certificate's subject, e.g. "CN=acme,O=acme"
}

// memTrustStore is the operator's trust as the Notary Project verifier
// asks for it: each publisher is a named "ca" store of its certificates.
// It lives in memory, built from the plugins file on every verification,
// so that there is no second place (notation's ~/.config) to keep in step.
type memTrustStore map[string][]*x509.Certificate

// GetCertificates implements truststore.X509TrustStore.
func (s memTrustStore) GetCertificates(_ context.Context, typ truststore.Type, name string) ([]*x509.Certificate, error) {
	certs, ok := s[name]
	if typ != truststore.TypeCA || !ok {
		return nil, truststore.TrustStoreError{Msg: fmt.Sprintf("no trust store %s:%s", typ, name)}
	}
	return certs, nil
}

// storeName is a publisher's trust-store name. Notation restricts store
// names to [A-Za-z0-9_.-]; the index keeps two publishers apart even if
// their names map to the same characters.
func storeName(i int, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "p%d-", i)
	for _, r := range name {
		if r < 128 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// trustFor builds the in-memory trust policy and trust store for one
// repository (scope: registry/repository) and its trusted publishers. The policy is "strict" (integrity,
// authenticity, expiry, timestamp all enforced) except for revocation,
// which is skipped: checking it means OCSP/CRL fetches to the CAs'
// servers, and verification must need nothing but the registry (and work
// from the cache with no network at all). A publisher's compromised key
// is handled by the operator removing its certificate.
func trustFor(scope string, trusted []Publisher) (*trustpolicy.Document, memTrustStore, error) {
	if len(trusted) == 0 {
		return nil, nil, errors.New("no trusted publisher given: a signed plugin is verified against the certificates of the publishers the plugins file names")
	}
	store := memTrustStore{}
	var stores []string
	for i, p := range trusted {
		if len(p.Certificates) == 0 {
			return nil, nil, fmt.Errorf("publisher %q has no certificate: list its PEM certificate file in the plugins file", p.Name)
		}
		n := storeName(i, p.Name)
		store[n] = p.Certificates
		stores = append(stores, string(truststore.TypeCA)+":"+n)
	}
	doc := &trustpolicy.Document{
		Version: "1.0",
		TrustPolicies: []trustpolicy.TrustPolicy{{
			Name:           "iam-mcp-plugin",
			RegistryScopes: []string{scope},
			SignatureVerification: trustpolicy.SignatureVerification{
				VerificationLevel: trustpolicy.LevelStrict.Name,
				Override:          map[trustpolicy.ValidationType]trustpolicy.ValidationAction{trustpolicy.TypeRevocation: trustpolicy.ActionSkip},
			},
			TrustStores: stores,
			// Any identity within the stores: the operator's trust is in
			// the certificates themselves, one set per publisher.
			TrustedIdentities: []string{"*"},
		}},
	}
	return doc, store, nil
}

// matchPublisher says which trusted publisher anchors a verified chain:
// the one holding a certificate of the chain, or one that issued its root.
func matchPublisher(chain []*x509.Certificate, trusted []Publisher) (string, bool) {
	for _, p := range trusted {
		for _, t := range p.Certificates {
			for _, c := range chain {
				if c.Equal(t) || c.CheckSignatureFrom(t) == nil && string(c.RawIssuer) == string(t.RawSubject) {
					return p.Name, true
				}
			}
		}
	}
	return "", false
}

// describeCert names a certificate the way an operator can check it:
// subject and SHA-256 fingerprint (what `openssl x509 -fingerprint
// -sha256` and `notation cert show` print, without colons).
func describeCert(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return fmt.Sprintf("certificate %s, SHA-256 fingerprint %s", c.Subject, hex.EncodeToString(sum[:]))
}

// describeTrusted lists the expected publishers and certificates.
func describeTrusted(trusted []Publisher) string {
	var parts []string
	for _, p := range trusted {
		var certs []string
		for _, c := range p.Certificates {
			certs = append(certs, describeCert(c))
		}
		parts = append(parts, fmt.Sprintf("publisher %s (%s)", p.Name, strings.Join(certs, "; ")))
	}
	if len(parts) == 1 {
		return "a signature by " + parts[0]
	}
	return "a signature by one of " + strings.Join(parts, ", ")
}
