package iamname

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want bool
	}{
		{"alice", UserNameMax, true},
		{"a+b=c,d.e@f_g-h", UserNameMax, true},
		{strings.Repeat("n", 64), UserNameMax, true},
		{strings.Repeat("n", 65), UserNameMax, false},
		{strings.Repeat("n", 65), GroupNameMax, true},
		{"", UserNameMax, false},
		{"has space", UserNameMax, false},
		{"a/b", UserNameMax, false},
		{"ünï", UserNameMax, false}, // \w is ASCII only, as in IAM
		{"a\n", UserNameMax, false},
	} {
		if got := Name(c.s, c.max); got != c.want {
			t.Errorf("Name(%q, %d) = %v, want %v", c.s, c.max, got, c.want)
		}
	}
}

func TestPath(t *testing.T) {
	for _, c := range []struct {
		s              string
		path, prefixOK bool
	}{
		{"/", true, true},
		{"/a/", true, true},
		{"/a/b/", true, true},
		{"///", true, true},
		{"//", false, true},
		{"/a", false, true},
		{"a/", false, false},
		{"", false, false},
		{"/a b/", false, false},
		{"/ä/", false, false},
		{"/a\x7f/", false, true}, // DEL: in a prefix only, as IAM documents
		{"/" + strings.Repeat("p", 510) + "/", true, true},
		{"/" + strings.Repeat("p", 511) + "/", false, false},
	} {
		if got := Path(c.s); got != c.path {
			t.Errorf("Path(%q) = %v, want %v", c.s, got, c.path)
		}
		if got := PathPrefix(c.s); got != c.prefixOK {
			t.Errorf("PathPrefix(%q) = %v, want %v", c.s, got, c.prefixOK)
		}
	}
}

