package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// pluginEntry is one plugin of a plugins file the tests write.
type pluginEntry struct {
	name, path string
	sha256     string // "" for the file's real hash
	prefix     *string
	grants     []string
	limits     string // YAML flow mapping, e.g. "{max_mutations: 1}"
}

func sha256File(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// writePlugins writes a plugins file in a temporary directory and returns
// its path.
func writePlugins(t testing.TB, entries ...pluginEntry) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("plugins:\n")
	for _, e := range entries {
		sum := e.sha256
		if sum == "" {
			sum = sha256File(t, e.path)
		}
		fmt.Fprintf(&b, "  - name: %s\n    path: %s\n    sha256: %s\n", e.name, e.path, sum)
		if e.prefix != nil {
			fmt.Fprintf(&b, "    prefix: %q\n", *e.prefix)
		}
		fmt.Fprintf(&b, "    grants: [%s]\n", strings.Join(e.grants, ", "))
		if e.limits != "" {
			fmt.Fprintf(&b, "    limits: %s\n", e.limits)
		}
	}
	path := filepath.Join(t.TempDir(), "plugins.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func strp(s string) *string { return &s }

// The two plugins most tests load: hello-iam (prefix: its name) with what
// it asks for, and the test plugin (prefix "t") with reads and create_user.
var (
	helloEntry = func() pluginEntry {
		return pluginEntry{name: "hello-iam", path: helloWasm, grants: []string{"list_users", "list_groups_for_user"}}
	}
	toolsEntry = func() pluginEntry {
		return pluginEntry{name: "e2e-tools", path: toolsWasm, prefix: strp("t"), grants: []string{"read", "create_user"}}
	}
)

// startPlugins spawns the server on the demo sandbox with the plugins file
// and the shared compilation cache, connects the official client (with a
// progress handler that counts per token) and lists the tools. Unlike
// start, it does not require an output schema of every tool: hello-iam's
// tools declare none.
func startPlugins(t testing.TB, pluginsFile string, extra ...string) (*server, *progressLog) {
	t.Helper()
	s := &server{t: t, wire: &syncio.Buffer{}, stderr: &syncio.Buffer{}, secretsDir: filepath.Join(t.TempDir(), "secrets")}
	s.args = append([]string{"--sandbox", "--sandbox-seed", "demo", "--secrets-dir", s.secretsDir,
		"--plugins", pluginsFile, "--cache-dir", wasmCache}, extra...)
	cmd := exec.Command(serverBin, s.args...)
	cmd.Stderr = s.stderr
	transport := &mcp.LoggingTransport{
		Transport: &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second},
		Writer:    s.wire,
	}
	progress := &progressLog{byToken: map[string][]float64{}}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			progress.add(fmt.Sprint(req.Params.ProgressToken), req.Params.Progress)
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard against a hang; plugins compile at start
	defer cancel()
	cs, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatalf("connecting the official MCP client to %s: %v\nserver stderr:\n%s", strings.Join(s.args, " "), err, s.stderr)
	}
	s.cs = cs
	t.Cleanup(s.close)
	s.tools = map[string]*mcp.Tool{}
	s.outSchema = map[string]*jsonschema.Resolved{}
	s.inSchema = map[string]*jsonschema.Resolved{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		s.tools[tool.Name] = tool
		if rs, err := resolveSchema(tool.InputSchema); err != nil {
			t.Errorf("tool %s: input schema does not resolve: %v", tool.Name, err)
		} else {
			s.inSchema[tool.Name] = rs
		}
		if tool.OutputSchema != nil {
			if rs, err := resolveSchema(tool.OutputSchema); err != nil {
				t.Errorf("tool %s: output schema does not resolve: %v", tool.Name, err)
			} else {
				s.outSchema[tool.Name] = rs
			}
		}
	}
	return s, progress
}

// progressLog is what the client's progress handler saw, per token.
type progressLog struct {
	mu      sync.Mutex
	byToken map[string][]float64
}

func (p *progressLog) add(token string, v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byToken[token] = append(p.byToken[token], v)
}

func (p *progressLog) count(token string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byToken[token])
}

