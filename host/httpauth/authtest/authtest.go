// Package authtest is a real OAuth authorization server's public side for
// tests: an HTTP server on 127.0.0.1 serving RFC 8414 metadata and a JWKS,
// and the private keys to sign access tokens that httpauth.JWTVerifier
// checks exactly as it checks a production issuer's. It sits beside
// httpauth as net/http/httptest sits beside net/http: tests (unit, e2e,
// bench) import it; the server never does.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Keys are generated once per process and shared by every Issuer: RSA
// 2048 takes a noticeable time, and tests start many issuers. Each
// issuer's key ids are its own all the same.
var (
	keyMu   sync.Mutex
	rsaKeys []*rsa.PrivateKey
	ecOnce  sync.Once
	ec256   *ecdsa.PrivateKey
	ec384   *ecdsa.PrivateKey
	edKey   ed25519.PrivateKey
)

// rsaKey returns the process's i-th RSA key, generating it when needed.
func rsaKey(i int) *rsa.PrivateKey {
	keyMu.Lock()
	defer keyMu.Unlock()
	for len(rsaKeys) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err) // the system's randomness failed: no test can go on
		}
		rsaKeys = append(rsaKeys, k)
	}
	return rsaKeys[i]
}

func otherKeys() {
	ecOnce.Do(func() {
		var err error
		if ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

// Issuer is a running test authorization server.
type Issuer struct {
	srv     *httptest.Server
	fetches atomic.Int64

	mu      sync.Mutex
	current int    // index of the current RSA key
	gen     int    // rotations so far, for key ids
	kid     string // the current RSA key's id
	jwks    []byte // what the JWKS endpoint serves; nil: built from the keys
}

// NewIssuer starts an issuer, stopped by t.Cleanup. It serves
// /.well-known/oauth-authorization-server (RFC 8414, with issuer and
// jwks_uri) and /jwks.json with an RS256 key (the current one, for Sign),
// an ES256 key, an ES384 key and an Ed25519 key.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	otherKeys()
	rsaKey(0)
	is := &Issuer{kid: "rsa-0"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                is.URL(),
			"jwks_uri":                              is.JWKSURL(),
			"authorization_endpoint":                is.URL() + "/authorize",
			"token_endpoint":                        is.URL() + "/token",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none"},
		})
	})
	mux.HandleFunc("GET /jwks.json", func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(is.JWKS())
	})
	// Started only once is.srv is set: the handlers read it (URL).
	srv := httptest.NewUnstartedServer(mux)
	is.srv = srv
	srv.Start()
	t.Cleanup(srv.Close)
	return is
}

// URL is the issuer identifier (http://127.0.0.1:PORT), the value of iss.
func (is *Issuer) URL() string { return is.srv.URL }

// JWKSURL is where the JWKS is served.
func (is *Issuer) JWKSURL() string { return is.srv.URL + "/jwks.json" }

// JWKSFetches is how many times the JWKS has been fetched.
func (is *Issuer) JWKSFetches() int { return int(is.fetches.Load()) }

// KeyID is the current RSA key's id, which Sign puts in the header.
func (is *Issuer) KeyID() string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.kid
}

// Rotate makes a new current RSA key; the old one leaves the JWKS, so
// tokens it signed stop verifying once the verifier refetches.
func (is *Issuer) Rotate() {
	is.mu.Lock()
	is.current++
	is.gen++
	is.kid = fmt.Sprintf("rsa-%d", is.gen)
	idx := is.current
	is.mu.Unlock()
	rsaKey(idx)
}

// SetJWKS makes the JWKS endpoint serve raw instead of the issuer's keys
// (nil: back to them): for tests of a broken or hostile key set.
func (is *Issuer) SetJWKS(raw []byte) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.jwks = raw
}

// JWKS is the key set the issuer serves.
func (is *Issuer) JWKS() []byte {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.jwks != nil {
		return is.jwks
	}
	k := rsaKey(is.current)
	b64 := base64.RawURLEncoding.EncodeToString
	keys := []map[string]any{
		{"kty": "RSA", "kid": is.kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())},
		ecJWK("ec-256", ec256, 32),
		ecJWK("ec-384", ec384, 48),
		{"kty": "OKP", "crv": "Ed25519", "kid": "ed-0", "use": "sig", "x": b64(edKey.Public().(ed25519.PublicKey))},
	}
	data, _ := json.Marshal(map[string]any{"keys": keys})
	return data
}

