package httpauth

import (
	"crypto/ed25519"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets' fixed key: an Ed25519 key from a constant seed, so
// that the committed corpus holds tokens that verify (and the fuzzer
// starts from the accepting path), and a constant clock for their exp.
var (
	fuzzKey = ed25519.NewKeyFromSeed([]byte("iam-mcp-server fuzz key seed 32b"))
	fuzzNow = time.Unix(1_800_000_000, 0)
)

const fuzzIssuer = "https://issuer.example.com"

func fuzzJWKS() string {
	x := base64.RawURLEncoding.EncodeToString(fuzzKey.Public().(ed25519.PublicKey))
	return `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","use":"sig","x":"` + x + `"}]}`
}

// fuzzToken signs header and claims with the fixed key.
func fuzzToken(header, claims string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	in := b64([]byte(header)) + "." + b64([]byte(claims))
	return in + "." + b64(ed25519.Sign(fuzzKey, []byte(in)))
}

// fixedVerifier is a JWTVerifier over a fixed key set that never fetches
// (its last attempt is always now, so a refetch is never due).
func fixedVerifier(t testing.TB) *JWTVerifier {
	set, err := parseJWKS([]byte(fuzzJWKS()))
	if err != nil {
		t.Fatal(err)
	}
	return &JWTVerifier{
		opts:     OAuthOptions{Issuer: fuzzIssuer, Audience: []string{audience}, JWKSURL: "https://issuer.example.com/jwks"},
		now:      func() time.Time { return fuzzNow },
		log:      slog.New(slog.DiscardHandler),
		audience: map[string]bool{audience: true},
		keys:     set, fetchedAt: fuzzNow, lastAttempt: fuzzNow,
	}
}

func FuzzTokenFile(f *testing.F) {
	f.Add([]byte(validTokenFile()))
	f.Add([]byte("alice " + strings.Repeat("a", 32) + "\nalice b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := ParseTokenFile(data)
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("long error: %d bytes", len(err.Error()))
			}
			return
		}
		if len(tf.entries) == 0 {
			t.Fatal("accepted a file without tokens")
		}
		for _, s := range tf.Subjects() {
			if !validSubject(s) {
				t.Fatalf("accepted subject %q", s)
			}
		}
		// Every token of an accepted file authenticates as its subject.
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if len(fields) != 2 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			id, ref := tf.Authenticate(request("Bearer " + fields[1]))
			if ref != nil || id.Subject != fields[0] {
				t.Fatalf("token of %q: %+v %+v", fields[0], id, ref)
			}
		}
	})
}

func FuzzJWT(f *testing.F) {
	good := `{"iss":"` + fuzzIssuer + `","aud":"` + audience + `","sub":"alice","exp":1800000600,"iat":1800000000}`
	f.Add("Bearer " + fuzzToken(`{"alg":"EdDSA","kid":"k1"}`, good))
	f.Add("Bearer " + fuzzToken(`{"alg":"EdDSA"}`, good))
	f.Add("bearer " + fuzzToken(`{"alg":"none","kid":"k1"}`, good))
	f.Add("Bearer " + fuzzToken(`{"alg":"EdDSA","kid":"k1","crit":["x"]}`, good))
	f.Add("Bearer " + fuzzToken(`{"alg":"EdDSA","kid":"k1"}`, `{"sub":"a","sub":"b"}`))
	f.Add("Bearer a.b.c")
	v := fixedVerifier(f)
	f.Fuzz(func(t *testing.T, auth string) {
		r, _ := http.NewRequest("POST", "http://x/mcp", nil)
		r.Header["Authorization"] = []string{auth}
		id, ref := v.Authenticate(r)
		if (id == nil) == (ref == nil) {
			t.Fatalf("id %+v and refusal %+v", id, ref)
		}
		if ref != nil {
			if len(ref.Message) > 600 || ref.Status != 400 && ref.Status != 401 {
				t.Fatalf("refusal %d, %d bytes", ref.Status, len(ref.Message))
			}
			ch := v.Challenge(ref)
			for i := 0; i < len(ch); i++ {
				if ch[i] < 0x20 || ch[i] >= 0x7f {
					t.Fatalf("challenge has byte %#x", ch[i])
				}
			}
			return
		}
		if id.Subject == "" || !utf8.ValidString(id.Subject) || id.Via != "oauth" {
			t.Fatalf("identity %+v", id)
		}
	})
}

func FuzzJWKS(f *testing.F) {
	f.Add([]byte(fuzzJWKS()))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"},{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"a"},{"kty":"RSA","kid":"a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := parseJWKS(data)
		if err != nil {
			return
		}
		if len(set.keys) == 0 {
			t.Fatal("a set with no key accepted")
		}
		for _, k := range set.keys {
			if k.pub == nil || k.kty != "RSA" && k.kty != "EC" && k.kty != "OKP" {
				t.Fatalf("key %+v", k)
			}
			if len(set.keys) > 1 && k.kid == "" {
				t.Fatal("a key without kid among several")
			}
		}
	})
}

func FuzzRules(f *testing.F) {
	f.Add([]byte(rulesExample))
	f.Add([]byte("rules:\n  - subject: a\n    tools: [get_user]\nunmatched: deny\n"))
	f.Add([]byte("default: {accounts: [\"111111111111\"]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules(data)
		if err != nil {
			return
		}
		for _, n := range r.All() {
			if n.Why == "" || !n.ReadOnly && n.Toolsets == nil && n.Tools == nil && n.Accounts == nil {
				t.Fatalf("narrowing %+v", n)
			}
		}
		for _, id := range []*Identity{{Subject: "alice"}, {Subject: "bob", Claims: map[string]any{"groups": []any{"sec-team"}}}} {
			got, ref := r.For(id)
			if ref != nil && (got != nil || ref.Status != http.StatusForbidden) {
				t.Fatalf("%+v %+v", got, ref)
			}
		}
	})
}