// pluginCall calls a plugin tool (with a progress token when token is not
// empty) and returns the result; a protocol error fails the test. A
// tool error must say something; a success must carry an object as structured content, valid against the
// tool's output schema when it has one, and the same JSON as text.
func pluginCall(s *server, name string, args any, token string) *mcp.CallToolResult {
	s.t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	params := &mcp.CallToolParams{Name: name, Arguments: args}
	if token != "" {
		params.SetProgressToken(token)
	}
	res, err := s.cs.CallTool(ctx, params)
	if err != nil {
		s.t.Fatalf("tools/call %s %s: protocol error instead of a result: %v", name, argsText(args), err)
	}
	if res.IsError {
		// A plugin words its own errors; only the host's (and the SDK's
		// for an *api.Error) read "<Code>: <message>", which pluginFails
		// checks.
		if strings.TrimSpace(resultText(res)) == "" {
			s.t.Errorf("%s: a tool error without a message", name)
		}
		return res
	}
	structured, _ := json.Marshal(res.StructuredContent)
	var instance any
	if err := json.Unmarshal(structured, &instance); err != nil {
		s.t.Fatal(err)
	}
	if _, ok := instance.(map[string]any); !ok {
		s.t.Errorf("%s: structuredContent is not an object: %s", name, structured)
	}
	if rs := s.outSchema[name]; rs != nil {
		if err := rs.Validate(instance); err != nil {
			s.t.Errorf("%s: structuredContent does not validate against the declared output schema: %v\n%s", name, err, structured)
		}
	}
	var fromText any
	if err := json.Unmarshal([]byte(resultText(res)), &fromText); err != nil || !jsonEqual(fromText, instance) {
		s.t.Errorf("%s: the text content is not the structured JSON: %s", name, resultText(res))
	}
	return res
}

// pluginOK calls a plugin tool that must succeed and decodes its result.
func pluginOK[T any](s *server, name string, args any) T {
	s.t.Helper()
	return succeeded[T](s, name, args, pluginCall(s, name, args, ""))
}

// pluginFails calls a plugin tool that must fail with code.
func pluginFails(s *server, name string, args any, code api.ErrorCode) string {
	s.t.Helper()
	res := pluginCall(s, name, args, "")
	if !res.IsError {
		b, _ := json.Marshal(res.StructuredContent)
		s.t.Fatalf("%s %s: want a %s tool error, got success: %s", name, argsText(args), code, b)
	}
	m := errorTextRE.FindStringSubmatch(resultText(res))
	if m == nil || m[1] != string(code) {
		s.t.Fatalf("%s %s: want %s, got %s", name, argsText(args), code, resultText(res))
	}
	return m[2]
}

type usersPerPath struct {
	Total int `json:"total"`
	Paths []struct {
		Path  string `json:"path"`
		Users int    `json:"users"`
	} `json:"paths"`
}

// The test plugin's answers.
type (
	gotUser struct {
		UserName string `json:"user_name"`
		Arn      string `json:"arn"`
	}
	createdUser struct {
		Created string `json:"created"`
	}
	batched struct {
		OK     int `json:"ok"`
		Failed int `json:"failed"`
	}
)

type ungroupedUsers struct {
	Checked   int      `json:"checked"`
	Ungrouped []string `json:"ungrouped"`
}

