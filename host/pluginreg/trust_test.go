package pluginreg

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// A publisher may be trusted through its CA rather than its signing
// certificate: the signature carries the chain, the operator the root.
func TestVerifyThroughAPublishersCA(t *testing.T) {
	_, host := testRegistry(t)
	c := newTestClient(t)
	ref := pushArtifact(t, c, host, "plugins/hello", []byte("module"))

	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Acme Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "acme release signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)

	if err := c.Sign(context.Background(), ref, leafKey, []*x509.Certificate{leaf, ca}); err != nil {
		t.Fatal(err)
	}
	other := newPublisher(t, "other")
	got, err := c.Verify(context.Background(), ref, []Publisher{other.pub, {Name: "acme", Certificates: []*x509.Certificate{ca}}})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Publisher != "acme" || got.Subject != "CN=acme release signer" {
		t.Fatalf("Verified = %+v, want acme / CN=acme release signer", got)
	}
}

func TestTrustNeedsPublishersWithCertificates(t *testing.T) {
	if _, _, err := trustFor("127.0.0.1:5000/plugins/x", nil); err == nil || !strings.Contains(err.Error(), "no trusted publisher") {
		t.Errorf("trustFor(no publishers) = %v", err)
	}
	if _, _, err := trustFor("127.0.0.1:5000/plugins/x", []Publisher{{Name: "acme"}}); err == nil || !strings.Contains(err.Error(), `publisher "acme" has no certificate`) {
		t.Errorf("trustFor(publisher without certificates) = %v", err)
	}
	// Names notation would refuse as store names still make distinct stores.
	if a, b := storeName(0, "a b/ü"), storeName(1, "a b/ü"); a == b || strings.ContainsAny(a, " /ü") {
		t.Errorf("storeName gave %q and %q", a, b)
	}
}
