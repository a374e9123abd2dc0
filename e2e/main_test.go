// Package e2e drives the built iam-mcp-server binary end to end through a
// real MCP client the project did not write: the official Go SDK's client
// (github.com/modelcontextprotocol/go-sdk) spawns the binary over stdio with
// the embedded sandbox (--sandbox --sandbox-seed demo), exactly as Claude
// Desktop or Cursor would, and every assertion is about what crosses the
// wire: tool lists, schemas, structured results, errors, files and logs.
//
// TestMain builds the server and the demo program once; each test spawns
// its own server, so tests are independent and run in parallel.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var (
	serverBin string // the built iam-mcp-server
	demoBin   string // the built iam-mcp-demo

	helloWasm string // plugins/hello-iam, built for wasip1
	// shippedPlugins is the repository's plugins.yaml pointing at the
	// shipped plugins built for this run.
	shippedPlugins string
	toolsWasm      string // e2e/testdata/e2e-tools, built for wasip1
	wasmCache      string // a compilation cache the plugin tests share
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "iam-mcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := testenv.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	// One build for both programs. No -race here: the binaries are the
	// subject, not the test process, and a race build triples the spawn
	// time every test pays.
	build := exec.Command(testenv.GoTool(), "build", "-o", dir+string(os.PathSeparator), "./cmd/iam-mcp-server", "./cmd/iam-mcp-demo")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: cannot build the binaries under test: %v\n%s", err, out)
		return 1
	}
	serverBin = filepath.Join(dir, "iam-mcp-server")
	demoBin = filepath.Join(dir, "iam-mcp-demo")

	// The plugins the plugin tests load, built from source as
	// `make plugins` builds them.
	helloWasm = filepath.Join(dir, "hello-iam.wasm")
	toolsWasm = filepath.Join(dir, "e2e-tools.wasm")
	wasmCache = filepath.Join(dir, "wasm-cache")
	reviewWasm := filepath.Join(dir, "access-review.wasm")
	rotationWasm := filepath.Join(dir, "key-rotation.wasm")
	for out, pkg := range map[string]string{helloWasm: "plugins/hello-iam", toolsWasm: "e2e/testdata/e2e-tools",
		reviewWasm: "plugins/access-review", rotationWasm: "plugins/key-rotation"} {
		if _, err := testenv.BuildWasm(pkg, out); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
	}
	// The shipped plugins file, pointing at the modules just built, with
	// their hashes: what `make demo` loads. unused-roles, written in
	// AssemblyScript, is the committed module (TestUnusedRolesModuleIsItsSource
	// checks that its pinned toolchain rebuilds it byte for byte).
	unusedRolesWasm := filepath.Join(root, "plugins", "unused-roles", "unused-roles.wasm")
	if shippedPlugins, err = shippedPluginsFile(root, dir, map[string]string{"access-review": reviewWasm, "key-rotation": rotationWasm, "hello-iam": helloWasm, "unused-roles": unusedRolesWasm}); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	// The servers under test read IAM_MCP_* variables as flags; whatever
	// the shell running the tests set must not decide what they may do.
	// Tests that mean to set one pass it to launch.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "IAM_MCP_") {
			os.Unsetenv(name)
		}
	}
	return m.Run()
}

// shippedPluginsFile rewrites the repository's plugins.yaml for modules
// built elsewhere: each entry's path and sha256, the rest (prefixes,
// grants, limits) as shipped.
func shippedPluginsFile(root, dir string, modules map[string]string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "plugins.yaml"))
	if err != nil {
		return "", err
	}
	lines := strings.Split(string(b), "\n")
	name := ""
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "- name:"):
			name = strings.TrimSpace(strings.TrimPrefix(t, "- name:"))
		case strings.HasPrefix(t, "path:") && modules[name] != "":
			lines[i] = strings.Replace(l, t, "path: "+modules[name], 1)
		case strings.HasPrefix(t, "sha256:") && modules[name] != "":
			wasm, err := os.ReadFile(modules[name])
			if err != nil {
				return "", err
			}
			lines[i] = strings.Replace(l, t, fmt.Sprintf("sha256: %x", sha256.Sum256(wasm)), 1)
		}
	}
	out := filepath.Join(dir, "plugins.yaml")
	return out, os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o600)
}

