package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

// This file reads one line of input once. readMessage makes one pass over
// the bytes that both checks them as encoding/json would (the same grammar,
// the same nesting limit, the same decoding of keys) and keeps what
// ServeStdio's checks look at: the members of the message, of its params,
// of params._meta and params.inputResponses (and of each answer in it), and
// of a response's result. Everything else (a tool's arguments, above all)
// is only stepped over. The checks then read the parsed message, never the
// bytes again: mcp-go parses every line several times over already, and a
// line may be a megabyte (BenchmarkStdioLine measures the cost per line).

// message is one line of input, parsed once, with what the strict
// JSON-RPC 2.0 checks decided about it; handed to every later check.
type message struct {
	raw     []byte          // the line without its surrounding whitespace
	members members         // its members, in the order written
	rawID   json.RawMessage // the id as written, if any
	id      json.RawMessage // the id when it is one usable request id, else nil
	idKey   string          // requestIDKey of id
	method  string          // for a request or notification
	request bool            // it has a method: a request (id set) or a notification
	params  members         // params' members; nil when absent or empty
	meta    members         // params._meta's members
	modern  bool            // stamped with a stateless protocol version (isModern)
	// overflow: a number in it that a float64 cannot hold, which
	// encoding/json, and so mcp-go, cannot decode into an any.
	overflow bool
}

// refusal is ServeStdio's own answer to a line it does not pass on: a
// JSON-RPC error with the line's id when it could be read.
type refusal struct {
	id      json.RawMessage
	code    int
	message string
	// narrowed names the tool a caller's narrowing left out (over HTTP):
	// a refusal the audit log records, since it is who may do what.
	narrowed string
}

// jsonrpcMembers are the members JSON-RPC 2.0 defines for a message.
var jsonrpcMembers = map[string]bool{"jsonrpc": true, "id": true, "method": true, "params": true, "result": true, "error": true}

// messageShape is what readMessage keeps of a line: the objects whose
// members a check reads.
var messageShape = &shape{keys: map[string]*shape{
	"params": {keys: map[string]*shape{"_meta": {}, "inputResponses": answersShape}},
	"result": {},
}}

// answersShape is what is kept of a tools/call retry's inputResponses: its
// members, and each answer's.
var answersShape = &shape{each: &shape{}}

