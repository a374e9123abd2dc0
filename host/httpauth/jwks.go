package httpauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/quote"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
)

const (
	maxJWKSKeys = 100  // an issuer publishes a handful; more is not a key set
	minRSABits  = 2048 // RFC 7518 §3.3 and today's practice
	maxRSABits  = 8192 // bounds the cost of one verification
	maxKidLen   = 256
)

// jwk is a verified public key of the issuer's JWKS.
type jwk struct {
	kid string
	kty string // "RSA", "EC", "OKP"
	crv string // "P-256", "P-384", "Ed25519"; "" for RSA
	alg string // the key's own alg, when it names one: then only that alg
	pub any    // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
}

// keySet is a parsed JWKS.
type keySet struct {
	keys    []*jwk
	skipped []string // why some keys were left out, for the log
}

// lookup returns the key for a token's kid. A token without kid names the
// set's only key, when it has exactly one.
func (s *keySet) lookup(kid string, hasKid bool) *jwk {
	if !hasKid {
		if len(s.keys) == 1 {
			return s.keys[0]
		}
		return nil
	}
	for _, k := range s.keys {
		if k.kid == kid && k.kid != "" {
			return k
		}
	}
	return nil
}

// parseJWKS reads a JWK Set (RFC 7517 §5). Keys this server cannot use
// (another kty, use other than sig, a curve it does not verify) are left
// out with a reason; keys that claim a supported type but are malformed
// or weak (RSA under 2048 bits, an EC point off its curve) are left out
// too, and a set with no usable key is an error. Members of a key beyond
// those read here (x5c, key_ops, …) are ignored, as RFC 7517 asks; a
// member given twice in one object is refused.
func parseJWKS(data []byte) (*keySet, error) {
	var doc map[string]any
	if err := strictjson.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the JWKS is not a JSON object: %v", err)
	}
	raw, ok := doc["keys"].([]any)
	if !ok {
		return nil, errors.New(`the JWKS has no "keys" array`)
	}
	if len(raw) > maxJWKSKeys {
		return nil, fmt.Errorf("the JWKS has %d keys, more than the %d this server reads", len(raw), maxJWKSKeys)
	}
	set := &keySet{}
	kids := map[string]bool{}
	for i, r := range raw {
		obj, ok := r.(map[string]any)
		if !ok {
			set.skipped = append(set.skipped, fmt.Sprintf("keys[%d] is not an object", i))
			continue
		}
		k, err := parseJWK(obj)
		if err != nil {
			set.skipped = append(set.skipped, fmt.Sprintf("keys[%d]: %v", i, err))
			continue
		}
		if k == nil {
			continue // not a signing key for this server: left out quietly
		}
		if k.kid != "" {
			if kids[k.kid] {
				return nil, fmt.Errorf("the JWKS gives key id %s twice; a token naming it would be ambiguous", quote.Short(k.kid, 64))
			}
			kids[k.kid] = true
		}
		set.keys = append(set.keys, k)
	}
	// A key without kid can be chosen only by being the only key.
	if len(set.keys) > 1 {
		kept := set.keys[:0]
		for _, k := range set.keys {
			if k.kid == "" {
				set.skipped = append(set.skipped, "a key without kid, among several keys, can be named by no token")
				continue
			}
			kept = append(kept, k)
		}
		set.keys = kept
	}
	if len(set.keys) == 0 {
		why := "it has none"
		if len(set.skipped) > 0 {
			why = strings.Join(set.skipped, "; ")
		}
		return nil, fmt.Errorf("the JWKS has no key this server can verify with (RSA of 2048 bits or more, EC P-256 or P-384, Ed25519): %s", quote.Short(why, 400))
	}
	return set, nil
}

// parseJWK reads one key: nil, nil for a key that is not for verifying
// signatures with an algorithm this server accepts.
func parseJWK(m map[string]any) (*jwk, error) {
	str := func(name string) (string, error) {
		v, ok := m[name]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s is not a string", name)
		}
		return s, nil
	}
	k := &jwk{}
	var err error
	var use string
	for _, f := range []struct {
		name string
		dst  *string
	}{{"kty", &k.kty}, {"kid", &k.kid}, {"alg", &k.alg}, {"crv", &k.crv}, {"use", &use}} {
		if *f.dst, err = str(f.name); err != nil {
			return nil, err
		}
	}
	if use != "" && use != "sig" {
		return nil, nil
	}
	if len(k.kid) > maxKidLen {
		return nil, fmt.Errorf("kid is longer than %d characters", maxKidLen)
	}
	if k.alg != "" && !allowedAlg(k.alg) {
		return nil, nil // a key for an algorithm this server never accepts
	}
	b64 := func(name string) ([]byte, error) {
		s, err := str(name)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, fmt.Errorf("%s is missing", name)
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not base64url without padding", name)
		}
		return b, nil
	}
	switch k.kty {
	case "RSA":
		k.crv = ""
		n, err := b64("n")
		if err != nil {
			return nil, err
		}
		e, err := b64("e")
		if err != nil {
			return nil, err
		}
		if len(n) == 0 || n[0] == 0 {
			return nil, errors.New("n has leading zero bytes")
		}
		N := new(big.Int).SetBytes(n)
		if N.BitLen() < minRSABits || N.BitLen() > maxRSABits {
			return nil, fmt.Errorf("the RSA key has %d bits; this server accepts %d to %d", N.BitLen(), minRSABits, maxRSABits)
		}
		if len(e) > 4 {
			return nil, errors.New("the RSA exponent is too large")
		}
		E := int(new(big.Int).SetBytes(e).Int64())
		if E < 3 || E%2 == 0 {
			return nil, errors.New("the RSA exponent must be odd and at least 3")
		}
		k.pub = &rsa.PublicKey{N: N, E: E}
	case "EC":
		var curve elliptic.Curve
		var size int
		switch k.crv {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		default:
			return nil, nil // P-521, secp256k1: not on the allowlist
		}
		x, err := b64("x")
		if err != nil {
			return nil, err
		}
		y, err := b64("y")
		if err != nil {
			return nil, err
		}
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("x and y of a %s key must be %d bytes each", k.crv, size)
		}
		// ParseUncompressedPublicKey refuses a point not on the curve:
		// an invalid-curve point must never reach a verification.
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("the %s point is not on its curve", k.crv)
		}
		k.pub = pub
	case "OKP":
		if k.crv != "Ed25519" {
			return nil, nil // X25519 and Ed448: not for this server
		}
		x, err := b64("x")
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("x of an Ed25519 key must be %d bytes", ed25519.PublicKeySize)
		}
		k.pub = ed25519.PublicKey(x)
	default:
		return nil, nil // "oct" (a shared secret has no place in a JWKS), or unknown
	}
	return k, nil
}
