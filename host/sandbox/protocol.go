package sandbox

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamVersion   = "2010-05-08"
	stsVersion   = "2011-06-15"
)

// Error is an IAM error as the service sends it: a code from IAM's error
// vocabulary, the HTTP status IAM pairs with it, and a message.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// fault is Sender for client errors and Receiver for server errors, as IAM
// writes it in <Error><Type>.
func (e *Error) fault() string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func apiErr(code string, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// The constructors below cover IAM's error vocabulary; each carries the
// status IAM uses for it.
func errNoSuchEntity(format string, args ...any) *Error {
	return apiErr("NoSuchEntity", 404, format, args...)
}
func errAlreadyExists(format string, args ...any) *Error {
	return apiErr("EntityAlreadyExists", 409, format, args...)
}
func errDeleteConflict(format string, args ...any) *Error {
	return apiErr("DeleteConflict", 409, format, args...)
}
func errLimitExceeded(format string, args ...any) *Error {
	return apiErr("LimitExceeded", 409, format, args...)
}
func errValidation(format string, args ...any) *Error {
	return apiErr("ValidationError", 400, format, args...)
}
func errInvalidInput(format string, args ...any) *Error {
	return apiErr("InvalidInput", 400, format, args...)
}
func errMalformedPolicy(format string, args ...any) *Error {
	return apiErr("MalformedPolicyDocument", 400, format, args...)
}

// ---- request parameters ----

// params reads the form values of one Query request. IAM serialises lists as
// Name.member.N (1-based) and structures as Name.Field; the helpers here read
// those shapes and produce IAM's ValidationError wording on bad input.
type params struct {
	form url.Values
}

// str returns an optional string parameter ("" when absent).
func (p params) str(name string) string { return p.form.Get(name) }

// has reports whether the parameter was sent at all, even empty.
func (p params) has(name string) bool { _, ok := p.form[name]; return ok }

// required returns a parameter that must be present and non-empty.
func (p params) required(name string) (string, *Error) {
	v := p.form.Get(name)
	if v == "" {
		return "", errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return v, nil
}

// list returns Name.member.1 … Name.member.N in order, stopping at the first gap.
func (p params) list(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := p.form[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// structs returns the prefixes Name.member.1, Name.member.2, … for which any
// field was sent, so a caller can read fields as prefix+".Field".
func (p params) structs(name string) []string {
	var out []string
	for i := 1; ; i++ {
		prefix := name + ".member." + strconv.Itoa(i)
		found := false
		for k := range p.form {
			if strings.HasPrefix(k, prefix+".") {
				found = true
				break
			}
		}
		if !found {
			return out
		}
		out = append(out, prefix)
	}
}

// integer reads an optional integer within [min, max]; def when absent.
func (p params) integer(name string, def, min, max int) (int, *Error) {
	v := p.form.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", v, lowerFirst(name))
	}
	if n < min {
		return 0, errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, lowerFirst(name), min)
	}
	if n > max {
		return 0, errValidation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, lowerFirst(name), max)
	}
	return n, nil
}

// boolean reads an optional boolean; def when absent.
func (p params) boolean(name string, def bool) (bool, *Error) {
	v := p.form.Get(name)
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", v, lowerFirst(name))
}

// tagChars is IAM's pattern of tag keys and values: Unicode letters,
// digits and spaces, and _.:/=+-@ (keys need at least one character).
var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// tags reads Tags.member.N.Key / .Value pairs with IAM's limits (50 tags,
// keys of 1-128 characters, values up to 256, both of IAM's characters,
// keys unique case-insensitively).
func (p params) tags() ([]Tag, *Error) {
	var tags []Tag
	seen := map[string]bool{}
	for i, prefix := range p.structs("Tags") {
		k := p.form.Get(prefix + ".Key")
		v := p.form.Get(prefix + ".Value")
		if n := utf8.RuneCountInString(k); n == 0 || n > 128 {
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k, i+1)
		}
		if !tagChars.MatchString(k) {
			return nil, errValidation(`1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`, k, i+1)
		}
		if utf8.RuneCountInString(v) > 256 {
			return nil, errValidation("1 validation error detected: Value at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", i+1)
		}
		if !tagChars.MatchString(v) {
			return nil, errValidation(`1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`, v, i+1)
		}
		if seen[strings.ToLower(k)] {
			return nil, errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		tags = append(tags, Tag{Key: k, Value: v})
	}
	if len(tags) > 50 {
		return nil, errLimitExceeded("The number of tags has reached the maximum limit.")
	}
	return tags, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// ---- XML responses ----

// maxMessage bounds an error message on the wire. IAM's own messages are a
// sentence or two; one longer than this echoes a value the client sent
// (IAM's validation messages quote the bad value), and a megabyte
// parameter must not come back as a megabyte message.
const maxMessage = 1024

// capMessage keeps a long message's start and end — the end is where
// IAM's validation messages say which constraint failed — and leaves out
// the middle.
func capMessage(m string) string {
	if utf8.RuneCountInString(m) <= maxMessage {
		return m
	}
	r := []rune(m)
	head, tail := r[:maxMessage/2], r[len(r)-maxMessage/4:]
	return fmt.Sprintf("%s…(%d characters left out)…%s", string(head), len(r)-len(head)-len(tail), string(tail))
}

// members marshals as IAM marshals every list: a wrapper element holding one
// <member> per item, and an empty wrapper (not nothing) for an empty list.
type members[T any] []T

func (m members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := range m {
		if err := encodeElement(e, "member", m[i]); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// encodeElement encodes v as the element <name>.
func encodeElement(e *xml.Encoder, name string, v any) error {
	return e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: name}})
}

// isoTime marshals as IAM's timestamps: ISO 8601 / RFC 3339 in UTC.
type isoTime time.Time

func (t isoTime) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(formatTime(time.Time(t)), start)
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// optTime is an optional timestamp: nil omits the element.
func optTime(t *time.Time) *isoTime {
	if t == nil || t.IsZero() {
		return nil
	}
	v := isoTime(*t)
	return &v
}

// urlEncodedDoc is how IAM returns every policy document: URL-encoded JSON.
func urlEncodedDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encodeResult renders <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…
// A nil result yields a response without a Result element, as IAM sends for
// actions that return nothing.
func encodeResult(action, namespace, requestID string, result any) ([]byte, error) {
	var b strings.Builder
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, action, namespace)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err
		}
		if err := enc.Flush(); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(&b, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, requestID, action)
	return []byte(b.String()), nil
}

func encodeError(namespace, requestID string, e *Error) []byte {
	var msg strings.Builder
	_ = xml.EscapeText(&msg, []byte(capMessage(e.Message)))
	return []byte(fmt.Sprintf(`%s<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xml.Header, namespace, e.fault(), e.Code, msg.String(), requestID))
}
