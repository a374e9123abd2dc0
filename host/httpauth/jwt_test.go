package httpauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/httpauth/authtest"
)

const audience = "https://mcp.example.com/mcp"

// clock is a settable clock for the verifier.
type clock struct{ ns atomic.Int64 }

func newClock() *clock                   { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func bearer(tok string) *http.Request    { return request("Bearer " + tok) }
func claims(kv ...any) map[string]any    { return pairs(kv) }
func pairs(kv []any) map[string]any {
	m := map[string]any{"sub": "alice", "aud": audience}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func newVerifier(t *testing.T, is *authtest.Issuer, c *clock) *JWTVerifier {
	t.Helper()
	v, err := NewJWTVerifier(context.Background(), OAuthOptions{
		Issuer:      is.URL(),
		Audience:    []string{audience},
		ResourceURL: audience,
		MetadataURL: "https://mcp.example.com/.well-known/oauth-protected-resource",
		Now:         c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWTAccepts(t *testing.T) {
	is := authtest.NewIssuer(t)
	v := newVerifier(t, is, newClock())
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"} {
		tok := is.SignWith(alg, nil, claims("groups", []string{"sec-team"}))
		id, ref := v.Authenticate(bearer(tok))
		if ref != nil {
			t.Fatalf("%s: %+v", alg, ref)
		}
		if id.Subject != "alice" || id.Via != "oauth" || id.Claims["groups"].([]any)[0] != "sec-team" {
			t.Fatalf("%s: %+v", alg, id)
		}
		if _, ok := id.Claims["exp"].(json.Number); !ok {
			t.Fatalf("exp decoded as %T", id.Claims["exp"])
		}
	}
	// aud as an array with one of ours; exp at the edge of the leeway.
	if _, ref := v.Authenticate(bearer(is.Sign(claims("aud", []string{"other", audience}, "exp", time.Now().Add(-50*time.Second).Unix())))); ref != nil {
		t.Fatal(ref)
	}
	if got := v.Metadata(); got.Resource != audience || got.AuthorizationServers[0] != is.URL() || got.BearerMethodsSupported[0] != "header" || got.ResourceName != "iam-mcp-server" {
		t.Fatalf("%+v", got)
	}
}

func TestJWTRefusals(t *testing.T) {
	is := authtest.NewIssuer(t)
	v := newVerifier(t, is, newClock())
	now := time.Now()
	b64 := base64.RawURLEncoding.EncodeToString
	good := is.Sign(claims())
	parts := strings.Split(good, ".")
	for _, c := range []struct{ name, tok, want string }{
		{"expired", is.Sign(claims("exp", now.Add(-2*time.Minute).Unix())), "expired at "},
		{"no exp", is.Sign(claims("exp", nil)), "has no exp"},
		{"exp a string", is.Sign(claims("exp", "tomorrow")), "claim exp is not a number"},
		{"nbf future", is.Sign(claims("nbf", now.Add(5*time.Minute).Unix())), "not valid before"},
		{"iat future", is.Sign(claims("iat", now.Add(5*time.Minute).Unix())), "issued in the future"},
		{"wrong audience", is.Sign(claims("aud", "https://other.example")), `audience "https://other.example", not this server's`},
		{"no audience", is.Sign(claims("aud", nil)), "audience none"},
		{"wrong issuer", is.Sign(claims("iss", "https://evil.example")), `issuer "https://evil.example"`},
		{"issuer with slash", is.Sign(claims("iss", is.URL()+"/")), "not this server's"},
		{"no sub", is.Sign(claims("sub", nil)), "has no sub"},
		{"long sub", is.Sign(claims("sub", strings.Repeat("s", 257))), "has no sub of 1 to 256"},
		{"control sub", is.Sign(claims("sub", "ali\x1bce")), "control characters"},
		{"alg none", is.SignWith("none", nil, claims()), "alg \"none\""},
		{"HS256 with the public key", is.SignWith("HS256", nil, claims()), "alg \"HS256\""},
		{"RS256 header on the EC key", is.SignWith("ES256", map[string]any{"alg": "RS256"}, claims()), "key \"ec-256\" is for EC P-256"},
		{"ES384 header on the P-256 key", is.SignWith("ES256", map[string]any{"alg": "ES384"}, claims()), "is for EC P-256"},
		{"EdDSA header on the RSA key", is.SignWith("RS256", map[string]any{"alg": "EdDSA"}, claims()), "is for RSA"},
		{"crit", is.SignWith("RS256", map[string]any{"crit": []string{"exp"}}, claims()), "crit"},
		{"unknown kid", is.SignWith("RS256", map[string]any{"kid": "nope"}, claims()), `key id "nope", which is not among`},
		{"no kid, several keys", is.SignWith("RS256", map[string]any{"kid": nil}, claims()), "names no key id"},
		{"kid a number", is.SignWith("RS256", map[string]any{"kid": 7}, claims()), "kid is not a string"},
		{"tampered claims", parts[0] + "." + b64([]byte(`{"sub":"mallory","aud":"`+audience+`"}`)) + "." + parts[2], "signature does not verify"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + b64([]byte("x")), "signature does not verify"},
		{"two parts", parts[0] + "." + parts[1], "three parts"},
		{"four parts", good + ".x", "three parts"},
		{"padding", parts[0] + "." + parts[1] + "." + parts[2] + "=", "part 3 is not base64url"},
		{"header not json", b64([]byte("{nope")) + "." + parts[1] + "." + parts[2], "header is not a JSON object"},
		{"duplicate header key", b64([]byte(`{"alg":"RS256","alg":"none"}`)) + "." + parts[1] + "." + parts[2], "given twice"},
		{"duplicate claim", authtest.SignRaw("RS256", is.RSAKey(), []byte(`{"alg":"RS256","kid":"`+is.KeyID()+`"}`),
			[]byte(fmt.Sprintf(`{"sub":"alice","sub":"root","aud":%q,"iss":%q,"exp":%d}`, audience, is.URL(), now.Add(time.Hour).Unix()))), "given twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, ref := v.Authenticate(bearer(c.tok))
			if id != nil || ref == nil {
				t.Fatalf("accepted: %+v", id)
			}
			if ref.Status != 401 || ref.Code != "invalid_token" || !strings.Contains(ref.Message, c.want) {
				t.Fatalf("got %+v, want %q", ref, c.want)
			}
			if strings.Contains(ref.Message, parts[2][:16]) || len(ref.Message) > 400 {
				t.Fatalf("message echoes the token or is long: %q", ref.Message)
			}
			ch := v.Challenge(ref)
			if !strings.Contains(ch, `error="invalid_token"`) || !strings.HasSuffix(ch, `, resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`) {
				t.Fatal(ch)
			}
		})
	}
	// Without credentials: a challenge with no error, still naming the
	// metadata (the MCP authorization spec's 401).
	_, ref := v.Authenticate(request())
	if ref.Status != 401 || ref.Code != "" {
		t.Fatalf("%+v", ref)
	}
	if ch := v.Challenge(ref); ch != `Bearer realm="iam-mcp-server", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"` {
		t.Fatal(ch)
	}
	// An oversized token is refused before it is parsed.
	if _, ref := v.Authenticate(bearer(strings.Repeat("a", MaxBearerBytes+1))); ref == nil || ref.Status != 400 {
		t.Fatalf("%+v", ref)
	}
}

func TestJWTRotationAndRefetchLimit(t *testing.T) {
	is := authtest.NewIssuer(t)
	c := newClock()
	v := newVerifier(t, is, c)
	old := is.Sign(claims())
	if _, ref := v.Authenticate(bearer(old)); ref != nil {
		t.Fatal(ref)
	}
	if n := is.JWKSFetches(); n != 1 {
		t.Fatalf("%d fetches at start", n)
	}

	// A flood of tokens naming unknown key ids, concurrently: one
	// refetch at most in 30 s, whatever their number.
	c.Advance(time.Minute)
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := is.SignWith("ES256", map[string]any{"kid": fmt.Sprintf("random-%d", i)}, claims())
			if _, ref := v.Authenticate(bearer(tok)); ref == nil || !strings.Contains(ref.Message, "not among the issuer's keys") {
				t.Errorf("unknown kid: %+v", ref)
			}
		}()
		if i%100 == 99 {
			wg.Wait() // bounds the goroutines on a small machine
		}
	}
	wg.Wait()
	if n := is.JWKSFetches(); n != 2 {
		t.Fatalf("%d fetches after 1000 unknown kids, want 2 (start, one refetch)", n)
	}

	// Rotation: the new key's tokens verify once the limit has passed,
	// and the old key's stop verifying.
	is.Rotate()
	rotated := is.Sign(claims())
	if _, ref := v.Authenticate(bearer(rotated)); ref == nil {
		t.Fatal("a new key verified within 30 s of the last fetch: the limit is not applied")
	}
	c.Advance(31 * time.Second)
	if _, ref := v.Authenticate(bearer(rotated)); ref != nil {
		t.Fatalf("rotated key not picked up: %+v", ref)
	}
	if _, ref := v.Authenticate(bearer(old)); ref == nil || !strings.Contains(ref.Message, "not among the issuer's keys") {
		t.Fatalf("the removed key still verifies: %+v", ref)
	}
	if n := is.JWKSFetches(); n != 3 {
		t.Fatalf("%d fetches", n)
	}
}

func TestJWTBackgroundRefresh(t *testing.T) {
	is := authtest.NewIssuer(t)
	c := newClock()
	v := newVerifier(t, is, c)
	tok := is.SignES256(claims())
	c.Advance(11 * time.Minute)
	// A known key older than ten minutes still verifies now, and starts a
	// refresh in the background.
	if _, ref := v.Authenticate(bearer(tok)); ref != nil {
		t.Fatal(ref)
	}
	// This waits for the background fetch; the deadline only guards a
	// hang.
	deadline := time.Now().Add(2 * time.Minute)
	for is.JWKSFetches() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewJWTVerifierErrors(t *testing.T) {
	is := authtest.NewIssuer(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opts OAuthOptions
		want string
	}{
		{"http issuer", OAuthOptions{Issuer: "http://auth.example.com", Audience: []string{"a"}}, "must be an https URL"},
		{"not a URL", OAuthOptions{Issuer: "auth.example.com", Audience: []string{"a"}}, "not an absolute URL"},
		{"no audience", OAuthOptions{Issuer: is.URL()}, "audience is empty"},
		{"unreachable", OAuthOptions{Issuer: "http://127.0.0.1:1", Audience: []string{"a"}}, "cannot find the JWKS of issuer http://127.0.0.1:1"},
		{"issuer mismatch", OAuthOptions{Issuer: is.URL() + "/tenant", Audience: []string{"a"}}, "cannot find the JWKS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewJWTVerifier(ctx, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// A JWKS with no usable key fails the start, saying why.
	is.SetJWKS([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}]}`))
	_, err := NewJWTVerifier(ctx, OAuthOptions{Issuer: is.URL(), Audience: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), "has 17 bits") {
		t.Fatalf("got %v", err)
	}
	// A document past the cap is refused, not read whole.
	is.SetJWKS([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", maxDocumentBytes) + `"}`))
	_, err = NewJWTVerifier(ctx, OAuthOptions{Issuer: is.URL(), Audience: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Fatalf("got %v", err)
	}
}

// TestDiscoveryPathAndRedirects: an issuer with a path is found at the
// RFC 8414 location (well-known segment before the path) or the OpenID
// one; a redirect to another host is not followed.
func TestDiscoveryPathAndRedirects(t *testing.T) {
	is := authtest.NewIssuer(t)
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server/tenant", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": is.JWKSURL()})
	})
	mux.HandleFunc("GET /other/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": strings.TrimSuffix(issuer, "/tenant") + "/other", "jwks_uri": is.JWKSURL()})
	})
	mux.HandleFunc("GET /away/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, is.URL()+"/.well-known/oauth-authorization-server", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer = srv.URL + "/tenant"
	for _, iss := range []string{srv.URL + "/tenant", srv.URL + "/other"} {
		v, err := NewJWTVerifier(context.Background(), OAuthOptions{Issuer: iss, Audience: []string{audience}})
		if err != nil {
			t.Fatalf("%s: %v", iss, err)
		}
		if v.opts.JWKSURL != is.JWKSURL() {
			t.Fatal(v.opts.JWKSURL)
		}
	}
	// srv and is are both 127.0.0.1 but on other ports: another host.
	_, err := NewJWTVerifier(context.Background(), OAuthOptions{Issuer: srv.URL + "/away", Audience: []string{audience}})
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect") {
		t.Fatalf("got %v", err)
	}
}
