package httpauth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
)

// MaxTokenFileBytes bounds the token file: thousands of lines fit; a file
// larger is not a token file.
const MaxTokenFileBytes = 1 << 20

// MaxBearerBytes bounds an Authorization header's credentials, checked
// before anything else reads them. A JWT with a few dozen claims is a
// couple of kilobytes; 16 KiB leaves room and bounds the work.
const MaxBearerBytes = 16 << 10

const (
	minTokenLen   = 32
	maxTokenLen   = 512
	maxSubjectLen = 64
	realm         = "iam-mcp-server"
)

// TokenFile is the operator's bearer tokens, parsed: an Authenticator
// whose identities are the file's subjects.
type TokenFile struct {
	entries []tokenEntry
}

type tokenEntry struct {
	subject string
	digest  [sha256.Size]byte
}

// LoadTokenFile reads the token file at path: a regular file of at most
// MaxTokenFileBytes that no group or other user may read or write (as ssh
// treats a private key), then ParseTokenFile.
func LoadTokenFile(path string) (*TokenFile, error) {
	// The mode is checked on the path before reading: a file that others
	// can read has leaked already, whatever this server does with it, and
	// the operator must hear so rather than have it silently used.
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read the token file: %w", err)
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("the token file %s is open to other users (mode %04o); its tokens are secrets: chmod 600 %s, and replace the tokens if others may have read them", path, fi.Mode().Perm(), path)
		}
	}
	data, err := readfile.Regular(path, "token file", MaxTokenFileBytes)
	if err != nil {
		return nil, err
	}
	tf, err := ParseTokenFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tf, nil
}

// ParseTokenFile reads a token file: UTF-8 text; blank lines and lines
// starting with '#' are skipped; every other line is "SUBJECT TOKEN"
// separated by spaces or tabs. Errors name the line, never the token.
func ParseTokenFile(data []byte) (*TokenFile, error) {
	if len(data) > MaxTokenFileBytes {
		return nil, fmt.Errorf("the token file is larger than %d bytes; it cannot be one", MaxTokenFileBytes)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("the token file is not UTF-8 text")
	}
	tf := &TokenFile{}
	subjects := map[string]int{}
	digests := map[[sha256.Size]byte]int{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		s := strings.TrimSpace(strings.TrimSuffix(string(line), "\r"))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fields := strings.Fields(s)
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: has %d fields; write SUBJECT TOKEN, separated by a space", n, len(fields))
		}
		subject, token := fields[0], fields[1]
		if !validSubject(subject) {
			return nil, fmt.Errorf("line %d: the subject must be 1 to %d of the characters A-Z a-z 0-9 . _ @ + -", n, maxSubjectLen)
		}
		if err := checkFileToken(token); err != nil {
			return nil, fmt.Errorf("line %d (subject %s): %w", n, subject, err)
		}
		if first, ok := subjects[subject]; ok {
			return nil, fmt.Errorf("line %d: subject %s is given again (first on line %d); give each subject one line", n, subject, first)
		}
		digest := sha256.Sum256([]byte(token))
		if first, ok := digests[digest]; ok {
			return nil, fmt.Errorf("line %d: the token is the same as line %d's; every subject needs its own token", n, first)
		}
		subjects[subject], digests[digest] = n, n
		tf.entries = append(tf.entries, tokenEntry{subject: subject, digest: digest})
	}
	if len(tf.entries) == 0 {
		return nil, errors.New("the token file has no tokens; add a line SUBJECT TOKEN (a token of at least 32 characters, e.g. from openssl rand -base64 32)")
	}
	return tf, nil
}

func validSubject(s string) bool {
	if len(s) == 0 || len(s) > maxSubjectLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._@+-", c) >= 0) {
			return false
		}
	}
	return true
}

// checkFileToken checks a token from the file. Beyond "printable ASCII,
// no spaces", it must be a b64token: a token with another character could
// never arrive in a Bearer header, and would silently admit no one.
func checkFileToken(tok string) error {
	switch {
	case len(tok) < minTokenLen:
		return fmt.Errorf("the token has %d characters, fewer than %d; use a random one (openssl rand -base64 32)", len(tok), minTokenLen)
	case len(tok) > maxTokenLen:
		return fmt.Errorf("the token has %d characters, more than %d", len(tok), maxTokenLen)
	case !b64token(tok):
		return errors.New("the token has a character a Bearer header cannot carry; use letters, digits and - . _ ~ + / (and = at the end only)")
	}
	return nil
}

