package httpauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha256" // the hashes of the allowed algorithms
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/iammcp/iam-mcp-server/internal/quote"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
)

const (
	// maxDocumentBytes bounds every document fetched from the issuer.
	maxDocumentBytes = 1 << 20
	// defaultFetchTimeout bounds a fetch when the operator gives no client.
	defaultFetchTimeout = 10 * time.Second
	// keysMaxAge: cached keys older than this are refreshed in the
	// background, so that a key the issuer withdrew stops verifying.
	keysMaxAge = 10 * time.Minute
	// refetchInterval is the least time between two fetches of the JWKS
	// for a key id not in the cache: tokens naming random key ids must
	// not turn into a flood of requests to the issuer.
	refetchInterval = 30 * time.Second
	// leeway forgives clocks that differ by up to this much for exp, nbf
	// and iat.
	leeway    = 60 * time.Second
	maxSubLen = 256
)

// OAuthOptions configures a JWTVerifier.
type OAuthOptions struct {
	// Issuer is the authorization server's issuer identifier: an https
	// URL (http only for a loopback host, for tests), compared exactly
	// with tokens' iss.
	Issuer string
	// Audience are the values of aud this server accepts (its resource
	// URL, usually); a token must name one of them.
	Audience []string
	// JWKSURL is where the issuer's keys are; empty: discovered from the
	// issuer's RFC 8414 metadata, or else its OpenID configuration.
	JWKSURL string
	// ResourceURL is this server's resource identifier for the
	// protected-resource metadata document; MetadataURL where that
	// document is served (for the challenge's resource_metadata).
	ResourceURL string
	MetadataURL string
	// HTTPClient fetches the issuer's documents; nil: a client with a 10 s
	// timeout. Either way, redirects to another host are refused.
	HTTPClient *http.Client
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
	// Logger hears of refreshed keys and failed fetches; nil: discarded.
	Logger *slog.Logger
}

// JWTVerifier authenticates OAuth 2.1 access tokens that are JWTs signed
// by one issuer (RFC 9068 profile): an Authenticator and a
// MetadataProvider.
type JWTVerifier struct {
	opts     OAuthOptions
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
	audience map[string]bool

	mu        sync.RWMutex
	keys      *keySet
	fetchedAt time.Time // when keys were fetched

	fetchMu      sync.Mutex  // single flight: one fetch at a time
	lastAttempt  time.Time   // under fetchMu
	bgRefreshing atomic.Bool // a background refresh is under way
}

// NewJWTVerifier checks opts, finds the issuer's JWKS (discovering it when
// JWKSURL is empty) and fetches it: an issuer that cannot be reached
// fails the start, with what was tried.
func NewJWTVerifier(ctx context.Context, opts OAuthOptions) (*JWTVerifier, error) {
	if err := checkFetchURL(opts.Issuer, "issuer"); err != nil {
		return nil, err
	}
	if len(opts.Audience) == 0 {
		return nil, errors.New("the OAuth audience is empty; give the value of aud this server's tokens carry (usually its public URL)")
	}
	v := &JWTVerifier{opts: opts, now: opts.Now, log: opts.Logger, audience: map[string]bool{}}
	for _, a := range opts.Audience {
		if a == "" {
			return nil, errors.New("an OAuth audience is empty")
		}
		v.audience[a] = true
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	c := &http.Client{Timeout: defaultFetchTimeout}
	if opts.HTTPClient != nil {
		cp := *opts.HTTPClient
		c = &cp
		if c.Timeout == 0 {
			c.Timeout = defaultFetchTimeout
		}
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
			return fmt.Errorf("refusing a redirect from %s to another host, %s", via[0].URL.Host, quote.Short(req.URL.Host, 64))
		}
		return nil
	}
	v.client = c
	if v.opts.JWKSURL == "" {
		u, err := v.discover(ctx)
		if err != nil {
			return nil, err
		}
		v.opts.JWKSURL = u
	} else if err := checkFetchURL(v.opts.JWKSURL, "JWKS URL"); err != nil {
		return nil, err
	}
	set, err := v.fetchJWKS(ctx)
	if err != nil {
		return nil, err
	}
	v.keys, v.fetchedAt, v.lastAttempt = set, v.now(), v.now()
	v.logSkipped(set)
	return v, nil
}