// TestPluginTools: the plugins' tools are listed after the built-in ones,
// named <prefix>_<tool>, with the plugin's description and schemas and the
// annotations their declared and granted operations imply (a tool may
// call only those); calling them gives the answers the
// built-in tools imply on the demo organisation.
func TestPluginTools(t *testing.T) {
	t.Parallel()
	// --allow-write with the default --confirm: t_create_user's change is
	// not destructive, so it runs without asking anyone.
	s, _ := startPlugins(t, writePlugins(t, helloEntry(), toolsEntry()), "--toolsets", "all", "--allow-write")

	for name, readOnly := range map[string]bool{
		"hello-iam_users_per_path": true, "hello-iam_ungrouped_users": true,
		// Only t_create_user declares a mutating operation; the others are
		// read-only although their plugin is granted create_user.
		"t_steps": true, "t_create_user": false, "t_get_user": true, "t_batch": true, "t_repeat": true, "t_info": true, "t_spin": true,
	} {
		tool := s.tools[name]
		if tool == nil {
			t.Errorf("tool %s is not listed", name)
			continue
		}
		a := tool.Annotations
		if a == nil || a.ReadOnlyHint != readOnly || a.DestructiveHint == nil || *a.DestructiveHint == readOnly || a.IdempotentHint || a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s: annotations %+v, want readOnlyHint %v, destructiveHint %v, idempotentHint false, openWorldHint false", name, a, readOnly, !readOnly)
		}
	}
	if d := s.tools["hello-iam_users_per_path"].Description; !strings.HasPrefix(d, "Count the IAM users under each path") {
		t.Errorf("hello-iam_users_per_path: description %q", d)
	}
	in, _ := json.Marshal(s.tools["hello-iam_users_per_path"].InputSchema)
	if !strings.Contains(string(in), `"path_prefix"`) {
		t.Errorf("hello-iam_users_per_path: input schema %s lacks path_prefix", in)
	}
	if s.tools["t_steps"].OutputSchema == nil || s.tools["hello-iam_users_per_path"].OutputSchema != nil {
		t.Errorf("output schemas: t_steps %v, hello-iam_users_per_path %v", s.tools["t_steps"].OutputSchema, s.tools["hello-iam_users_per_path"].OutputSchema)
	}
	// Order: every built-in tool, then the plugins' in the file's order.
	ctx, cancel := ctxT()
	defer cancel()
	var names []string
	for tool, err := range s.cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	want := []string{"hello-iam_users_per_path", "hello-iam_ungrouped_users", "t_steps", "t_create_user", "t_get_user", "t_batch", "t_repeat", "t_info", "t_spin"}
	if len(names) != len(api.All())+len(want) || !slices.Equal(names[len(api.All()):], want) {
		t.Errorf("tools/list order: the last ones are %v, want %v after the %d built-in tools", names[max(0, len(names)-len(want)):], want, len(api.All()))
	}

	// What the built-in tools say about the demo organisation.
	users := ok[api.ListUsersOutput](s, "list_users", map[string]any{"max_items": 1000})
	perPath := map[string]int{}
	var ungrouped []string
	for _, u := range users.Users {
		perPath[u.Path]++
		g := ok[api.GroupsOutput](s, "list_groups_for_user", map[string]any{"user_name": u.UserName})
		if len(g.Groups) == 0 {
			ungrouped = append(ungrouped, u.UserName)
		}
	}
	got := pluginOK[usersPerPath](s, "hello-iam_users_per_path", map[string]any{})
	if got.Total != len(users.Users) || len(got.Paths) != len(perPath) {
		t.Errorf("users_per_path: %+v, want %d users on %d paths", got, len(users.Users), len(perPath))
	}
	for _, p := range got.Paths {
		if perPath[p.Path] != p.Users {
			t.Errorf("users_per_path: %s has %d users, list_users says %d", p.Path, p.Users, perPath[p.Path])
		}
	}
	eng := pluginOK[usersPerPath](s, "hello-iam_users_per_path", map[string]any{"path_prefix": "/eng/"})
	if eng.Total != perPath["/eng/"] || len(eng.Paths) != 1 {
		t.Errorf("users_per_path under /eng/: %+v, want %d users", eng, perPath["/eng/"])
	}
	ug := pluginOK[ungroupedUsers](s, "hello-iam_ungrouped_users", map[string]any{})
	sort.Strings(ungrouped)
	sort.Strings(ug.Ungrouped)
	if ug.Checked != len(users.Users) || !slices.Equal(ug.Ungrouped, ungrouped) || len(ungrouped) == 0 {
		t.Errorf("ungrouped_users: %+v, want %v of %d", ug, ungrouped, len(users.Users))
	}
	// The demo plants legacy-etl with no group.
	if !slices.Contains(ug.Ungrouped, "legacy-etl") {
		t.Errorf("ungrouped_users misses legacy-etl: %v", ug.Ungrouped)
	}

	got2 := pluginOK[gotUser](s, "t_get_user", map[string]any{"user_name": "alice.nguyen"})
	if got2.UserName != "alice.nguyen" || got2.Arn != userArn+"/eng/alice.nguyen" {
		t.Errorf("t_get_user: %+v", got2)
	}
	msg := pluginFails(s, "t_get_user", map[string]any{"user_name": "no.such.user"}, api.NoSuchEntity)
	checkSentence(t, "t_get_user", msg)
	// Arguments the plugin's schema refuses are an InvalidInput tool error.
	pluginFails(s, "t_get_user", map[string]any{"nope": 1}, api.InvalidInput)

	created := pluginOK[createdUser](s, "t_create_user", map[string]any{"user_name": "made-by-plugin"})
	if created.Created != "made-by-plugin" {
		t.Errorf("t_create_user: %+v", created)
	}
	ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "made-by-plugin"})
	// host_info: the sandbox's account, the plugin's own name and grants.
	hi := pluginOK[api.HostInfo](s, "t_info", map[string]any{})
	if hi.AccountID != account || hi.Partition != "aws" || hi.ReadOnly || hi.Plugin != "e2e-tools" ||
		!slices.Contains(hi.Grants, "create_user") || !slices.Contains(hi.Grants, "list_users") || slices.Contains(hi.Grants, "delete_user") {
		t.Errorf("host_info: %+v", hi)
	}
	// A call fanned out through iam_batch.
	b := pluginOK[batched](s, "t_batch", map[string]any{"user_name": "alice.nguyen", "count": 40})
	if b.OK != 40 || b.Failed != 0 {
		t.Errorf("t_batch: %+v", b)
	}
}