// server is one spawned iam-mcp-server and the official client's session
// with it.
type server struct {
	t          testing.TB
	args       []string
	cs         *mcp.ClientSession
	wire       *syncio.Buffer // every JSON-RPC message, "read: …" from the server, "write: …" to it
	stderr     *syncio.Buffer // the server's stderr, copied as it comes
	secretsDir string
	closed     bool
	exitErr    error

	tools     map[string]*mcp.Tool
	rawTools  map[string]map[string]any // each tool exactly as tools/list sent it
	inSchema  map[string]*jsonschema.Resolved
	outSchema map[string]*jsonschema.Resolved
}

// start spawns the server on the demo sandbox with extra flags, connects
// the official client (initialize), and lists the tools, resolving each
// tool's schemas for the client-side checks every call makes. The client
// cannot elicit: a change that needs a person's yes is refused.
func start(t testing.TB, extra ...string) *server {
	t.Helper()
	return launch(t, launchOptions{args: extra})
}

// allowWrites are the flags of a server that changes IAM without asking
// anyone: for the tests of what a change does, not of whether it may run
// (write_defaults_test.go and consent_test.go test that).
var allowWrites = []string{"--allow-write", "--confirm", "none"}

// startWritable is start with allowWrites before extra.
func startWritable(t testing.TB, extra ...string) *server {
	t.Helper()
	return start(t, append(slices.Clone(allowWrites), extra...)...)
}

// launchOptions say how launch spawns a server and connects to it.
type launchOptions struct {
	args   []string           // flags after --sandbox --sandbox-seed demo --secrets-dir DIR
	env    []string           // NAME=value added to the server's environment
	client *mcp.ClientOptions // nil: a client without elicitation or other handlers
	// protocol is the MCP version the client asks for; "" for the newest
	// it knows (the server may answer with an older one).
	protocol string
}

// launch is start with an environment and client options.
func launch(t testing.TB, o launchOptions) *server {
	t.Helper()
	s := &server{t: t, wire: &syncio.Buffer{}, stderr: &syncio.Buffer{}, secretsDir: filepath.Join(t.TempDir(), "secrets")}
	s.args = append([]string{"--sandbox", "--sandbox-seed", "demo", "--secrets-dir", s.secretsDir}, o.args...)
	cmd := exec.Command(serverBin, s.args...)
	cmd.Env = append(os.Environ(), o.env...)
	cmd.Stderr = s.stderr
	transport := &mcp.LoggingTransport{
		Transport: &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second},
		Writer:    s.wire,
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-e2e", Version: "1.0.0"}, o.client)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang
	defer cancel()
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: o.protocol})
	if err != nil {
		t.Fatalf("connecting the official MCP client to %s %s: %v\nserver stderr:\n%s", strings.Join(o.env, " "), strings.Join(s.args, " "), err, s.stderr)
	}
	s.cs = cs
	t.Cleanup(s.close)
	s.loadTools()
	return s
}