func TestParseARN(t *testing.T) {
	for _, c := range []struct {
		s    string
		want ARN // zero: refused
	}{
		{"arn:aws:iam::aws:policy/ReadOnlyAccess", ARN{"aws", "aws", "policy", "/", "ReadOnlyAccess"}},
		{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", ARN{"aws", "aws", "policy", "/job-function/", "ViewOnlyAccess"}},
		{"arn:aws-us-gov:iam::123456789012:policy/a/b/P", ARN{"aws-us-gov", "123456789012", "policy", "/a/b/", "P"}},
		{"arn:aws:iam::123456789012:user/alice", ARN{"aws", "123456789012", "user", "/", "alice"}},
		{"arn:aws:iam::123456789012:role///r", ARN{"aws", "123456789012", "role", "///", "r"}},
		{"arn:aws:iam::123456789012:group/g", ARN{"aws", "123456789012", "group", "/", "g"}},
		{"arn:aws:iam::123456789012:group/" + strings.Repeat("g", 128), ARN{"aws", "123456789012", "group", "/", strings.Repeat("g", 128)}},
		// What no entity can have as its ARN.
		{"arn:aws:iam::123456789012:policy/a b/P", ARN{}}, // a path with a space
		{"arn:aws:iam::123456789012:policy/ä/P", ARN{}},   // a path beyond ASCII
		{"arn:aws:iam::123456789012:user//bob", ARN{}},    // the path "//"
		{"arn:aws:iam::123456789012:policy/", ARN{}},      // no name
		{"arn:aws:iam::123456789012:policy/a/b c", ARN{}}, // a name with a space
		{"arn:aws:iam::aws:user/alice", ARN{}},            // only policies are AWS's
		{"arn:aws:iam::12345678901:user/alice", ARN{}},    // 11 digits
		{"arn:aws:iam::123456789012:root", ARN{}},
		{"arn:aws:iam::123456789012:instance-profile/p", ARN{}},
		{"arn:aws:s3:::bucket/key/of/some/length", ARN{}},
		{"arn:aws:iam::aws:policy/" + strings.Repeat("z", ARNMax), ARN{}},
		{"arn:aws:iam::123456789012:user/" + strings.Repeat("u", 65), ARN{}},         // a name too long for a user
		{"arn:aws:iam::123456789012:user/" + strings.Repeat("p/", 256) + "u", ARN{}}, // a path of 513
		{" arn:aws:iam::aws:policy/ReadOnlyAccess", ARN{}},
	} {
		got, ok := ParseARN(c.s)
		if ok != (c.want != ARN{}) || got != c.want {
			t.Errorf("ParseARN(%q) = %+v, %v; want %+v", c.s, got, ok, c.want)
		}
		if ok && got.String() != c.s {
			t.Errorf("ParseARN(%q).String() = %q", c.s, got.String())
		}
		if PolicyARN(c.s) != (ok && got.Type == "policy") || PrincipalARN(c.s) != (ok && got.Type != "policy") {
			t.Errorf("PolicyARN/PrincipalARN(%q) disagree with ParseARN", c.s)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	for _, c := range []struct {
		f    func(string) bool
		what string
		s    string
		want bool
	}{
		{VersionID, "VersionID", "v1", true},
		{VersionID, "VersionID", "v12.beta-1", true},
		{VersionID, "VersionID", "v0", false},
		{VersionID, "VersionID", "1", false},
		{SerialNumber, "SerialNumber", "arn:aws:iam::123456789012:mfa/alice", true},
		{SerialNumber, "SerialNumber", "GAHT12345678", true},
		{SerialNumber, "SerialNumber", "short", false},
		{SerialNumber, "SerialNumber", "has a space here", false},
		{AccessKeyID, "AccessKeyID", "AKIAIOSFODNN7EXAMPLE", true},
		{AccessKeyID, "AccessKeyID", "AKIA_bad-key-id-xxxx", false},
		{AccessKeyID, "AccessKeyID", "AKIA", false},
		{AccountID, "AccountID", "123456789012", true},
		{AccountID, "AccountID", "12345678901a", false},
		{RootARN, "RootARN", "arn:aws:iam::123456789012:root", true},
		{RootARN, "RootARN", "arn:aws:iam::123456789012:user/root", false},
	} {
		if got := c.f(c.s); got != c.want {
			t.Errorf("%s(%q) = %v, want %v", c.what, c.s, got, c.want)
		}
	}
}

// FuzzNames holds every validator to an oracle written without regular
// expressions, straight from the words of IAM's reference, so that a
// pattern compiled wrong (the \u escapes) or an edge case of one (an empty
// path segment, a byte beyond ASCII) shows up as a disagreement.
func FuzzNames(f *testing.F) {
	for _, s := range []string{
		"alice", "/", "/a/", "//", "///", "/a b/", "/ä/", "/\x7f", "v1", "v1.x",
		"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/a b/P",
		"arn:aws:iam::123456789012:user//bob", "arn:aws:iam::123456789012:role/a/b/r",
		"arn:aws:iam::123456789012:root", "AKIAIOSFODNN7EXAMPLE", "arn:aws:iam::123456789012:mfa/dev",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Name(s, UserNameMax), oracleName(s, UserNameMax); got != want {
			t.Errorf("Name(%q) = %v, oracle %v", s, got, want)
		}
		if got, want := Path(s), oraclePath(s); got != want {
			t.Errorf("Path(%q) = %v, oracle %v", s, got, want)
		}
		if got, want := PathPrefix(s), len(s) >= 1 && len(s) <= PathMax && s[0] == '/' && allBytes(s[1:], 0x21, 0x7f); got != want {
			t.Errorf("PathPrefix(%q) = %v, oracle %v", s, got, want)
		}
		if got, want := SerialNumber(s), len(s) >= SerialNumberMin && len(s) <= SerialNumberMax && allIn(s, wordChars+"+=/:,.@-"); got != want {
			t.Errorf("SerialNumber(%q) = %v, oracle %v", s, got, want)
		}
		if got, want := AccessKeyID(s), len(s) >= AccessKeyIDMin && len(s) <= AccessKeyIDMax && allIn(s, wordChars); got != want {
			t.Errorf("AccessKeyID(%q) = %v, oracle %v", s, got, want)
		}
		a, ok := ParseARN(s)
		if want := oracleARN(s); ok != want {
			t.Errorf("ParseARN(%q) ok = %v, oracle %v", s, ok, want)
		}
		if ok && a.String() != s {
			t.Errorf("ParseARN(%q) = %+v, which reads back as %q", s, a, a.String())
		}
	})
}

const wordChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

func allIn(s, set string) bool {
	for _, r := range s {
		if !strings.ContainsRune(set, r) {
			return false
		}
	}
	return true
}

func allBytes(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			return false
		}
	}
	return true
}

// oracleName: "1 to max characters: letters, digits and _+=,.@-".
func oracleName(s string, max int) bool {
	return s != "" && utf8.RuneCountInString(s) <= max && allIn(s, wordChars+"+=,.@-")
}

// oraclePath: "/" alone, or "/", at least one printable ASCII character
// other than space, and "/"; 512 characters at most.
func oraclePath(s string) bool {
	if s == "/" {
		return true
	}
	return len(s) >= 3 && len(s) <= PathMax && s[0] == '/' && s[len(s)-1] == '/' && allBytes(s, 0x21, 0x7e)
}

// oracleARN: "arn:" partition ":iam::" account ":" type path name, where
// the path is what follows the type up to and including the last "/".
func oracleARN(s string) bool {
	if len(s) < ARNMin || len(s) > ARNMax {
		return false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" {
		return false
	}
	partition, account, resource := parts[1], parts[4], parts[5]
	if !strings.HasPrefix(partition, "aws") || !allIn(partition[3:], "abcdefghijklmnopqrstuvwxyz-") {
		return false
	}
	slash := strings.IndexByte(resource, '/')
	last := strings.LastIndexByte(resource, '/')
	if slash < 0 {
		return false
	}
	typ, path, name := resource[:slash], resource[slash:last+1], resource[last+1:]
	switch {
	case typ != "user" && typ != "group" && typ != "role" && typ != "policy":
		return false
	case account == "aws" && typ != "policy", account != "aws" && !AccountID(account):
		return false
	}
	return oraclePath(path) && oracleName(name, map[string]int{"user": 64, "group": 128, "role": 64, "policy": 128}[typ])
}
