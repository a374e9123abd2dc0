package pluginreg

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// keyValidity is how long a certificate from GenerateKey is valid. A year
// keeps a lost key's damage bounded without making rotation a chore; the
// Notary Project verifier refuses signatures made outside the validity.
const keyValidity = 365 * 24 * time.Hour

// maxPEMFile caps what LoadKey and LoadCertificates read: a key or a
// certificate chain is a few kilobytes, anything near this is not one.
const maxPEMFile = 1 << 20

// publisherName is what GenerateKey accepts as a name: it becomes both file
// names and the certificate's CN, so no path separators, no spaces.
var publisherName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// GenerateKey creates a publisher's signing key and a self-signed
// certificate for it in dir: NAME.key (PKCS#8 PEM, 0600) and NAME.crt
// (PEM). The certificate is what `notation cert generate-test` makes and
// what the Notary Project accepts as a self-signed signing certificate:
// not a CA, key usage digitalSignature only, extended key usage
// codeSigning, subject CN=NAME. The operator trusts the .crt; the
// publisher keeps the .key. Existing files are never overwritten: a key
// replaced by accident would orphan every signature made with it.
func GenerateKey(dir, name string) (keyPath, certPath string, err error) {
	if !publisherName.MatchString(name) {
		return "", "", fmt.Errorf("publisher name %q is not valid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", shorten(name, 80))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create key directory: %w", err)
	}
	keyPath = filepath.Join(dir, name+".key")
	certPath = filepath.Join(dir, name+".crt")
	for _, p := range []string{keyPath, certPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s already exists: remove it or choose another name (existing keys are never overwritten)", p)
		}
	}
	// ECDSA P-256: ES256 is a Notary Project signing algorithm and the key
	// is small and fast to sign with.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", fmt.Errorf("generate serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore:    now.Add(-5 * time.Minute), // tolerate a little clock skew between signer and verifier
		NotAfter:     now.Add(keyValidity),
		// A self-signed signing certificate, not a CA: the Notary Project
		// refuses a leaf with CertSign or any usage but digitalSignature.
		BasicConstraintsValid: true,
		IsCA:                  false,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode key: %w", err)
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		_ = os.Remove(keyPath)
		return "", "", err
	}
	return keyPath, certPath, nil
}

// writeNew creates path exclusively with mode (O_EXCL: never replaces).
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LoadKey reads a PEM private key (PKCS#8, EC or PKCS#1 RSA, as written by
// GenerateKey, openssl or `notation cert generate-test`) usable to sign.
func LoadKey(path string) (crypto.Signer, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%s holds no PEM private key: expected a \"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\" block (as written by `plugins keygen`)", path)
		}
		var key any
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: the %s block is not a valid key: %w", path, block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: a %T key cannot sign", path, key)
		}
		return signer, nil
	}
}

// LoadCertificates reads PEM certificates from each path, in order. Each
// file must hold at least one CERTIFICATE block and nothing that is not
// PEM, so that a wrong file (a key, a DER file) is a clear error instead
// of an empty trust list.
func LoadCertificates(paths ...string) ([]*x509.Certificate, error) {
	if len(paths) == 0 {
		return nil, errors.New("no certificate file given: name the publisher's PEM certificate (the .crt from `plugins keygen`)")
	}
	var certs []*x509.Certificate
	for _, p := range paths {
		data, err := readCapped(p)
		if err != nil {
			return nil, err
		}
		got, err := parseCertificatesPEM(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		certs = append(certs, got...)
	}
	return certs, nil
}

// maxCertsPerFile bounds a certificate file: a chain is a handful.
const maxCertsPerFile = 64

// parseCertificatesPEM is LoadCertificates' parser, apart for fuzzing.
func parseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			if block.Type == "PRIVATE KEY" || block.Type == "EC PRIVATE KEY" || block.Type == "RSA PRIVATE KEY" {
				return nil, errors.New("holds a private key, not a certificate: give the publisher's .crt, and keep the .key secret")
			}
			return nil, fmt.Errorf("holds a PEM %q block where only CERTIFICATE blocks belong", shorten(block.Type, 40))
		}
		if len(certs) == maxCertsPerFile {
			return nil, fmt.Errorf("holds more than %d certificates", maxCertsPerFile)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d is not valid: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		if len(certs) == 0 {
			return nil, errors.New("is not a PEM certificate file: expected \"-----BEGIN CERTIFICATE-----\" blocks (convert DER with `openssl x509 -inform der`)")
		}
		return nil, errors.New("has trailing data after its last certificate that is not PEM")
	}
	if len(certs) == 0 {
		return nil, errors.New("holds no certificate: expected \"-----BEGIN CERTIFICATE-----\" blocks")
	}
	return certs, nil
}

// readCapped reads a small file, refusing one larger than maxPEMFile
// before reading it.
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if st.Size() > maxPEMFile {
		return nil, fmt.Errorf("%s is %d bytes: a key or certificate file is at most %d", path, st.Size(), maxPEMFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxPEMFile {
		return nil, fmt.Errorf("%s grew past %d bytes while being read", path, maxPEMFile)
	}
	return data, nil
}

// shorten keeps error messages short when they quote outside input.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