// close ends the session: stdin closes and the server must exit.
func (s *server) close() {
	if s.closed {
		return
	}
	s.closed = true
	s.exitErr = s.cs.Close()
	if s.t.Failed() {
		s.t.Logf("server %s stderr:\n%s", strings.Join(s.args, " "), tail(s.stderr.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// ctxT is the deadline of one request or command of a test. It only
// guards against a hang: a busy machine may take many seconds for what
// usually takes milliseconds (TestDemo, under 30 seconds of this, was once
// killed half-way).
func ctxT() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 3*time.Minute)
}

// in returns the same server reporting to t (a subtest), so that a failure
// stops the subtest and not its parent from the wrong goroutine.
func (s *server) in(t testing.TB) *server {
	c := *s
	c.t = t
	return &c
}

// loadTools lists the tools (every page) and keeps their schemas.
func (s *server) loadTools() {
	s.t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	s.tools = map[string]*mcp.Tool{}
	s.inSchema = map[string]*jsonschema.Resolved{}
	s.outSchema = map[string]*jsonschema.Resolved{}
	for tool, err := range s.cs.Tools(ctx, nil) {
		if err != nil {
			s.t.Fatalf("tools/list: %v", err)
		}
		if _, dup := s.tools[tool.Name]; dup {
			s.t.Errorf("tools/list: %s listed twice", tool.Name)
		}
		s.tools[tool.Name] = tool
		if rs, err := resolveSchema(tool.InputSchema); err != nil {
			s.t.Errorf("tool %s: input schema does not resolve: %v", tool.Name, err)
		} else {
			s.inSchema[tool.Name] = rs
		}
		if tool.OutputSchema == nil {
			s.t.Errorf("tool %s: no output schema", tool.Name)
		} else if rs, err := resolveSchema(tool.OutputSchema); err != nil {
			s.t.Errorf("tool %s: output schema does not resolve: %v", tool.Name, err)
		} else {
			s.outSchema[tool.Name] = rs
		}
	}
	s.rawTools = map[string]map[string]any{}
	for _, msg := range s.received() {
		var res struct {
			Tools []map[string]any `json:"tools"`
		}
		if json.Unmarshal(msg.Result, &res) != nil {
			continue
		}
		for _, tool := range res.Tools {
			if name, _ := tool["name"].(string); name != "" {
				s.rawTools[name] = tool
			}
		}
	}
}

func resolveSchema(v any) (*jsonschema.Resolved, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var sc jsonschema.Schema
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, err
	}
	return sc.Resolve(nil)
}

// wireMessage is one JSON-RPC message as the client received it.
type wireMessage struct {
	ID     any             `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// received returns every message the server sent, in order.
func (s *server) received() []wireMessage {
	var out []wireMessage
	for _, line := range strings.Split(s.wire.String(), "\n") {
		payload, ok := strings.CutPrefix(line, "read: ")
		if !ok {
			continue
		}
		var m wireMessage
		if err := json.Unmarshal([]byte(payload), &m); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// serverOutput is everything the server sent on stdout, as the client read it.
func (s *server) serverOutput() string {
	var b strings.Builder
	for _, line := range strings.Split(s.wire.String(), "\n") {
		if payload, ok := strings.CutPrefix(line, "read: "); ok {
			b.WriteString(payload)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// call sends tools/call and checks the result's shape whatever it says: a
// tool error is one text "<Code>: <message>"; a success carries structured
// content that validates against the tool's declared output schema, and
// the same JSON as text. A protocol-level error fails the test.
func (s *server) call(name string, args any) *mcp.CallToolResult {
	s.t.Helper()
	res, err := s.tryCall(name, args)
	if err != nil {
		s.t.Fatalf("tools/call %s %s: protocol error instead of a result: %v", name, argsText(args), err)
	}
	return res
}

func (s *server) tryCall(name string, args any) (*mcp.CallToolResult, error) {
	s.t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, err
	}
	s.checkResult(name, args, res)
	return res, nil
}

func argsText(args any) string {
	b, _ := json.Marshal(args)
	return string(b)
}

var errorTextRE = regexp.MustCompile(`^([A-Z][A-Za-z]+): (.+)$`)

func (s *server) checkResult(name string, args any, res *mcp.CallToolResult) {
	s.t.Helper()
	if res.IsError {
		text := resultText(res)
		if !errorTextRE.MatchString(text) {
			s.t.Errorf("%s %s: tool error %q is not \"<Code>: <message>\"", name, argsText(args), text)
		}
		return
	}
	if res.StructuredContent == nil {
		s.t.Errorf("%s %s: success without structuredContent", name, argsText(args))
		return
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		s.t.Fatal(err)
	}
	var instance any
	if err := json.Unmarshal(structured, &instance); err != nil {
		s.t.Fatal(err)
	}
	if _, isObject := instance.(map[string]any); !isObject {
		s.t.Errorf("%s: structuredContent is not an object: %s", name, structured)
	}
	if rs := s.outSchema[name]; rs == nil {
		s.t.Errorf("%s: succeeded but the tool has no usable output schema", name)
	} else if err := rs.Validate(instance); err != nil {
		s.t.Errorf("%s %s: structuredContent does not validate against the declared output schema: %v\n%s", name, argsText(args), err, structured)
	}
	// Clients without structured output read the text: the same JSON.
	var fromText any
	if err := json.Unmarshal([]byte(resultText(res)), &fromText); err != nil {
		s.t.Errorf("%s: the text content is not the JSON result: %v\n%s", name, err, resultText(res))
	} else if !jsonEqual(fromText, instance) {
		s.t.Errorf("%s: the text content differs from structuredContent:\ntext: %s\nstructured: %s", name, resultText(res), structured)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// resultText joins a result's text contents.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// ok calls a tool that must succeed and decodes its structured result into
// T strictly (an unknown field is a drift between the schema and sdk/api).
// The arguments must validate against the tool's published input schema,
// as a validating client would require.
func ok[T any](s *server, name string, args any) T {
	s.t.Helper()
	if rs := s.inSchema[name]; rs != nil {
		var instance any
		if err := json.Unmarshal([]byte(argsText(args)), &instance); err == nil {
			if instance == nil {
				instance = map[string]any{}
			}
			if err := rs.Validate(instance); err != nil {
				s.t.Errorf("%s: valid arguments %s are rejected by the tool's published input schema: %v", name, argsText(args), err)
			}
		}
	}
	return succeeded[T](s, name, args, s.call(name, args))
}

// succeeded fails the test unless res, the result of calling the tool
// name with args, is a success, and decodes its structured result into T
// strictly.
func succeeded[T any](s *server, name string, args any, res *mcp.CallToolResult) T {
	s.t.Helper()
	if res.IsError {
		s.t.Fatalf("%s %s: want success, got tool error: %s", name, argsText(args), resultText(res))
	}
	b, _ := json.Marshal(res.StructuredContent)
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		s.t.Fatalf("%s: result does not decode into %T: %v\n%s", name, v, err, b)
	}
	return v
}

// fails calls a tool that must fail with code and returns the message.
func fails(s *server, name string, args any, code api.ErrorCode) string {
	s.t.Helper()
	res := s.call(name, args)
	if !res.IsError {
		b, _ := json.Marshal(res.StructuredContent)
		s.t.Fatalf("%s %s: want a %s tool error, got success: %s", name, argsText(args), code, b)
	}
	m := errorTextRE.FindStringSubmatch(resultText(res))
	if m == nil {
		s.t.Fatalf("%s %s: tool error %q has no code", name, argsText(args), resultText(res))
	}
	if m[1] != string(code) {
		s.t.Fatalf("%s %s: want %s, got %s", name, argsText(args), code, resultText(res))
	}
	checkSentence(s.t, name, m[2])
	return m[2]
}

// goInternals are fragments of Go error strings that must never reach an
// assistant: they say nothing it can act on.
var goInternals = []string{"json: ", "cannot unmarshal", "Go struct", "Go value", "interface {}", "map[string]", "reflect", "panic", "runtime error", "nil pointer", "%!", "goroutine", "invalid character", "unexpected end of JSON", "operation error IAM", "https response error", "api error "}

// checkSentence fails when an error message reads like Go internals rather
// than a sentence.
func checkSentence(t testing.TB, what, msg string) {
	t.Helper()
	if len(strings.TrimSpace(msg)) < 10 {
		t.Errorf("%s: error message %q is too short to act on", what, msg)
	}
	for _, frag := range goInternals {
		if strings.Contains(msg, frag) {
			t.Errorf("%s: error message reads like Go internals (%q): %s", what, frag, msg)
		}
	}
}

// has reports whether list contains v.
func has[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Demo account facts (host/sandbox/seed.go).
const (
	account  = "123456789012"
	awsPol   = "arn:aws:iam::aws:policy/"
	localPol = "arn:aws:iam::" + account + ":policy"
	userArn  = "arn:aws:iam::" + account + ":user"
	roleArn  = "arn:aws:iam::" + account + ":role"
)

// Policy documents the tests send, as objects and as strings.
var (
	s3ReadDoc = map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "ReadReports", "Effect": "Allow",
			"Action":   []any{"s3:GetObject"},
			"Resource": "arn:aws:s3:::e2e-reports/*",
		}},
	}
	denyDeleteDocString = `{"Version":"2012-10-17","Statement":[{"Sid":"NoDeletes","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`
	lambdaTrust         = map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
		}},
	}
	ec2TrustString = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// docJSON renders a document argument (object or string) for comparison.
func docJSON(t testing.TB, d api.PolicyDocument) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(d), &m); err != nil {
		t.Fatalf("policy document %s is not an object: %v", d, err)
	}
	return m
}

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
