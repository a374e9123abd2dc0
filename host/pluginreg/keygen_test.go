package pluginreg

import (
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corex509 "github.com/notaryproject/notation-core-go/x509"
)

func TestGenerateKeyMakesANotaryProjectSigningCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	keyPath, certPath, err := GenerateKey(dir, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key %s: %v, mode %v, want 0600", keyPath, err, info.Mode().Perm())
	}
	certs, err := LoadCertificates(certPath)
	if err != nil || len(certs) != 1 {
		t.Fatalf("LoadCertificates: %v, %d certs", err, len(certs))
	}
	cert := certs[0]
	if cert.Subject.CommonName != "acme" || cert.IsCA || cert.KeyUsage != x509.KeyUsageDigitalSignature ||
		len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
		t.Fatalf("certificate %s: IsCA %v, KeyUsage %v, EKU %v; want a CN=acme code-signing leaf", cert.Subject, cert.IsCA, cert.KeyUsage, cert.ExtKeyUsage)
	}
	// The Notary Project's own check for a self-signed signing certificate.
	now := time.Now()
	if err := corex509.ValidateCodeSigningCertChain(certs, &now); err != nil {
		t.Fatalf("notation-core-go refuses the certificate: %v", err)
	}
	key, err := LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		t.Fatal("LoadKey returned a key that is not the certificate's")
	}
	if _, _, err := GenerateKey(dir, "acme"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second GenerateKey = %v, want a refusal to overwrite", err)
	}
	if _, _, err := GenerateKey(dir, "../escape"); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("GenerateKey(../escape) = %v, want the name refused", err)
	}
}

func TestLoadCertificatesErrors(t *testing.T) {
	dir := t.TempDir()
	keyPath, certPath, err := GenerateKey(dir, "acme")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pemCert, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, maxPEMFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want string
	}{
		{"private key", keyPath, "holds a private key"},
		{"empty", write("empty.pem", ""), "holds no certificate"},
		{"not PEM", write("der.crt", "\x30\x82garbage"), "not a PEM certificate file"},
		{"trailing", write("trail.pem", string(pemCert)+"junk"), "trailing data"},
		{"bad cert", write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1 is not valid"},
		{"missing", filepath.Join(dir, "nope.pem"), "no such file"},
		{"too big", big, "at most"},
	} {
		if _, err := LoadCertificates(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadCertificates = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadCertificates(); err == nil {
		t.Error("LoadCertificates() with no file succeeded")
	}
	two := write("two.pem", string(pemCert)+string(pemCert))
	if certs, err := LoadCertificates(two, certPath); err != nil || len(certs) != 3 {
		t.Errorf("LoadCertificates(two, one) = %d certs, %v; want 3", len(certs), err)
	}
	if _, err := LoadKey(certPath); err == nil || !strings.Contains(err.Error(), "no PEM private key") {
		t.Errorf("LoadKey(certificate) = %v, want 'no PEM private key'", err)
	}
}

// FuzzLoadCertificates: the parser of operator-supplied certificate files
// never panics, and what it accepts is at least one certificate.
func FuzzLoadCertificates(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := parseCertificatesPEM(data)
		if err == nil && (len(certs) == 0 || len(certs) > maxCertsPerFile) {
			t.Fatalf("accepted %d certificates", len(certs))
		}
	})
}

// FuzzSignatureCacheDescriptor: a cached signature descriptor (read back
// from disk, so outside input) is decoded strictly and never panics.
func FuzzSignatureCacheDescriptor(f *testing.F) {
	f.Add([]byte(`{"manifest":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:ee1d8e32981b6cabc7288fd127169e844d0266ab4f45f1ab61fbf79ff0fdc878","size":728},"envelope":{"mediaType":"application/jose+json","digest":"sha256:db1d51aa8e2a075f2a2882e95fe2f161c22282f558c5361f5ef7b0ed677748b2","size":2000}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sig, err := parseCachedSig(data)
		if err == nil && (sig.Envelope.MediaType != sigEnvelopeMedia || sig.Manifest.Digest.Validate() != nil || sig.Envelope.Size <= 0) {
			t.Fatalf("accepted an invalid descriptor: %+v", sig)
		}
	})
}