// checkFetchURL requires an absolute https URL, or http for a loopback
// host (a test's issuer).
func checkFetchURL(s, what string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("the %s %s is not an absolute URL without query or fragment; write it like https://auth.example.com", what, quote.Short(s, 100))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("the %s %s must be an https URL (http only on a loopback host)", what, quote.Short(s, 100))
}

// discover finds the JWKS URL in the issuer's RFC 8414 metadata or else
// its OpenID configuration; the document must name this issuer exactly.
func (v *JWTVerifier) discover(ctx context.Context) (string, error) {
	u, _ := url.Parse(v.opts.Issuer)
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	// RFC 8414 §3.1: the well-known segment goes between the host and
	// the issuer's path. OpenID Connect Discovery §4: appended to it.
	candidates := []string{
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path,
		strings.TrimSuffix(v.opts.Issuer, "/") + "/.well-known/openid-configuration",
	}
	var tried []string
	for _, c := range candidates {
		data, err := v.fetch(ctx, c)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		var doc map[string]any
		if err := strictjson.Unmarshal(data, &doc); err != nil {
			tried = append(tried, fmt.Sprintf("%s is not a JSON object: %v", c, err))
			continue
		}
		if iss, _ := doc["issuer"].(string); iss != v.opts.Issuer {
			tried = append(tried, fmt.Sprintf("%s names issuer %s, not %s", c, quote.Short(iss, 100), v.opts.Issuer))
			continue
		}
		jwks, _ := doc["jwks_uri"].(string)
		if err := checkFetchURL(jwks, "jwks_uri"); err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		return jwks, nil
	}
	return "", fmt.Errorf("cannot find the JWKS of issuer %s: %s; check the issuer URL, or give the JWKS URL", v.opts.Issuer, strings.Join(tried, "; "))
}

// fetch GETs u, requiring 200 and at most maxDocumentBytes.
func (v *JWTVerifier) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", u, err)
	}
	if len(data) > maxDocumentBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", u, maxDocumentBytes)
	}
	return data, nil
}

func (v *JWTVerifier) fetchJWKS(ctx context.Context) (*keySet, error) {
	data, err := v.fetch(ctx, v.opts.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("cannot get the issuer's keys: %w", err)
	}
	set, err := parseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", v.opts.JWKSURL, err)
	}
	return set, nil
}

func (v *JWTVerifier) logSkipped(set *keySet) {
	for _, s := range set.skipped {
		v.log.Warn("a key of the issuer's JWKS is left out", "jwks", v.opts.JWKSURL, "why", s)
	}
}

// refetch fetches the JWKS for a key id not in the cache: single flight
// (callers wait for the fetch in progress, then use what it got), and at
// most once per refetchInterval, counted from the last attempt, failed or
// not.
func (v *JWTVerifier) refetch(ctx context.Context) {
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if v.now().Sub(v.lastAttempt) < refetchInterval {
		return
	}
	v.fetchLocked(ctx)
}

// fetchLocked fetches the keys, fetchMu held; a failure keeps the old keys.
func (v *JWTVerifier) fetchLocked(ctx context.Context) {
	v.lastAttempt = v.now()
	set, err := v.fetchJWKS(ctx)
	if err != nil {
		v.log.Warn("cannot refresh the issuer's keys; the cached ones stay in use", "err", err)
		return
	}
	v.logSkipped(set)
	v.mu.Lock()
	v.keys, v.fetchedAt = set, v.now()
	v.mu.Unlock()
}

// key returns the key for a token's kid: from the cache, refreshed in the
// background when older than keysMaxAge, or refetched (rate-limited)
// when the kid is not in it.
func (v *JWTVerifier) key(ctx context.Context, kid string, hasKid bool) *jwk {
	v.mu.RLock()
	k := v.keys.lookup(kid, hasKid)
	stale := v.now().Sub(v.fetchedAt) > keysMaxAge
	v.mu.RUnlock()
	if k != nil {
		if stale && v.bgRefreshing.CompareAndSwap(false, true) {
			go func() {
				// Detached from the request: its end must not cancel
				// the refresh. The client's timeout bounds it, and
				// refetch's limit keeps an issuer that is down from
				// being asked again at every request.
				defer v.bgRefreshing.Store(false)
				v.refetch(context.Background())
			}()
		}
		return k
	}
	v.refetch(ctx)
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.keys.lookup(kid, hasKid)
}