// TestPluginProgressBeforeResult: with a progressToken, every progress
// notification of a plugin call reaches the client before the call's
// result — checked on the raw wire over 40 calls, some concurrent — and the
// client's progress handler sees them all.
func TestPluginProgressBeforeResult(t *testing.T) {
	t.Parallel()
	s, progress := startPlugins(t, writePlugins(t, helloEntry(), toolsEntry()))
	const steps = 15
	var tokens []string
	for i := 0; i < 20; i++ {
		tok := fmt.Sprintf("seq-%d", i)
		tokens = append(tokens, tok)
		res := pluginCall(s, "t_steps", map[string]any{"steps": steps}, tok)
		if res.IsError {
			t.Fatalf("t_steps: %s", resultText(res))
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		tok := fmt.Sprintf("conc-%d", i)
		tokens = append(tokens, tok)
		wg.Go(func() {
			res := pluginCall(s.in(t), "t_steps", map[string]any{"steps": steps}, tok)
			if res.IsError {
				t.Errorf("t_steps: %s", resultText(res))
			}
		})
	}
	wg.Wait()
	// hello-iam reports progress around its batch, too.
	pluginCall(s, "hello-iam_ungrouped_users", map[string]any{}, "hello")
	// Without a token, no progress.
	pluginCall(s, "t_steps", map[string]any{"steps": steps}, "")

	// The raw wire: which request id carries which token, then the order
	// in which the client read the messages.
	tokenOf := map[string]string{} // request id → token
	for _, line := range strings.Split(s.wire.String(), "\n") {
		payload, ok := strings.CutPrefix(line, "write: ")
		if !ok {
			continue
		}
		var req struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
			Params struct {
				Meta struct {
					ProgressToken any `json:"progressToken"`
				} `json:"_meta"`
			} `json:"params"`
		}
		if json.Unmarshal([]byte(payload), &req) == nil && req.Method == "tools/call" && req.Params.Meta.ProgressToken != nil {
			tokenOf[fmt.Sprint(req.ID)] = fmt.Sprint(req.Params.Meta.ProgressToken)
		}
	}
	resulted := map[string]bool{} // token → its call's result was read
	onWire := map[string]int{}
	untokened := 0
	for _, line := range strings.Split(s.wire.String(), "\n") {
		payload, ok := strings.CutPrefix(line, "read: ")
		if !ok {
			continue
		}
		var msg struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
			Params struct {
				ProgressToken any `json:"progressToken"`
			} `json:"params"`
		}
		if json.Unmarshal([]byte(payload), &msg) != nil {
			t.Errorf("the client read a line that is not JSON: %q", payload)
			continue
		}
		switch {
		case msg.Method == "notifications/progress":
			tok := fmt.Sprint(msg.Params.ProgressToken)
			if msg.Params.ProgressToken == nil {
				untokened++
			}
			if resulted[tok] {
				t.Errorf("a progress notification of %s arrived after its call's result: %s", tok, payload)
			}
			onWire[tok]++
		case msg.ID != nil && msg.Method == "":
			if tok, ok := tokenOf[fmt.Sprint(msg.ID)]; ok {
				resulted[tok] = true
			}
		}
	}
	if untokened > 0 {
		t.Errorf("%d progress notifications without a token", untokened)
	}
	for _, tok := range tokens {
		if !resulted[tok] {
			t.Errorf("no result read for the call with token %s", tok)
		}
		if onWire[tok] != steps {
			t.Errorf("token %s: %d progress notifications on the wire, want %d", tok, onWire[tok], steps)
		}
	}
	if onWire["hello"] != 2 {
		t.Errorf("hello-iam_ungrouped_users: %d progress notifications, want 2", onWire["hello"])
	}
	// The client's handler runs apart from the wire reader: give it time
	// (the deadline only guards against a hang), then it must have seen
	// every notification.
	deadline := time.Now().Add(3 * time.Minute)
	for _, tok := range tokens {
		for progress.count(tok) < steps && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := progress.count(tok); n != steps {
			t.Errorf("the client's progress handler saw %d notifications of %s, want %d", n, tok, steps)
		}
	}
}