// readMessage parses line and applies the checks that depend on its bytes
// alone (framing, JSON, strict JSON-RPC 2.0, params). It returns the
// message, or what to answer instead; both nil for a blank line.
func readMessage(line []byte) (*message, *refusal) {
	raw := bytes.Trim(line, " \t\r\n")
	if len(raw) == 0 {
		return nil, nil // a blank line between messages is not a message
	}
	if !utf8.Valid(raw) {
		return nil, &refusal{code: mcp.PARSE_ERROR, message: "Parse error: the message is not valid UTF-8; JSON-RPC messages are UTF-8 JSON, one per line"}
	}
	m := &message{raw: raw}
	sc := jsonScan{data: raw}
	switch end := sc.value(0, messageShape, &m.members); {
	case end < 0 || sc.skipSpace(end) != len(raw):
		return nil, &refusal{code: mcp.PARSE_ERROR, message: "Parse error: the line is not one JSON value; send one JSON-RPC message per line"}
	case raw[0] == '[':
		return nil, &refusal{code: mcp.INVALID_REQUEST, message: "Invalid Request: JSON-RPC batches are not supported (MCP removed them in 2025-06-18); send each message on its own line"}
	case raw[0] != '{':
		return nil, &refusal{code: mcp.INVALID_REQUEST, message: "Invalid Request: a JSON-RPC message is a JSON object; this one is not an object"}
	}
	m.overflow = sc.overflow
	ms := m.members

	// The id first, so that every later refusal can carry it.
	idProblem := ""
	if ms.count("id") == 1 {
		raw := ms.get("id")
		if m.idKey, idProblem = requestIDKey(raw); idProblem == "" {
			m.id = raw
		}
	}
	refuse := func(code int, message string) (*message, *refusal) {
		return nil, &refusal{id: m.id, code: code, message: message}
	}
	for _, x := range ms {
		if !jsonrpcMembers[x.key] {
			return refuse(mcp.INVALID_REQUEST, fmt.Sprintf("Invalid Request: unknown member %s; a JSON-RPC 2.0 message has only jsonrpc, id, method, params, result and error, spelled exactly so", quoteShort(x.key)))
		}
		if ms.count(x.key) > 1 {
			return refuse(mcp.INVALID_REQUEST, fmt.Sprintf("Invalid Request: the member %q appears more than once; send it once", x.key))
		}
	}
	if v := ms.get("jsonrpc"); !bytes.Equal(v, []byte(`"2.0"`)) {
		return refuse(mcp.INVALID_REQUEST, `Invalid Request: "jsonrpc" must be the string "2.0"`)
	}
	m.rawID = ms.get("id")
	rawMethod := ms.get("method")
	if rawMethod == nil {
		// A response: the client's answer to a request of the server's.
		hasResult, hasError := ms.get("result") != nil, ms.get("error") != nil
		if hasResult == hasError || ms.get("params") != nil || m.rawID == nil {
			return refuse(mcp.INVALID_REQUEST, `Invalid Request: a request needs "method" and "id", a notification "method", a response "id" and one of "result" or "error"`)
		}
		return m, nil
	}
	m.request = true
	if m.rawID != nil && m.id == nil {
		return nil, &refusal{code: mcp.INVALID_REQUEST, message: "Invalid Request: the id " + idProblem}
	}
	var ok bool
	if m.method, ok = jsonString(rawMethod); !ok {
		return refuse(mcp.INVALID_REQUEST, "Invalid Request: \"method\" must be a string")
	}
	if ms.get("result") != nil || ms.get("error") != nil {
		return refuse(mcp.INVALID_REQUEST, "Invalid Request: a message with a method is a request or a notification and has no \"result\" or \"error\"")
	}
	if problem := m.readParams(); problem != "" {
		return refuse(mcp.INVALID_PARAMS, "Invalid params: "+problem)
	}
	m.modern = isModern(m.meta)
	return m, nil
}

// readParams checks params: absent, or an object whose keys are unique
// even ignoring case (mcp-go decodes them with encoding/json, which matches
// "Name" to "name" and lets a later duplicate win), and whose _meta, if any,
// is such an object too.
func (m *message) readParams() string {
	p := m.members.member("params")
	if p == nil {
		return ""
	}
	if p.value[0] != '{' {
		return "params must be a JSON object (MCP passes parameters by name); leave it out when there are none"
	}
	m.params = p.sub
	if dup := m.params.foldDuplicate(); dup != "" {
		return fmt.Sprintf("params has the key %s more than once (keys are compared ignoring case); send each once, spelled as the schema spells it", quoteShort(dup))
	}
	if meta := m.params.member("_meta"); meta != nil {
		if meta.value[0] != '{' {
			return "params._meta must be a JSON object"
		}
		m.meta = meta.sub
		if dup := m.meta.foldDuplicate(); dup != "" {
			return fmt.Sprintf("params._meta has the key %s more than once (keys are compared ignoring case); send each once", quoteShort(dup))
		}
	}
	return ""
}

// isModern decides, as mcp-go's extractRequestProtocolInfo does, whether a
// request belongs to the stateless generation (2026-07-28 and later).
func isModern(meta members) bool {
	version, ok := jsonString(meta.get(mcp.MetaKeyProtocolVersion))
	return ok && mcp.IsModernProtocol(version)
}

// member is one key and value of a JSON object, in the order written.
type member struct {
	key   string          // as encoding/json decodes it
	value json.RawMessage // as written
	sub   members         // value's members, when it is an object the scan kept
}

type members []member

// member returns the last member named exactly key (nil when none);
// callers refuse duplicates before they rely on it.
func (ms members) member(key string) *member {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].key == key {
			return &ms[i]
		}
	}
	return nil
}

// get returns the value of the last member named exactly key (nil when
// none).
func (ms members) get(key string) json.RawMessage {
	if m := ms.member(key); m != nil {
		return m.value
	}
	return nil
}