// Metadata is the protected-resource metadata document (RFC 9728).
func (v *JWTVerifier) Metadata() ResourceMetadata {
	return ResourceMetadata{
		Resource:               v.opts.ResourceURL,
		AuthorizationServers:   []string{v.opts.Issuer},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           realm,
	}
}

// Challenge is the WWW-Authenticate value for ref, with the
// resource_metadata URL the MCP authorization spec requires.
func (v *JWTVerifier) Challenge(ref *Refusal) string {
	return challenge(ref, v.opts.MetadataURL)
}

// Authenticate verifies the request's bearer JWT.
func (v *JWTVerifier) Authenticate(r *http.Request) (*Identity, *Refusal) {
	tok, ref := bearerToken(r)
	if ref != nil {
		return nil, ref
	}
	claims, err := v.verify(r.Context(), tok)
	if err != nil {
		return nil, &Refusal{Status: http.StatusUnauthorized, Code: "invalid_token", Message: err.Error()}
	}
	return &Identity{Subject: claims["sub"].(string), Via: "oauth", Claims: claims}, nil
}

// algs is the allowlist: never "none", never HS* (a verifier that took
// HS256 could be handed a token MACed with the issuer's public key), and
// each algorithm bound to the one key type and curve it uses.
var algs = map[string]struct {
	kty, crv string
	hash     crypto.Hash
	pss      bool
}{
	"RS256": {"RSA", "", crypto.SHA256, false},
	"RS384": {"RSA", "", crypto.SHA384, false},
	"RS512": {"RSA", "", crypto.SHA512, false},
	"PS256": {"RSA", "", crypto.SHA256, true},
	"PS384": {"RSA", "", crypto.SHA384, true},
	"PS512": {"RSA", "", crypto.SHA512, true},
	"ES256": {"EC", "P-256", crypto.SHA256, false},
	"ES384": {"EC", "P-384", crypto.SHA384, false},
	"EdDSA": {"OKP", "Ed25519", 0, false},
}

func allowedAlg(alg string) bool { _, ok := algs[alg]; return ok }

func tokenErr(format string, args ...any) error {
	return fmt.Errorf("the access token "+format, args...)
}