// TestPluginConcurrentCalls: 50 calls of one plugin tool at once all
// succeed (mcp-go's worker pool is raised; the runtime queues calls for its
// instances).
func TestPluginConcurrentCalls(t *testing.T) {
	t.Parallel()
	// Waiting for one of a plugin's 8 instances counts against a call's
	// limit: on a busy machine the last of 25 calls may wait long, so the
	// limits only guard against a hang.
	hello, tools := helloEntry(), toolsEntry()
	hello.limits, tools.limits = "{timeout: 10m}", "{timeout: 10m}"
	s, _ := startPlugins(t, writePlugins(t, hello, tools))
	var wg sync.WaitGroup
	var succeeded atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang
			defer cancel()
			tool, args := "t_get_user", map[string]any{"user_name": "alice.nguyen"}
			if i%2 == 1 {
				tool, args = "hello-iam_users_per_path", map[string]any{}
			}
			res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
			switch {
			case err != nil:
				t.Errorf("call %d: %v", i, err)
			case res.IsError:
				t.Errorf("call %d: %s", i, resultText(res))
			default:
				succeeded.Add(1)
			}
		})
	}
	wg.Wait()
	if n := succeeded.Load(); n != 50 {
		t.Errorf("%d of 50 concurrent plugin calls succeeded", n)
	}
}

// TestPluginReadOnly: with --readonly a plugin tool still runs; its reads
// work, and each change it attempts is refused with ReadOnly, before the
// sandbox sees it.
func TestPluginReadOnly(t *testing.T) {
	t.Parallel()
	s, _ := startPlugins(t, writePlugins(t, helloEntry(), toolsEntry()), "--readonly")
	// The warning says the server is read-only, whichever flag (or the
	// lack of --allow-write) made it so.
	if d := s.tools["t_create_user"].Description; !strings.Contains(d, "read-only") || !strings.Contains(d, string(api.ReadOnly)) {
		t.Errorf("t_create_user's description does not warn that the server is read-only: %q", d)
	}
	if d := s.tools["hello-iam_users_per_path"].Description; strings.Contains(d, string(api.ReadOnly)) {
		t.Errorf("a read-only plugin tool's description warns of the read-only server: %q", d)
	}
	msg := pluginFails(s, "t_create_user", map[string]any{"user_name": "ro-plugin-user"}, api.ReadOnly)
	checkSentence(t, "t_create_user", msg)
	fails(s, "get_user", map[string]any{"user_name": "ro-plugin-user"}, api.NoSuchEntity)
	pluginOK[usersPerPath](s, "hello-iam_users_per_path", map[string]any{})
	pluginOK[gotUser](s, "t_get_user", map[string]any{"user_name": "alice.nguyen"})
	if hi := pluginOK[api.HostInfo](s, "t_info", map[string]any{}); !hi.ReadOnly || hi.AccountID != account {
		t.Errorf("host_info with --readonly: %+v", hi)
	}
}