// b64token reports whether s is RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func b64token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// Authenticate compares the request's bearer token with every token of
// the file.
//
// The comparison has no early exit by construction: the presented token's
// SHA-256 digest is compared with every entry's digest with
// subtle.ConstantTimeCompare, and the match is selected with
// subtle.ConstantTimeSelect, so the time taken does not depend on which
// entry matched, on whether one did, or on how long a prefix was right.
// Comparing digests rather than the tokens also makes the time
// independent of the tokens' lengths.
func (tf *TokenFile) Authenticate(r *http.Request) (*Identity, *Refusal) {
	tok, ref := bearerToken(r)
	if ref != nil {
		return nil, ref
	}
	digest := sha256.Sum256([]byte(tok))
	found := -1
	for i := range tf.entries {
		eq := subtle.ConstantTimeCompare(digest[:], tf.entries[i].digest[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil, &Refusal{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "the bearer token is not one this server knows; ask the server's operator for yours"}
	}
	return &Identity{Subject: tf.entries[found].subject, Via: "token"}, nil
}

// Challenge is `Bearer realm="iam-mcp-server"`, with the error and its
// description when ref has a code.
func (tf *TokenFile) Challenge(ref *Refusal) string { return challenge(ref, "") }

// Subjects returns the file's subjects, in file order (for the server's
// start-up log, never with tokens).
func (tf *TokenFile) Subjects() []string {
	out := make([]string, len(tf.entries))
	for i, e := range tf.entries {
		out[i] = e.subject
	}
	return out
}

// bearerToken is the token of r's one Authorization header, or why not.
func bearerToken(r *http.Request) (string, *Refusal) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		// RFC 6750 §3.1: a request without credentials gets a
		// challenge with no error code.
		return "", &Refusal{Status: http.StatusUnauthorized, Message: "this server needs a bearer token: send Authorization: Bearer TOKEN"}
	case 1:
	default:
		return "", badRequest("send one Authorization header, not %d", len(vals))
	}
	v := vals[0]
	if len(v) > MaxBearerBytes+len("Bearer ") {
		return "", badRequest("the Authorization header is %d bytes, more than this server reads (%d)", len(v), MaxBearerBytes)
	}
	scheme, tok, ok := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme (Basic, …) is no credentials of ours: RFC 6750
		// §3.1 answers it as a request without any, with the challenge
		// and no error code, so that a client learns to send a bearer
		// token.
		return "", &Refusal{Status: http.StatusUnauthorized, Message: "this server takes bearer tokens only: send Authorization: Bearer TOKEN"}
	}
	if !ok {
		return "", badRequest("the Authorization header must be Bearer TOKEN (scheme Bearer, one space, the token)")
	}
	if !b64token(tok) {
		return "", badRequest("the bearer token has characters a token cannot have (or extra spaces); send Authorization: Bearer TOKEN")
	}
	return tok, nil
}

func badRequest(format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}

// challenge builds a WWW-Authenticate value: the Bearer scheme, the
// realm, the error and its description when ref has a code, and
// resource_metadata when given (RFC 9728 §5.1).
func challenge(ref *Refusal, resourceMetadata string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + realm + `"`)
	if ref != nil && ref.Code != "" {
		b.WriteString(`, error=` + quoted(ref.Code))
		if ref.Message != "" {
			b.WriteString(`, error_description=` + quoted(describe(ref.Message)))
		}
	}
	if resourceMetadata != "" {
		b.WriteString(`, resource_metadata=` + quoted(resourceMetadata))
	}
	return b.String()
}

// describe makes a message fit RFC 6750's error_description: printable
// ASCII without '"' and '\', at most 300 characters.
func describe(msg string) string {
	const max = 300
	var b strings.Builder
	for _, r := range msg {
		if b.Len() >= max {
			b.WriteString("...")
			break
		}
		switch {
		case r == '"':
			b.WriteByte('\'')
		case r == '\\':
			b.WriteByte('/')
		case r == '…':
			b.WriteString("...")
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// quoted is s as an HTTP quoted-string (RFC 9110 §5.6.4); characters a
// header cannot carry become '?'.
func quoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t' || c >= 0x7f:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