// count is how many members are named exactly key.
func (ms members) count(key string) int {
	n := 0
	for _, m := range ms {
		if m.key == key {
			n++
		}
	}
	return n
}

// foldDuplicate returns a key that appears twice when case is ignored the
// way encoding/json ignores it (Unicode simple folding: "K" and the Kelvin
// sign, "s" and "ſ"), or "". strings.EqualFold is that equality, and few
// keys are compared pairwise; many, through foldKey.
func (ms members) foldDuplicate() string {
	if len(ms) <= 16 {
		for j := range ms {
			for i := range j {
				if strings.EqualFold(ms[i].key, ms[j].key) {
					return ms[j].key
				}
			}
		}
		return ""
	}
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		k := foldKey(m.key)
		if seen[k] {
			return m.key
		}
		seen[k] = true
	}
	return ""
}

// foldKey maps every rune to the smallest of its simple case-folding orbit,
// so that two keys are equal under bytes.EqualFold (what encoding/json
// uses) exactly when their foldKeys are equal.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		low := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			low = min(low, f)
		}
		b.WriteRune(low)
	}
	return b.String()
}

// objectMembers reads data, which must be exactly one JSON object, into its
// members with their keys as decoded and their values as written.
func objectMembers(data []byte) (members, error) {
	v, ok := readValue(data, &shape{})
	if !ok {
		return nil, errors.New("this is not one JSON value")
	}
	if v.value[0] != '{' {
		return nil, errors.New("this one is not an object")
	}
	return v.sub, nil
}

// readValue reads data, which must be exactly one JSON value (space
// around it aside), keeping of it what keep says.
func readValue(data []byte, keep *shape) (*member, bool) {
	v := &member{}
	sc := jsonScan{data: data}
	start := sc.skipSpace(0)
	end := sc.value(start, keep, &v.sub)
	if end < 0 || sc.skipSpace(end) != len(data) {
		return nil, false
	}
	v.value = data[start:end]
	return v, true
}

// jsonString decodes raw, which must be exactly one JSON string, as
// encoding/json does.
func jsonString(raw []byte) (string, bool) {
	sc := jsonScan{data: raw}
	if len(raw) == 0 || raw[0] != '"' || sc.str(0) != len(raw) {
		return "", false
	}
	return sc.decodeString(raw), true
}

// shape says which objects' members a scan keeps: its own, and, below, the
// ones keys names (or each member's, with each).
type shape struct {
	keys map[string]*shape
	each *shape
}

// maxNestingDepth is encoding/json's limit on nested arrays and objects: a
// deeper value is not JSON to it, nor so to mcp-go.
const maxNestingDepth = 10000

// jsonScan is one pass over data. Each method reads the value starting at
// an index and returns the index after it, or -1 when the bytes there are
// not JSON.
type jsonScan struct {
	data     []byte
	depth    int
	overflow bool // a number that overflows a float64 was read
}