// TestPluginAudit: every iam_call a plugin makes — allowed, refused by the
// gate (not granted, read-only) or by the runtime (past a cap) — is one
// audit line with caller "plugin", the plugin's name and the tool.
func TestPluginAudit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	hello := helloEntry()
	hello.grants = []string{"list_users"} // not list_groups_for_user
	tools := toolsEntry()
	tools.limits = "{max_iam_calls: 10}"
	s, _ := startPlugins(t, writePlugins(t, hello, tools), append(slices.Clone(allowWrites), "--audit-log", path)...)

	pluginOK[createdUser](s, "t_create_user", map[string]any{"user_name": "audited-plugin-user"})
	pluginOK[gotUser](s, "t_get_user", map[string]any{"user_name": "alice.nguyen"})
	res := pluginCall(s, "hello-iam_ungrouped_users", map[string]any{}, "")
	if !res.IsError || !strings.Contains(resultText(res), string(api.NotGranted)) {
		t.Errorf("ungrouped_users without list_groups_for_user: %s", resultText(res))
	}
	b := pluginOK[batched](s, "t_batch", map[string]any{"user_name": "alice.nguyen", "count": 12})
	if b.OK != 10 || b.Failed != 2 {
		t.Errorf("t_batch of 12 with max_iam_calls 10: %+v, want 10 ok and 2 refused", b)
	}
	s.close()

	recs, _ := readAudit(t, path)
	type key struct{ plugin, tool, op, outcome string }
	counts := map[key]int{}
	for _, r := range recs {
		if r.Caller != "plugin" {
			t.Errorf("audit record with caller %q: %+v", r.Caller, r)
			continue
		}
		counts[key{r.Plugin, r.Tool, r.Operation, r.Outcome}]++
	}
	users := 0
	for k, n := range counts {
		if k.op == "list_groups_for_user" {
			users += n
		}
	}
	for k, n := range map[key]int{
		{"e2e-tools", "t_create_user", "create_user", "ok"}:                           1,
		{"e2e-tools", "t_get_user", "get_user", "ok"}:                                 1,
		{"hello-iam", "hello-iam_ungrouped_users", "list_users", "ok"}:                1,
		{"e2e-tools", "t_batch", "get_user", "ok"}:                                    10,
		{"hello-iam", "hello-iam_ungrouped_users", "list_groups_for_user", "refused"}: users,
	} {
		if counts[k] != n || n == 0 {
			t.Errorf("audit: %d records of %+v, want %d\n%v", counts[k], k, n, counts)
		}
	}
	refusedByCap := 0
	for k, n := range counts {
		if k.tool == "t_batch" && k.outcome != "ok" {
			refusedByCap += n
		}
	}
	if refusedByCap != 2 {
		t.Errorf("audit: %d records of t_batch's calls past the cap, want 2\n%v", refusedByCap, counts)
	}
	if total := len(recs); total != 1+1+1+users+12 {
		t.Errorf("audit: %d records, want %d", total, 1+1+1+users+12)
	}
}

// TestPluginCancelled: a client that gives up on a call stops the plugin
// running it. Eight calls that would spin for ten minutes (their time
// limit) take every instance the runtime allows a plugin (8); the client
// cancels them; a ninth call then gets an instance — it would wait ten
// minutes if the spinning went on, far past its deadline (ctxT's, which
// otherwise only guards against a hang), so no test of its speed is needed.
func TestPluginCancelled(t *testing.T) {
	t.Parallel()
	tools := toolsEntry()
	tools.limits = "{timeout: 10m}"
	s, _ := startPlugins(t, writePlugins(t, tools))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			if _, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "t_spin", Arguments: map[string]any{"ms": 600000}}); err == nil {
				t.Errorf("ten minutes of spinning answered within half a second")
			}
		})
	}
	wg.Wait()
	start := time.Now()
	got := pluginOK[gotUser](s, "t_get_user", map[string]any{"user_name": "alice.nguyen"})
	if got.UserName != "alice.nguyen" {
		t.Errorf("t_get_user after the cancellations: %+v", got)
	}
	t.Logf("the call after the cancellations took %v", time.Since(start))
}

// runServer runs the binary to completion with empty stdin.
func runServer(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(serverBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// TestPluginHashMismatch: a module whose sha256 is not the one pinned stops
// the start with status 1, naming the file and both hashes; nothing is
// served.
func TestPluginHashMismatch(t *testing.T) {
	t.Parallel()
	wrong := strings.Repeat("ab", 32)
	tools := toolsEntry()
	tools.sha256 = wrong
	file := writePlugins(t, helloEntry(), tools)
	real := sha256File(t, toolsWasm)
	stdout, stderr, code := runServer(t, "--sandbox", "--plugins", file, "--cache-dir", wasmCache)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"e2e-tools", toolsWasm, wrong, real} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the error does not name %s:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("something was written on stdout: %q", stdout)
	}
	if strings.Count(strings.TrimSpace(stderr), "\n") > 2 || strings.Contains(stderr, "goroutine") {
		t.Errorf("the error is not a short message:\n%s", stderr)
	}
}