func ecJWK(kid string, k *ecdsa.PrivateKey, size int) map[string]any {
	pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"kty": "EC", "kid": kid, "use": "sig", "crv": k.Curve.Params().Name,
		"x": b64(pub[1 : 1+size]), "y": b64(pub[1+size:])}
}

// Sign returns a token signed RS256 with the current RSA key (its kid in
// the header), with claims: iss is filled with URL() when absent, exp
// with an hour from now and iat with now when absent. A claim set to nil
// is left out (to test a token without exp, say).
func (is *Issuer) Sign(claims map[string]any) string {
	return is.SignWith("RS256", nil, claims)
}

// SignES256 is Sign with the ES256 key (kid "ec-256").
func (is *Issuer) SignES256(claims map[string]any) string {
	return is.SignWith("ES256", nil, claims)
}

// SignWith signs claims (filled as by Sign) with alg and the issuer's key
// for it: RS256/384/512 and PS256/384/512 with the current RSA key, ES256,
// ES384, EdDSA with the others. Two algs make tokens a verifier must
// refuse: "none" (no signature) and "HS256" (an HMAC keyed with the RSA
// public key's PEM bytes, the key-confusion attack). header's entries are
// added to the header, overriding alg, kid and typ (nil values remove
// them).
func (is *Issuer) SignWith(alg string, header, claims map[string]any) string {
	is.mu.Lock()
	rk, rkid := rsaKey(is.current), is.kid
	is.mu.Unlock()
	h := map[string]any{"alg": alg, "typ": "at+jwt"}
	switch alg[:2] {
	case "RS", "PS", "HS":
		h["kid"] = rkid
	case "ES":
		h["kid"] = map[string]string{"ES256": "ec-256", "ES384": "ec-384"}[alg]
	case "Ed":
		h["kid"] = "ed-0"
	}
	for k, v := range header {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	c := map[string]any{"iss": is.URL(), "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	hj, _ := json.Marshal(h)
	cj, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("authtest: claims do not marshal: %v", err))
	}
	return SignRaw(alg, rk, hj, cj)
}

// SignRaw signs the given header and claims bytes as they are (for tests
// of malformed JSON in a validly signed token) with alg and rk, or the
// issuer-wide keys for EC and EdDSA.
func SignRaw(alg string, rk *rsa.PrivateKey, header, claims []byte) string {
	otherKeys()
	b64 := base64.RawURLEncoding.EncodeToString
	input := b64(header) + "." + b64(claims)
	var sig []byte
	var err error
	hashed := func(h crypto.Hash) []byte { d := h.New(); d.Write([]byte(input)); return d.Sum(nil) }
	hashOf := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	switch alg {
	case "RS256", "RS384", "RS512":
		h := hashOf[alg[2:]]
		sig, err = rsa.SignPKCS1v15(rand.Reader, rk, h, hashed(h))
	case "PS256", "PS384", "PS512":
		h := hashOf[alg[2:]]
		sig, err = rsa.SignPSS(rand.Reader, rk, h, hashed(h), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256", "ES384":
		k, size := ec256, 32
		if alg == "ES384" {
			k, size = ec384, 48
		}
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, hashed(hashOf[alg[2:]]))
		if err == nil {
			sig = make([]byte, 2*size)
			r.FillBytes(sig[:size])
			s.FillBytes(sig[size:])
		}
	case "EdDSA":
		sig = ed25519.Sign(edKey, []byte(input))
	case "HS256":
		der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(input))
		sig = mac.Sum(nil)
	case "none":
	default:
		panic("authtest: no key for alg " + alg)
	}
	if err != nil {
		panic(err)
	}
	_ = sha512.New // SHA-384 and SHA-512 are registered by importing it
	return input + "." + b64(sig)
}

// RSAKey is the issuer's current RSA private key (for SignRaw).
func (is *Issuer) RSAKey() *rsa.PrivateKey {
	is.mu.Lock()
	defer is.mu.Unlock()
	return rsaKey(is.current)
}