// verify checks tok's signature and claims and returns the claims.
func (v *JWTVerifier) verify(ctx context.Context, tok string) (map[string]any, error) {
	if len(tok) > MaxBearerBytes {
		return nil, tokenErr("is %d bytes, more than %d", len(tok), MaxBearerBytes)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, tokenErr("is not a JWT: a JWS in compact form has three parts separated by dots, this has %d", len(parts))
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return nil, tokenErr("is not a JWT: part %d is not base64url without padding", i+1)
		}
		raw[i] = b
	}
	header, err := decodeObject(raw[0])
	if err != nil {
		return nil, tokenErr("header is not a JSON object: %s", quote.Short(err.Error(), 120))
	}
	if _, ok := header["crit"]; ok {
		return nil, tokenErr("header has crit: this server understands no critical extension")
	}
	alg, _ := header["alg"].(string)
	spec, ok := algs[alg]
	if !ok {
		return nil, tokenErr("is signed with alg %s; this server accepts RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 and EdDSA", quote.Short(alg, 32))
	}
	kidVal, hasKid := header["kid"]
	kid, isStr := kidVal.(string)
	if hasKid && (!isStr || len(kid) > maxKidLen) {
		return nil, tokenErr("header's kid is not a string of at most %d characters", maxKidLen)
	}
	if t, ok := header["typ"]; ok {
		if _, isStr := t.(string); !isStr {
			return nil, tokenErr("header's typ is not a string")
		}
	}
	// jku, x5u, jwk and x5c in the header are never read: keys come from
	// the operator's issuer only.
	k := v.key(ctx, kid, hasKid)
	if k == nil {
		if hasKid {
			return nil, tokenErr("is signed with key id %s, which is not among the issuer's keys", quote.Short(kid, 64))
		}
		return nil, tokenErr("names no key id (kid) and the issuer has more than one key")
	}
	if k.kty != spec.kty || k.crv != spec.crv || k.alg != "" && k.alg != alg {
		return nil, tokenErr("says alg %s but key %s is for %s", alg, quote.Short(k.kid, 64), keyDesc(k))
	}
	signed := tok[:len(parts[0])+1+len(parts[1])]
	if !verifySig(k, alg, spec.hash, spec.pss, []byte(signed), raw[2]) {
		return nil, tokenErr("signature does not verify with the issuer's key %s", quote.Short(k.kid, 64))
	}
	claims, err := decodeObject(raw[1])
	if err != nil {
		return nil, tokenErr("claims are not a JSON object: %s", quote.Short(err.Error(), 120))
	}
	if err := v.checkClaims(claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// decodeObject decodes a JSON object with numbers as json.Number, after
// strictjson has checked it (no key twice in any object, bounded depth):
// a claim given twice must not mean one thing here and another to a log
// reader or another verifier.
func decodeObject(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := strictjson.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	m = nil
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func keyDesc(k *jwk) string {
	if k.alg != "" {
		return k.alg
	}
	if k.crv != "" {
		return k.kty + " " + k.crv
	}
	return k.kty
}

func verifySig(k *jwk, alg string, h crypto.Hash, pss bool, signed, sig []byte) bool {
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		d := h.New()
		d.Write(signed)
		sum := d.Sum(nil)
		if pss {
			return rsa.VerifyPSS(pub, h, sum, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(pub, h, sum, sig) == nil
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size { // RFC 7518 §3.4: R || S, fixed size
			return false
		}
		d := h.New()
		d.Write(signed)
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, d.Sum(nil), r, s)
	case ed25519.PublicKey:
		return alg == "EdDSA" && ed25519.Verify(pub, signed, sig)
	}
	return false
}

// checkClaims checks iss, aud, exp, nbf, iat and sub.
func (v *JWTVerifier) checkClaims(c map[string]any) error {
	iss, _ := c["iss"].(string)
	if iss != v.opts.Issuer {
		return tokenErr("is from issuer %s, not this server's %s", quote.Short(iss, 100), v.opts.Issuer)
	}
	var auds []string
	switch a := c["aud"].(type) {
	case string:
		auds = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	ok := false
	for _, a := range auds {
		ok = ok || v.audience[a]
	}
	if !ok {
		got := "none"
		if len(auds) > 0 {
			got = quote.Short(strings.Join(auds, ", "), 120)
		}
		return tokenErr("is for audience %s, not this server's %s; ask the authorization server for a token for this resource", got, quote.Short(strings.Join(v.opts.Audience, ", "), 120))
	}
	now := v.now()
	exp, err := numericDate(c, "exp")
	if err != nil {
		return err
	}
	if exp == nil {
		return tokenErr("has no exp; this server accepts only tokens that expire")
	}
	if now.After(exp.Add(leeway)) {
		return tokenErr("expired at %s; get a new one", exp.UTC().Format(time.RFC3339))
	}
	nbf, err := numericDate(c, "nbf")
	if err != nil {
		return err
	}
	if nbf != nil && now.Add(leeway).Before(*nbf) {
		return tokenErr("is not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	iat, err := numericDate(c, "iat")
	if err != nil {
		return err
	}
	if iat != nil && now.Add(leeway).Before(*iat) {
		return tokenErr("was issued in the future (%s); is a clock wrong?", iat.UTC().Format(time.RFC3339))
	}
	sub, _ := c["sub"].(string)
	if sub == "" || len(sub) > maxSubLen {
		return tokenErr("has no sub of 1 to %d characters", maxSubLen)
	}
	for _, r := range sub {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return tokenErr("has a sub with control characters")
		}
	}
	return nil
}

// numericDate reads a NumericDate claim (seconds since the epoch, maybe
// fractional); nil when absent.
func numericDate(c map[string]any, name string) (*time.Time, error) {
	v, ok := c[name]
	if !ok {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, tokenErr("claim %s is not a number", name)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return nil, tokenErr("claim %s is not a date in seconds since 1970", name)
	}
	sec, frac := math.Modf(f)
	t := time.Unix(int64(sec), int64(frac*1e9))
	return &t, nil
}