func (s *jsonScan) skipSpace(i int) int {
	for i < len(s.data) {
		switch s.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value reads the value at i (no space before it). When it is an object
// and keep is not nil, its members are appended to *into.
func (s *jsonScan) value(i int, keep *shape, into *members) int {
	if i >= len(s.data) {
		return -1
	}
	switch c := s.data[i]; {
	case c == '{' || c == '[':
		return s.container(i, keep, into)
	case c == '"':
		return s.str(i)
	case c == '-' || '0' <= c && c <= '9':
		return s.number(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	}
	return -1
}

// container reads an object or an array: values separated by commas, each
// with a key before it in an object.
func (s *jsonScan) container(i int, keep *shape, into *members) int {
	object, end := s.data[i] == '{', byte(']')
	if object {
		end = '}'
	}
	if s.depth++; s.depth > maxNestingDepth {
		return -1
	}
	i = s.skipSpace(i + 1)
	if i < len(s.data) && s.data[i] == end {
		s.depth--
		return i + 1
	}
	for {
		if object {
			i = s.member(i, keep, into)
		} else {
			i = s.value(i, nil, nil)
		}
		if i < 0 {
			return -1
		}
		if i = s.skipSpace(i); i >= len(s.data) {
			return -1
		}
		switch s.data[i] {
		case ',':
			i = s.skipSpace(i + 1)
		case end:
			s.depth--
			return i + 1
		default:
			return -1
		}
	}
}

// member reads one member of an object, key and value, and appends it to
// *into when keep is not nil.
func (s *jsonScan) member(i int, keep *shape, into *members) int {
	if i >= len(s.data) || s.data[i] != '"' {
		return -1
	}
	keyStart := i
	if i = s.str(i); i < 0 {
		return -1
	}
	keyEnd := i
	if i = s.skipSpace(i); i >= len(s.data) || s.data[i] != ':' {
		return -1
	}
	i = s.skipSpace(i + 1)
	if keep == nil {
		return s.value(i, nil, nil)
	}
	key := s.decodeKey(s.data[keyStart:keyEnd])
	below := keep.keys[key]
	if below == nil {
		below = keep.each
	}
	if *into == nil {
		*into = make(members, 0, 4)
	}
	// The member is appended before its value is read, so that the
	// value's own members go straight into it (reading the value appends
	// only below it, never to *into).
	*into = append(*into, member{key: key})
	m := &(*into)[len(*into)-1]
	valueStart := i
	if i = s.value(i, below, &m.sub); i >= 0 {
		m.value = s.data[valueStart:i]
	}
	return i
}

// str reads a string: no control character unescaped, only JSON's escapes.
func (s *jsonScan) str(i int) int {
	for i++; i < len(s.data); {
		switch c := s.data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c != '\\':
			i++
		case i+1 >= len(s.data):
			return -1
		default:
			switch s.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.data) {
					return -1
				}
				for _, h := range s.data[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				i += 6
			default:
				return -1
			}
		}
	}
	return -1
}

// knownKeys are the keys the checks look for, so that reading them
// allocates nothing.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"jsonrpc", "id", "method", "params", "result", "error", "name", "arguments",
		"_meta", "task", "inputResponses", "requestState", "cursor", "requestId", "reason", "progressToken",
		"progress", "total", "message", "action", "content", "resultType", "protocolVersion", "capabilities",
		"clientInfo", "version", "level", mcp.MetaKeyProtocolVersion} {
		m[`"`+k+`"`] = k
	}
	return m
}()

// decodeKey is decodeString for a key, without allocating for a known
// one.
func (s *jsonScan) decodeKey(raw []byte) string {
	if k, ok := knownKeys[string(raw)]; ok {
		return k
	}
	return s.decodeString(raw)
}

// decodeString decodes a string str has read. One without escapes is its
// bytes (the line is valid UTF-8); encoding/json decodes the rare one with
// escapes, so that surrogates are read exactly as mcp-go will read them.
func (s *jsonScan) decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "\uFFFD" // unreachable: str read it
	}
	return v
}

// number reads a number in JSON's grammar and notes one a float64 cannot
// hold. Without an exponent, up to 308 digits before the point always fit
// and 310 never do (JSON allows no leading zeros); anything between, or
// with an exponent, is parsed to know.
func (s *jsonScan) number(i int) int {
	start := i
	if s.data[i] == '-' {
		i++
	}
	digits := func() int {
		from := i
		for i < len(s.data) && '0' <= s.data[i] && s.data[i] <= '9' {
			i++
		}
		return i - from
	}
	whole := 1
	if i < len(s.data) && s.data[i] == '0' {
		i++
	} else if whole = digits(); whole == 0 {
		return -1
	}
	if i < len(s.data) && s.data[i] == '.' {
		i++
		if digits() == 0 {
			return -1
		}
	}
	exponent := i < len(s.data) && (s.data[i] == 'e' || s.data[i] == 'E')
	if exponent {
		i++
		if i < len(s.data) && (s.data[i] == '+' || s.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1
		}
	}
	switch {
	case !exponent && whole <= 308:
	case !exponent && whole >= 310:
		s.overflow = true
	default:
		if _, err := strconv.ParseFloat(string(s.data[start:i]), 64); err != nil {
			s.overflow = true
		}
	}
	return i
}

func (s *jsonScan) literal(i int, word string) int {
	if !bytes.HasPrefix(s.data[i:], []byte(word)) {
		return -1
	}
	return i + len(word)
}
