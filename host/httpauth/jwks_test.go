package httpauth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// TestFixedVerifier: the fuzz targets' verifier accepts a good token with
// and without kid (one key) — so FuzzJWT starts from the accepting path.
func TestFixedVerifier(t *testing.T) {
	v := fixedVerifier(t)
	claims := `{"iss":"` + fuzzIssuer + `","aud":["x","` + audience + `"],"sub":"alice","exp":1800000600}`
	for _, h := range []string{`{"alg":"EdDSA","kid":"k1","typ":"JWT","x5u":"https://evil"}`, `{"alg":"EdDSA"}`} {
		id, ref := v.Authenticate(bearer(fuzzToken(h, claims)))
		if ref != nil || id.Subject != "alice" {
			t.Fatalf("%s: %+v", h, ref)
		}
	}
	// Expired by more than the leeway at the fixed clock.
	_, ref := v.Authenticate(bearer(fuzzToken(`{"alg":"EdDSA"}`, strings.Replace(claims, "1800000600", "1799999930", 1))))
	if ref == nil || !strings.Contains(ref.Message, "expired at 2027-01-15T07:58:50Z") {
		t.Fatalf("%+v", ref)
	}
}

func TestParseJWKS(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	ed := fuzzJWKS()
	edKey := ed[strings.Index(ed, "{\"kty\""):strings.LastIndex(ed, "]")]
	offCurve := `{"kty":"EC","crv":"P-256","kid":"bad","x":"` + b64(make([]byte, 32)) + `","y":"` + b64(append(make([]byte, 31), 1)) + `"}`
	for _, c := range []struct {
		name, doc string
		keys      int
		want      string // error, or "" for success
	}{
		{"one key", ed, 1, ""},
		{"enc key ignored", `{"keys":[` + edKey + `,{"kty":"RSA","use":"enc","kid":"e","n":"AQAB","e":"AQAB"}]}`, 1, ""},
		{"oct ignored", `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"},` + edKey + `]}`, 1, ""},
		{"HS256 key ignored", `{"keys":[{"kty":"RSA","alg":"HS256","kid":"h","n":"AQAB","e":"AQAB"},` + edKey + `]}`, 1, ""},
		{"P-521 ignored", `{"keys":[{"kty":"EC","crv":"P-521","kid":"p","x":"AA","y":"AA"},` + edKey + `]}`, 1, ""},
		{"no kid with another key", `{"keys":[` + strings.Replace(edKey, `"kid":"k1",`, "", 1) + `,` + strings.Replace(edKey, `"kid":"k1"`, `"kid":"k2"`, 1) + `]}`, 1, ""},
		{"off curve", `{"keys":[` + offCurve + `]}`, 0, "the P-256 point is not on its curve"},
		{"short RSA", `{"keys":[{"kty":"RSA","kid":"r","n":"` + b64(append([]byte{0x80}, make([]byte, 127)...)) + `","e":"AQAB"}]}`, 0, "has 1024 bits"},
		{"even exponent", `{"keys":[{"kty":"RSA","kid":"r","n":"` + b64(append([]byte{0x80}, make([]byte, 255)...)) + `","e":"Ag"}]}`, 0, "odd"},
		{"ed size", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, 0, "must be 32 bytes"},
		{"padded", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA=="}]}`, 0, "not base64url"},
		{"duplicate kid", `{"keys":[` + edKey + `,` + edKey + `]}`, 0, `key id "k1" twice`},
		{"duplicate member", `{"keys":[{"kty":"OKP","kty":"RSA"}]}`, 0, "given twice"},
		{"no keys", `{"keys":[]}`, 0, "it has none"},
		{"keys not array", `{"keys":{}}`, 0, `no "keys" array`},
		{"not json", `keys`, 0, "not a JSON object"},
		{"too many", `{"keys":[` + strings.Repeat(edKey+",", maxJWKSKeys) + edKey + `]}`, 0, "more than the 100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			set, err := parseJWKS([]byte(c.doc))
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, want %q", err, c.want)
				}
				return
			}
			if err != nil || len(set.keys) != c.keys {
				t.Fatalf("got %v, %v", set, err)
			}
		})
	}
	// A kid-less token names the only key; with several keys, none.
	set, _ := parseJWKS([]byte(ed))
	if set.lookup("", false) == nil || set.lookup("k2", true) != nil || set.lookup("k1", true) == nil {
		t.Fatal("lookup")
	}
	two, _ := parseJWKS([]byte(`{"keys":[` + edKey + `,` + strings.Replace(edKey, `"kid":"k1"`, `"kid":"k2"`, 1) + `]}`))
	if two.lookup("", false) != nil {
		t.Fatal(fmt.Sprint("a kid-less token chose among ", len(two.keys), " keys"))
	}
}