// TestPluginsCommands: `plugins list`, `plugins inspect`, and `tools` and
// `call` with --plugins.
func TestPluginsCommands(t *testing.T) {
	t.Parallel()
	file := writePlugins(t, helloEntry(), toolsEntry())
	helloSum, toolsSum := sha256File(t, helloWasm), sha256File(t, toolsWasm)

	stdout, stderr, code := runServer(t, "plugins", "list", "--plugins", file, "--cache-dir", wasmCache)
	if code != 0 {
		t.Fatalf("plugins list: exit %d\n%s", code, stderr)
	}
	hello, tools, _ := strings.Cut(stdout, "\n\n")
	for _, want := range []string{"hello-iam 0.1.0", helloWasm, helloSum, "hello-iam_users_per_path, hello-iam_ungrouped_users",
		"asks for:    list_groups_for_user, list_users", "granted:     list_groups_for_user, list_users", "read-only", "memory 64MiB", "timeout 30s"} {
		if !strings.Contains(hello, want) {
			t.Errorf("plugins list: hello-iam's entry lacks %q:\n%s", want, hello)
		}
	}
	for _, want := range []string{"e2e-tools 1.0.0", toolsSum, "t_steps, t_create_user, t_get_user, t_batch, t_repeat, t_info, t_spin", "asks for:    create_user, get_user, list_users", "create_user, describe_organization, explain_access, generate_credential_report", "may change IAM"} {
		if !strings.Contains(tools, want) {
			t.Errorf("plugins list: e2e-tools's entry lacks %q:\n%s", want, tools)
		}
	}

	stdout, stderr, code = runServer(t, "plugins", "inspect", helloWasm)
	if code != 0 {
		t.Fatalf("plugins inspect: exit %d\n%s", code, stderr)
	}
	var in struct {
		Path     string                `json:"path"`
		SHA256   string                `json:"sha256"`
		Describe api.PluginDescription `json:"describe"`
	}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatalf("plugins inspect: not JSON: %v\n%s", err, stdout)
	}
	if in.SHA256 != helloSum || in.Path != helloWasm || in.Describe.Name != "hello-iam" || len(in.Describe.Tools) != 2 ||
		!slices.Equal(in.Describe.Tools[1].Operations, []string{"list_users", "list_groups_for_user"}) {
		t.Errorf("plugins inspect: %+v", in)
	}
	if !strings.Contains(stdout, "\n  \"sha256\"") {
		t.Errorf("plugins inspect: not indented:\n%s", stdout)
	}

	stdout, stderr, code = runServer(t, "tools", "--plugins", file, "--cache-dir", wasmCache)
	if code != 0 {
		t.Fatalf("tools --plugins: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var pluginLines []string
	for _, l := range lines {
		if strings.Contains(l, "plugin:") {
			pluginLines = append(pluginLines, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{
		"hello-iam_users_per_path plugin:hello-iam read", "hello-iam_ungrouped_users plugin:hello-iam read",
		"t_steps plugin:e2e-tools read", "t_create_user plugin:e2e-tools write", "t_get_user plugin:e2e-tools read", "t_batch plugin:e2e-tools read",
		"t_repeat plugin:e2e-tools read", "t_info plugin:e2e-tools read", "t_spin plugin:e2e-tools read",
	}
	if !slices.Equal(pluginLines, want) || !strings.HasPrefix(lines[0], "list_users") {
		t.Errorf("tools --plugins:\n%s", stdout)
	}

	stdout, stderr, code = runServer(t, "call", "hello-iam_users_per_path", "--args", `{"path_prefix":"/eng/"}`,
		"--sandbox", "--sandbox-seed", "demo", "--plugins", file, "--cache-dir", wasmCache)
	if code != 0 {
		t.Fatalf("call hello-iam_users_per_path: exit %d\n%s", code, stderr)
	}
	var got usersPerPath
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Total == 0 || len(got.Paths) != 1 || got.Paths[0].Path != "/eng/" {
		t.Errorf("call hello-iam_users_per_path: %v\n%s", err, stdout)
	}
	_, stderr, code = runServer(t, "call", "t_create_user", "--args", `{"user_name":"x"}`, "--readonly",
		"--sandbox", "--plugins", file, "--cache-dir", wasmCache)
	if code != 1 || !strings.HasPrefix(stderr, "ReadOnly: ") {
		t.Errorf("call t_create_user --readonly: exit %d\n%s", code, stderr)
	}
}
