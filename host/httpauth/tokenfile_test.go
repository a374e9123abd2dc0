package httpauth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	aliceTok = "alice-token-0123456789abcdefghijklmnopqrstuvwxyz"
	bobTok   = "bob-token-0123456789abcdefghijklmnopqrstuvwxyz+/=="
)

func validTokenFile() string {
	return "# operators\n\nalice " + aliceTok + "\r\n  bob\t" + bobTok + "  \n"
}

func TestParseTokenFile(t *testing.T) {
	tf, err := ParseTokenFile([]byte(validTokenFile()))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tf.Subjects(), ","); got != "alice,bob" {
		t.Fatalf("subjects %s", got)
	}
}

func TestParseTokenFileRefusals(t *testing.T) {
	long := strings.Repeat("x", 40)
	for _, c := range []struct{ name, file, want string }{
		{"one field", "alice\n", "line 1: has 1 fields"},
		{"three fields", "# c\nalice " + long + " extra\n", "line 2: has 3 fields"},
		{"duplicate subject", "alice " + long + "\nalice " + long + "y\n", "line 2: subject alice is given again (first on line 1)"},
		{"duplicate token", "alice " + long + "\nbob " + long + "\n", "line 2: the token is the same as line 1's"},
		{"short token", "alice shortsecret\n", "fewer than 32"},
		{"long token", "alice " + strings.Repeat("y", 513) + "\n", "more than 512"},
		{"token charset", "alice " + long + "!\n", "cannot carry"},
		{"bad subject", "al/ice " + long + "\n", "the subject must be"},
		{"long subject", strings.Repeat("a", 65) + " " + long + "\n", "the subject must be"},
		{"empty", "# nothing\n\n", "has no tokens"},
		{"not utf8", "alice \xff" + long + "\n", "not UTF-8"},
		{"too big", strings.Repeat("#", MaxTokenFileBytes+1), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTokenFile([]byte(c.file))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), long) || strings.Contains(err.Error(), "shortsecret") {
				t.Fatalf("the error echoes a token: %v", err)
			}
		})
	}
}

func TestLoadTokenFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	if err := os.WriteFile(path, []byte(validTokenFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	_, err := LoadTokenFile(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Fatalf("a 0644 token file: got %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tf.Subjects()) != 2 {
		t.Fatal(tf.Subjects())
	}
	if _, err := LoadTokenFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a directory: %v", err)
	}
}

func request(auth ...string) *http.Request {
	r := httptest.NewRequest("POST", "/mcp", nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	return r
}

func TestTokenFileAuthenticate(t *testing.T) {
	tf, err := ParseTokenFile([]byte(validTokenFile()))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		auth    string
		subject string
	}{
		{"Bearer " + aliceTok, "alice"},
		{"bearer " + bobTok, "bob"},
		{"BEARER " + aliceTok, "alice"},
	} {
		id, ref := tf.Authenticate(request(c.auth))
		if ref != nil || id.Subject != c.subject || id.Via != "token" || id.Claims != nil {
			t.Errorf("%.12s…: %+v %+v", c.auth, id, ref)
		}
	}
	for _, c := range []struct {
		name   string
		auth   []string
		status int
		code   string
	}{
		{"missing", nil, 401, ""},
		{"two headers", []string{"Bearer " + aliceTok, "Bearer " + aliceTok}, 400, "invalid_request"},
		{"basic", []string{"Basic YWxpY2U6cHc="}, 401, ""}, // another scheme: no credentials of ours (RFC 6750 §3.1)
		{"two spaces", []string{"Bearer  " + aliceTok}, 400, "invalid_request"},
		{"no token", []string{"Bearer"}, 400, "invalid_request"},
		{"bad chars", []string{"Bearer " + aliceTok + "!"}, 400, "invalid_request"},
		{"trailing space", []string{"Bearer " + aliceTok + " "}, 400, "invalid_request"},
		{"huge", []string{"Bearer " + strings.Repeat("a", MaxBearerBytes+1)}, 400, "invalid_request"},
		{"unknown", []string{"Bearer " + strings.Repeat("z", 40)}, 401, "invalid_token"},
		{"prefix of a token", []string{"Bearer " + aliceTok[:40]}, 401, "invalid_token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, ref := tf.Authenticate(request(c.auth...))
			if id != nil || ref == nil || ref.Status != c.status || ref.Code != c.code {
				t.Fatalf("got %+v %+v", id, ref)
			}
			if strings.Contains(ref.Message, aliceTok[:20]) || strings.Contains(ref.Message, "zzzzzzzz") || len(ref.Message) > 300 {
				t.Fatalf("the message echoes the token or is long: %q", ref.Message)
			}
			ch := tf.Challenge(ref)
			if !strings.HasPrefix(ch, `Bearer realm="iam-mcp-server"`) {
				t.Fatal(ch)
			}
			if (c.code == "") != !strings.Contains(ch, "error=") {
				t.Fatalf("challenge %s for code %q", ch, c.code)
			}
			if c.code != "" && !strings.Contains(ch, `error="`+c.code+`", error_description="`) {
				t.Fatal(ch)
			}
		})
	}
}

func TestChallengeEscaping(t *testing.T) {
	got := challenge(&Refusal{Code: "invalid_token", Message: "a \"quoted\" \\ thing…\x01é"}, `https://x/a"b`)
	want := `Bearer realm="iam-mcp-server", error="invalid_token", error_description="a 'quoted' / thing...??", resource_metadata="https://x/a\"b"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
