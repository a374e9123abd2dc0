package pluginreg

import (
	"strings"
	"testing"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ref
	}{
		{"oci://ghcr.io/acme/audit:1.2.0", Ref{Registry: "ghcr.io", Repository: "acme/audit", Tag: "1.2.0"}},
		{"oci://localhost:5000/a/b/c:v1@sha256:" + hex64, Ref{Registry: "localhost:5000", Repository: "a/b/c", Tag: "v1", Digest: "sha256:" + hex64}},
		{"oci://127.0.0.1:5000/x@sha256:" + hex64, Ref{Registry: "127.0.0.1:5000", Repository: "x", Digest: "sha256:" + hex64}},
		{"oci://[::1]:5000/my_repo__x-y.z:latest", Ref{Registry: "[::1]:5000", Repository: "my_repo__x-y.z", Tag: "latest"}},
	} {
		got, err := ParseRef(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
		if got.Pinned() != (tc.want.Digest != "") {
			t.Errorf("%q: Pinned() = %v", tc.in, got.Pinned())
		}
	}
	for _, in := range []string{
		"", "ghcr.io/acme/audit:1", "https://ghcr.io/acme/audit:1", "oci://ghcr.io:1", "oci://ghcr.io/acme/audit",
		"oci://GHCR.io/acme/audit:1", "oci://ghcr.io/Acme/audit:1", "oci://ghcr.io/acme//audit:1", "oci://ghcr.io/acme/audit:.x",
		"oci://ghcr.io/acme/audit:1@sha512:" + hex64, "oci://ghcr.io/acme/audit@sha256:" + strings.ToUpper(hex64),
		"oci://ghcr.io/acme/audit@sha256:abc", "oci://ghcr.io/acme/audit:" + strings.Repeat("a", 129),
		"oci://user:pw@ghcr.io/acme/audit:1", "oci://ghcr.io/acme/audit:1 ", "oci://ghcr.io/" + strings.Repeat("a", 600) + ":1",
		"oci:///acme/audit:1", "oci://ghcr.io/acme/-audit:1",
	} {
		_, err := ParseRef(in)
		if err == nil {
			t.Errorf("ParseRef(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), "oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]") || len(err.Error()) > 600 {
			t.Errorf("ParseRef(%q) error %q does not say the shape briefly", in, err)
		}
	}
}

// FuzzParseRef: never panics, and what it accepts prints back to itself
// and parses to the same Ref.
func FuzzParseRef(f *testing.F) {
	f.Add("oci://ghcr.io/acme/audit:1.2.0@sha256:" + hex64)
	f.Add("oci://[::1]:5000/a/b")
	f.Add("oci://localhost:5000/a:b:c")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if r.String() != s {
			t.Fatalf("ParseRef(%q).String() = %q", s, r.String())
		}
		if r2, err := ParseRef(r.String()); err != nil || r2 != r {
			t.Fatalf("round trip of %q: %+v, %v", s, r2, err)
		}
		if r.Registry == "" || r.Repository == "" || (r.Tag == "" && r.Digest == "") {
			t.Fatalf("accepted %q as %+v", s, r)
		}
	})
}

func TestParseInfo(t *testing.T) {
	good := `{"name":"a","version":"1","description":"d","tools":[{"name":"t","description":"x","operations":["iam:ListUsers"]}],"sha256":"` + hex64 + `"}`
	if info, err := parseInfo([]byte(good)); err != nil || info.Name != "a" || info.Asked()[0] != "iam:ListUsers" {
		t.Fatalf("parseInfo(good) = %+v, %v", info, err)
	}
	for _, bad := range []string{
		``, `[]`, good + `{}`, strings.Replace(good, `"version"`, `"versio"`, 1),
		strings.Replace(good, `"sha256":"0`, `"sha256":"X`, 1), strings.Replace(good, `"name":"a"`, `"name":""`, 1),
		strings.Replace(good, `{"name":"t"`, `{"name":"","extra":1`, 1),
	} {
		if _, err := parseInfo([]byte(bad)); err == nil {
			t.Errorf("parseInfo(%q) succeeded", bad)
		}
	}
}

// FuzzInfo: the config decoder (registry input) never panics, and what it
// accepts re-encodes to something it accepts again.
func FuzzInfo(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1","description":"d","tools":[{"name":"t","description":"x","operations":["iam:ListUsers"]}],"sha256":"` + hex64 + `"}`))
	f.Add([]byte(`{"name":"a","sha256":"` + hex64 + `","unknown":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseInfo(data)
		if err != nil {
			return
		}
		if info.Name == "" || len(info.SHA256) != 64 {
			t.Fatalf("accepted %+v", info)
		}
		_ = info.Asked()
	})
}
