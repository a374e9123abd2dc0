package bench

// The load benchmark of MCP over Streamable HTTP (issue 16): 50 clients at
// once, each a person of its own — its own bearer token and its own
// narrowing headers — each making 100 mixed calls to one server, against
// the same 5,000 calls over stdio with 50 in flight on one session.
//
// The server is the real one: mcpserver over the real gate and catalogue
// on the embedded sandbox's organisation (--sandbox-seed org: a management
// account reaching three members by their OrganizationAccountAccessRole),
// the management account filled with seedAccount's mix of 500 principals
// so that a list is not trivial, every tool exposed (--toolsets all),
// read-write, no consent asked, an audit log. Over HTTP it is served by
// ServeStreamableHTTP on a loopback listener with a token file of 50
// subjects and an operator's rules file narrowing ten of them (loadRules);
// over stdio by ServeStdio over pipes, in process, with the
// operator's flags that refuse what the HTTP clients' narrowing refuses
// (--readonly, --toolsets users,roles,policies,policy,account), so that
// both transports serve the same calls with the same kinds of answers. The
// clients are the official Go SDK's (StreamableClientTransport,
// IOTransport).
//
// Each client's calls (see loadCall): reads (list_users, get_user,
// list_roles, get_account_info, list_policies, a read in a member
// account), the offline policy tools (validate_policy,
// simulate_custom_policy), a dry run of create_user, and one call its
// narrowing must refuse: create_user for a read-only client, a tool
// outside its tool set for the others; and the member read is refused for
// the clients whose X-MCP-Accounts leaves only the management account.
//
// It fails (and only then) on an error — a transport failure, a result not
// as expected — or a leak between clients: every client checks that
// tools/list is exactly its own tool set, that every result matches its
// own narrowing (a refusal names its own subject and, when one thing
// narrowed it, its own header or its own rule; a dry run says it may only
// read exactly when it is read-only), and after the run the audit
// log holds, per subject, exactly that client's calls, operation by
// operation with their outcomes, and no line without a subject. No time is
// asserted.
//
// Metrics: ms-p50/ms-p99 of a call over HTTP and over stdio (http-, stdio-)
// and their ratios; calls/s of each (all calls over the wall time of the
// run); errors and leaks (0 both, or the benchmark fails); refusals (the
// expected refusals over HTTP, equal to refusals-expected or it fails);
// stateless (clients that asked for and got the 2026-07-28 stateless
// protocol) of stateless-asked; MB-peak-rss (of the whole process during
// each run) and MB-added-rss (that peak over the settled process before
// it), per transport.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/accounts"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const (
	loadClients    = 50
	loadCalls      = 100
	loadPrincipals = 500 // seedAccount's mix: 300 users, 125 roles, 60 policies, 15 groups
	// loadToolsets is the X-MCP-Toolsets of half the clients, and the
	// stdio server's --toolsets; loadTools the X-MCP-Tools of the others,
	// a subset of it.
	loadToolsets = "users,roles,policies,policy,account"
	// loadOutside is in neither tool set: the call their narrowing refuses
	// to the clients that are not read-only.
	loadOutside = "delete_group"
	// The protocol versions the clients ask for: the stateless one (no
	// initialize, no session) and the last session-based one.
	protoStateless = "2026-07-28"
	protoSession   = "2025-11-25"
)

var loadTools = []string{"list_users", "get_user", "list_roles", "get_account_info", "list_policies",
	"validate_policy", "simulate_custom_policy", "create_user"}

// loadClient is one person: a subject of the token file and the headers
// its client sends with every request.
type loadClient struct {
	n               int
	subject, token  string
	readOnly        bool   // by its header, the operator's rule, or both
	headerReadOnly  bool   // it sends X-MCP-Readonly: true
	ruleReadOnly    bool   // the operator's rules make it read-only
	toolsets, tools string // X-MCP-Toolsets / X-MCP-Tools, "" when not sent
	accounts        string // X-MCP-Accounts, "" when not sent
	ruleAccounts    bool   // the operator's rules leave it the management account only
	memberRefused   bool   // its header or rule leaves out the member read's account
	protocol        string
	want            []string // its tools/list, sorted
	expectedAudit   []string // its audited calls (auditKey), filled as it calls
}

// loadClientsFor makes the 50 clients: half read-only by their header;
// half narrowed by toolset, half by tool names (crossed with read-only); a
// third to the management account only by their header, a third to it and
// dev, a third not by account; two in five asking for the stateless
// protocol. The operator's rules (loadRules) make five more read-only and
// leave five others the management account only, some of them also
// narrowed by their own header.
func loadClientsFor(b *testing.B) []*loadClient {
	byToolset, err := mcpserver.ResolveToolsets(loadToolsets)
	if err != nil {
		b.Fatal(err)
	}
	setA := make([]string, len(byToolset))
	for i, t := range byToolset {
		setA[i] = t.Name
	}
	slices.Sort(setA)
	setB := slices.Sorted(slices.Values(loadTools))
	cs := make([]*loadClient, loadClients)
	for i := range cs {
		tok := make([]byte, 24)
		_, _ = rand.Read(tok)
		c := &loadClient{n: i, subject: fmt.Sprintf("client-%02d", i), token: hex.EncodeToString(tok),
			headerReadOnly: i%2 == 0, ruleReadOnly: i%10 == 1, ruleAccounts: i%10 == 2, protocol: protoSession}
		c.readOnly = c.headerReadOnly || c.ruleReadOnly
		if i%4 < 2 {
			c.toolsets, c.want = loadToolsets, setA
		} else {
			c.tools, c.want = strings.Join(loadTools, ","), setB
		}
		switch i % 3 {
		case 0:
			c.accounts, c.memberRefused = sandbox.OrgManagementID, true
		case 1:
			c.accounts = sandbox.OrgManagementID + "," + sandbox.OrgDevID
		}
		c.memberRefused = c.memberRefused || c.ruleAccounts
		if i%5 < 2 {
			c.protocol = protoStateless
		}
		cs[i] = c
	}
	return cs
}

// loadWorld is one server's wiring over its own seeded sandbox.
type loadWorld struct {
	srv   *mcpserver.Server
	audit *bytes.Buffer // written by the gate only, under its lock; read after a run
}

// newLoadWorld wires the server as serve --sandbox --sandbox-seed org
// --toolsets all --confirm none --audit-log does (readOnly and toolsets
// give the stdio server its flags), over a sandbox of its own.
func newLoadWorld(b *testing.B, readOnly bool, toolsets string) *loadWorld {
	b.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(sandbox.Options{Seed: "org",
		Quotas: sandbox.Quotas{Users: 2 * loadPrincipals, Groups: loadPrincipals, Roles: loadPrincipals, Policies: loadPrincipals, InstanceProfiles: loadPrincipals}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close() })
	if err := seedAccount(sb.Transport(), sandbox.OrgManagementID, loadPrincipals); err != nil {
		b.Fatalf("seeding the management account: %v", err)
	}
	clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: sb.Transport(), SandboxKeyID: sandbox.OrgOperatorKeyID})
	if err != nil {
		b.Fatal(err)
	}
	mode := "read-write"
	if readOnly {
		mode = "read-only"
	}
	reg, err := accounts.New(ctx, &accounts.File{Discovery: &accounts.Discovery{RoleName: sandbox.OrgAccessRoleName, Mode: mode, Confirm: string(gate.ConfirmNone)}},
		accounts.Options{Clients: clients, Self: gate.Account{Self: true, ReadOnly: readOnly, Confirm: gate.ConfirmNone}})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: filepath.Join(b.TempDir(), "secrets")},
		Accounts: func() []api.ReachableAccount { return reg.Reachable(nil) }})
	if err != nil {
		b.Fatal(err)
	}
	w := &loadWorld{audit: &bytes.Buffer{}}
	g := gate.New(cat, gate.Options{ReadOnly: readOnly, Confirm: gate.ConfirmNone, Accounts: reg, Audit: w.audit})
	tools, err := mcpserver.ResolveToolsets(toolsets)
	if err != nil {
		b.Fatal(err)
	}
	if w.srv, err = mcpserver.New(g, mcpserver.Options{Tools: tools, Sandbox: true}); err != nil {
		b.Fatal(err)
	}
	return w
}

// Expected outcomes of a call.
const (
	wantOK            = "ok"
	wantReadOnly      = "ReadOnly"          // a tool error from the gate
	wantNotAllowed    = "AccountNotAllowed" // a tool error from the gate
	wantOutsideRefuse = "outside"           // refused before the gate: not in the tool set
)

// loadCall is client c's k-th call: the tool, its arguments, and what
// must come back over HTTP (stdio: see stdioWant).
func loadCall(c *loadClient, k int) (tool string, args map[string]any, want string) {
	user := fmt.Sprintf("u-%d", (c.n*loadCalls+k)%(loadPrincipals*60/100))
	switch k % 10 {
	case 0:
		return "list_users", map[string]any{}, wantOK
	case 1:
		return "get_user", map[string]any{"user_name": user}, wantOK
	case 2:
		return "list_roles", map[string]any{}, wantOK
	case 3:
		return "get_account_info", map[string]any{}, wantOK
	case 4:
		return "list_policies", map[string]any{"scope": "Local"}, wantOK
	case 5:
		return "validate_policy", map[string]any{"policy_document": map[string]any{"Version": "2012-10-17",
			"Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": fmt.Sprintf("arn:aws:s3:::bucket-%d/*", k)}}}}, wantOK
	case 6:
		return "simulate_custom_policy", map[string]any{
			"policy_documents": []any{map[string]any{"Version": "2012-10-17",
				"Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}}},
			"action_names": []string{"s3:GetObject", "iam:CreateUser"}}, wantOK
	case 7:
		return "create_user", map[string]any{"user_name": fmt.Sprintf("load-%02d-%d", c.n, k), "dry_run": true}, wantOK
	case 8:
		if c.readOnly {
			return "create_user", map[string]any{"user_name": fmt.Sprintf("load-%02d-%d", c.n, k)}, wantReadOnly
		}
		return loadOutside, map[string]any{"group_name": "g-0"}, wantOutsideRefuse
	default:
		want = wantOK
		if c.memberRefused {
			want = wantNotAllowed
		}
		return "list_users", map[string]any{api.ArgAccount: sandbox.OrgDevID}, want
	}
}

// stdioWant is what the stdio server (read-only by --readonly, the tool
// set by --toolsets, no account narrowing) answers the call that loadCall
// describes.
func stdioWant(httpWant string) string {
	if httpWant == wantNotAllowed {
		return wantOK
	}
	return httpWant
}

// auditKey is what the audit check compares of one call: operation,
// outcome, the account when the call names one, and dry_run.
func auditKey(op, outcome, account string, dry bool) string {
	return fmt.Sprintf("%s %s account=%s dry_run=%v", op, outcome, account, dry)
}

// loadTally gathers one run's measures.
type loadTally struct {
	mu        sync.Mutex
	latencies []time.Duration
	problems  []string // the first few, for the failure message
	errors    atomic.Int64
	leaks     atomic.Int64
	refusals  atomic.Int64
	stateless atomic.Int64
}

func (t *loadTally) problem(counter *atomic.Int64, format string, a ...any) {
	counter.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.problems) < 10 {
		t.problems = append(t.problems, fmt.Sprintf(format, a...))
	}
}

func (t *loadTally) add(ds []time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.latencies = append(t.latencies, ds...)
}

// percentile is the q-quantile (0 < q ≤ 1) of ds, nearest rank.
func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s) == 0 {
		return 0
	}
	return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)]
}

// toolText is a tool result's text content.
func toolText(res *mcp.CallToolResult) string {
	var sb strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(t.Text)
		}
	}
	return sb.String()
}

// runCalls makes client c's 100 calls on cs and checks each answer; http
// says which transport's expectations apply (over stdio there is no
// subject and the operator's flags refuse instead of the narrowing).
func runCalls(ctx context.Context, cs *mcp.ClientSession, c *loadClient, overHTTP bool, t *loadTally) {
	lat := make([]time.Duration, 0, loadCalls)
	for k := range loadCalls {
		tool, args, want := loadCall(c, k)
		if !overHTTP {
			want = stdioWant(want)
		}
		t0 := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		lat = append(lat, time.Since(t0))
		account := "self"
		if a, ok := args[api.ArgAccount].(string); ok {
			account = a
		}
		dry := args["dry_run"] == true
		var werr *jsonrpc.Error
		switch {
		case err != nil && errors.As(err, &werr) && want == wantOutsideRefuse && strings.Contains(werr.Message, tool):
			// Refused before the gate: over HTTP by the client's
			// narrowing, which the audit records for its subject; over
			// stdio as a tool the server does not serve, which it does not.
			t.refusals.Add(1)
			if overHTTP {
				c.expectedAudit = append(c.expectedAudit, auditKey(tool, "refused", account, dry))
			}
		case err != nil && errors.As(err, &werr):
			t.problem(&t.leaks, "%s call %d (%s): refused with %q, expected %s", c.subject, k, tool, werr.Message, want)
		case err != nil:
			t.problem(&t.errors, "%s call %d (%s): %v", c.subject, k, tool, err)
		case want == wantOutsideRefuse:
			t.problem(&t.leaks, "%s call %d: %s is outside its tool set but answered: %.200s", c.subject, k, tool, toolText(res))
		case res.IsError:
			text := toolText(res)
			code, _, _ := strings.Cut(text, ":")
			switch {
			case code != want && (code == wantReadOnly || code == wantNotAllowed):
				t.problem(&t.leaks, "%s call %d (%s): %.200s, expected %s", c.subject, k, tool, text, want)
			case code != want:
				t.problem(&t.errors, "%s call %d (%s): %.200s", c.subject, k, tool, text)
			case overHTTP && !strings.Contains(text, `subject "`+c.subject+`"`):
				t.problem(&t.leaks, "%s call %d (%s): the refusal does not name its own subject: %.200s", c.subject, k, tool, text)
			case overHTTP && refusedWhy(c, code) != "" && !strings.Contains(text, refusedWhy(c, code)):
				t.problem(&t.leaks, "%s call %d (%s): the refusal does not name what narrowed this client (%s): %.200s", c.subject, k, tool, refusedWhy(c, code), text)
			default:
				t.refusals.Add(1)
				c.expectedAudit = append(c.expectedAudit, auditKey(tool, "refused", account, dry))
			}
		case want != wantOK:
			t.problem(&t.leaks, "%s call %d (%s): succeeded, expected %s", c.subject, k, tool, want)
		default:
			if msg := checkResult(tool, args, res, c, overHTTP); msg != "" {
				t.problem(&t.leaks, "%s call %d (%s): %s", c.subject, k, tool, msg)
			}
			c.expectedAudit = append(c.expectedAudit, auditKey(tool, "ok", account, dry))
		}
	}
	t.add(lat)
}

// refusedWhy is what a refusal with code must name as its reason, when
// only one thing narrowed c that way: its own header, or the operator's
// rule for its own subject; "" when both did.
func refusedWhy(c *loadClient, code string) string {
	header, rule := c.headerReadOnly, c.ruleReadOnly
	name := mcpserver.HeaderReadOnly
	if code == wantNotAllowed {
		header, rule, name = c.accounts == sandbox.OrgManagementID, c.ruleAccounts, mcpserver.HeaderAccounts
	}
	switch {
	case header && !rule:
		return name
	case rule && !header:
		return `rule for subject "` + c.subject + `"`
	}
	return ""
}

// loadRules is the operator's rules file: the rules of the clients that
// loadClientsFor marks, and no default (the others are not narrowed).
func loadRules(b *testing.B, clients []*loadClient) *httpauth.Rules {
	var y strings.Builder
	y.WriteString("rules:\n")
	for _, c := range clients {
		if c.ruleReadOnly {
			fmt.Fprintf(&y, "  - subject: %s\n    read_only: true\n", c.subject)
		}
		if c.ruleAccounts {
			fmt.Fprintf(&y, "  - subject: %s\n    accounts: [%q]\n", c.subject, sandbox.OrgManagementID)
		}
	}
	rules, err := httpauth.ParseRules([]byte(y.String()))
	if err != nil {
		b.Fatalf("the rules file: %v", err)
	}
	return rules
}

// checkResult checks a successful result against what was asked and the
// client's narrowing; "" when it matches.
func checkResult(tool string, args map[string]any, res *mcp.CallToolResult, c *loadClient, overHTTP bool) string {
	var out struct {
		Users []json.RawMessage `json:"users"`
		User  struct {
			UserName string `json:"user_name"`
		} `json:"user"`
		DryRun bool   `json:"dry_run"`
		Msg    string `json:"message"`
	}
	if err := json.Unmarshal([]byte(toolText(res)), &out); err != nil {
		return fmt.Sprintf("the result is not JSON: %v", err)
	}
	switch tool {
	case "list_users":
		if len(out.Users) == 0 {
			return "no users listed"
		}
	case "get_user":
		if out.User.UserName != args["user_name"] {
			return fmt.Sprintf("asked for %v, got user %q", args["user_name"], out.User.UserName)
		}
	case "create_user":
		if !out.DryRun {
			return "a dry run's result is not marked dry_run"
		}
		// The plan says the change would be refused exactly when this
		// client (HTTP) or the server (stdio) may only read.
		mayOnlyRead := strings.Contains(out.Msg, "you may only read on this server")
		if overHTTP && mayOnlyRead != c.readOnly {
			return fmt.Sprintf("read-only is %v for this client, but its dry run says: %q", c.readOnly, out.Msg)
		}
	}
	return ""
}

// headerTransport sends a client's token and narrowing headers with
// every request.
type headerTransport struct {
	next http.RoundTripper
	h    http.Header
}

func (t *headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.h {
		r.Header[k] = v
	}
	return t.next.RoundTrip(r)
}

func (c *loadClient) headers() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	if c.headerReadOnly {
		h.Set(mcpserver.HeaderReadOnly, "true")
	}
	if c.toolsets != "" {
		h.Set(mcpserver.HeaderToolsets, c.toolsets)
	}
	if c.tools != "" {
		h.Set(mcpserver.HeaderTools, c.tools)
	}
	if c.accounts != "" {
		h.Set(mcpserver.HeaderAccounts, c.accounts)
	}
	return h
}

// checkToolsList compares a client's tools/list with its tool set.
func checkToolsList(ctx context.Context, cs *mcp.ClientSession, c *loadClient, t *loadTally) {
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.problem(&t.errors, "%s: tools/list: %v", c.subject, err)
		return
	}
	got := make([]string, len(res.Tools))
	for i, tool := range res.Tools {
		got[i] = tool.Name
	}
	slices.Sort(got)
	if !slices.Equal(got, c.want) {
		t.problem(&t.leaks, "%s: tools/list has %d tools %v, its tool set %d", c.subject, len(got), got, len(c.want))
	}
}

// startHTTP serves w over Streamable HTTP on a loopback port with a token
// file of the clients' subjects and the operator's rules for some of them;
// it returns the endpoint's URL.
func startHTTP(b *testing.B, w *loadWorld, clients []*loadClient) string {
	var file strings.Builder
	file.WriteString("# the load benchmark's clients\n")
	for _, c := range clients {
		fmt.Fprintf(&file, "%s %s\n", c.subject, c.token)
	}
	tokens, err := httpauth.ParseTokenFile([]byte(file.String()))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	opts := mcpserver.HTTPOptions{Listener: ln, Auth: tokens, Rules: loadRules(b, clients), ShutdownTimeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- w.srv.ServeStreamableHTTP(ctx, opts)
	}()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("ServeStreamableHTTP: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + mcpserver.EndpointPath
}

// loadRun is one transport's measures.
type loadRun struct {
	tally       *loadTally
	wall        time.Duration
	peak, added float64
}

// runHTTP connects the 50 clients, each on its own connections, and has
// them make their calls at once.
func runHTTP(b *testing.B, url string, clients []*loadClient) *loadRun {
	t := &loadTally{}
	ctx := context.Background()
	sessions := make([]*mcp.ClientSession, len(clients))
	for i, c := range clients {
		c.expectedAudit = nil
		hc := &http.Client{Transport: &headerTransport{next: http.DefaultTransport.(*http.Transport).Clone(), h: c.headers()}}
		client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-bench-" + c.subject, Version: "1.0.0"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1},
			&mcp.ClientSessionOptions{ProtocolVersion: c.protocol})
		if err != nil {
			b.Fatalf("%s: connecting over HTTP: %v", c.subject, err)
		}
		if c.protocol == protoStateless && cs.InitializeResult().ProtocolVersion >= protoStateless {
			t.stateless.Add(1)
		}
		sessions[i] = cs
		checkToolsList(ctx, cs, c, t)
	}
	idle := settle()
	resetPeakRSS()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { runCalls(ctx, sessions[i], c, true, t) })
	}
	wg.Wait()
	run := &loadRun{tally: t, wall: time.Since(t0), peak: peakRSSMB()}
	run.added = max(run.peak-idle, 0)
	for i, c := range clients {
		// Again after the load: nothing of another client's narrowing
		// stuck to this one's session.
		checkToolsList(ctx, sessions[i], c, t)
		if err := sessions[i].Close(); err != nil {
			t.problem(&t.errors, "%s: closing: %v", c.subject, err)
		}
	}
	return run
}

// runStdio makes the same calls on one stdio session, 50 in flight.
func runStdio(b *testing.B, w *loadWorld, clients []*loadClient) *loadRun {
	t := &loadTally{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- w.srv.ServeStdio(ctx, serverIn, serverOut)
		_ = serverOut.Close()
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-bench-stdio", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: clientIn, Writer: clientOut}, &mcp.ClientSessionOptions{ProtocolVersion: protoSession})
	if err != nil {
		b.Fatalf("connecting over stdio: %v", err)
	}
	idle := settle()
	resetPeakRSS()
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		c.expectedAudit = nil
		wg.Go(func() { runCalls(ctx, cs, c, false, t) })
	}
	wg.Wait()
	run := &loadRun{tally: t, wall: time.Since(t0), peak: peakRSSMB()}
	run.added = max(run.peak-idle, 0)
	if err := cs.Close(); err != nil {
		t.problem(&t.errors, "stdio: closing: %v", err)
	}
	if err := <-done; err != nil {
		t.problem(&t.errors, "ServeStdio: %v", err)
	}
	return run
}

// checkAudit reads the audit log written during a run and compares it,
// subject by subject, with what each client's calls should have left:
// the same operations with the same outcomes, as many, and nothing else.
// Over stdio (overHTTP false) no line has a subject, and there are as many as
// the clients' calls that reached the gate.
func checkAudit(audit []byte, clients []*loadClient, overHTTP bool, t *loadTally) {
	got := map[string][]string{}
	lines := 0
	for line := range bytes.Lines(audit) {
		lines++
		var r gate.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.problem(&t.errors, "audit line %d: %v", lines, err)
			continue
		}
		account := "self"
		if r.Account != "" && r.Account != sandbox.OrgManagementID {
			account = r.Account
		}
		got[r.Subject] = append(got[r.Subject], auditKey(r.Operation, r.Outcome, account, r.DryRun))
		if overHTTP && r.Auth != "token" {
			t.problem(&t.leaks, "audit line %d: subject %q authenticated by %q, not token", lines, r.Subject, r.Auth)
		}
	}
	if !overHTTP {
		want := 0
		for _, c := range clients {
			want += len(c.expectedAudit)
		}
		if len(got[""]) != want || len(got) != 1 {
			t.problem(&t.errors, "stdio audit: %d lines without a subject and %d subjects, expected %d lines without", len(got[""]), len(got)-1, want)
		}
		return
	}
	if n := len(got[""]); n > 0 {
		t.problem(&t.leaks, "audit: %d lines without a subject", n)
	}
	for _, c := range clients {
		want := slices.Sorted(slices.Values(c.expectedAudit))
		have := slices.Sorted(slices.Values(got[c.subject]))
		if !slices.Equal(want, have) {
			t.problem(&t.leaks, "audit: %s has %d lines, expected %d (first difference: %s)", c.subject, len(have), len(want), firstDifference(want, have))
		}
		delete(got, c.subject)
	}
	delete(got, "")
	for subject, lines := range got {
		t.problem(&t.leaks, "audit: %d lines for %q, which no client is", len(lines), subject)
	}
}

func firstDifference(want, have []string) string {
	for i := range min(len(want), len(have)) {
		if want[i] != have[i] {
			return fmt.Sprintf("expected %q, found %q", want[i], have[i])
		}
	}
	if len(want) > len(have) {
		return fmt.Sprintf("missing %q", want[len(have)])
	}
	if len(have) > len(want) {
		return fmt.Sprintf("extra %q", have[len(want)])
	}
	return "none"
}

func BenchmarkHTTPLoad(b *testing.B) {
	clients := loadClientsFor(b)
	expectedRefusals, stdioRefusals := 0, 0
	for _, c := range clients {
		for k := range loadCalls {
			_, _, want := loadCall(c, k)
			if want != wantOK {
				expectedRefusals++
			}
			if stdioWant(want) != wantOK {
				stdioRefusals++
			}
		}
	}
	httpWorld := newLoadWorld(b, false, mcpserver.ToolsetAll)
	stdioWorld := newLoadWorld(b, true, loadToolsets)
	url := startHTTP(b, httpWorld, clients)
	for i := 0; i < b.N; i++ {
		httpWorld.audit.Reset()
		stdioWorld.audit.Reset()
		h := runHTTP(b, url, clients)
		checkAudit(httpWorld.audit.Bytes(), clients, true, h.tally)
		s := runStdio(b, stdioWorld, clients)
		checkAudit(stdioWorld.audit.Bytes(), clients, false, s.tally)

		calls := float64(loadClients * loadCalls)
		hp50, hp99 := percentile(h.tally.latencies, 0.5), percentile(h.tally.latencies, 0.99)
		sp50, sp99 := percentile(s.tally.latencies, 0.5), percentile(s.tally.latencies, 0.99)
		b.ReportMetric(ms(hp50), "http-ms-p50")
		b.ReportMetric(ms(hp99), "http-ms-p99")
		b.ReportMetric(ms(sp50), "stdio-ms-p50")
		b.ReportMetric(ms(sp99), "stdio-ms-p99")
		b.ReportMetric(float64(hp50)/float64(max(sp50, 1)), "p50-ratio")
		b.ReportMetric(float64(hp99)/float64(max(sp99, 1)), "p99-ratio")
		b.ReportMetric(calls/h.wall.Seconds(), "http-calls/s")
		b.ReportMetric(calls/s.wall.Seconds(), "stdio-calls/s")
		b.ReportMetric(float64(h.tally.errors.Load()+s.tally.errors.Load()), "errors")
		b.ReportMetric(float64(h.tally.leaks.Load()+s.tally.leaks.Load()), "leaks")
		b.ReportMetric(float64(h.tally.refusals.Load()), "refusals")
		b.ReportMetric(float64(expectedRefusals), "refusals-expected")
		b.ReportMetric(float64(h.tally.stateless.Load()), "stateless")
		b.ReportMetric(float64(loadClients*2/5), "stateless-asked")
		b.ReportMetric(float64(loadClients), "clients")
		b.ReportMetric(calls, "calls")
		b.ReportMetric(h.peak, "http-MB-peak-rss")
		b.ReportMetric(h.added, "http-MB-added-rss")
		b.ReportMetric(s.peak, "stdio-MB-peak-rss")
		b.ReportMetric(s.added, "stdio-MB-added-rss")

		if got := h.tally.refusals.Load(); got != int64(expectedRefusals) {
			b.Errorf("HTTP: %d refusals, expected exactly %d", got, expectedRefusals)
		}
		if got := s.tally.refusals.Load(); got != int64(stdioRefusals) {
			b.Errorf("stdio: %d refusals, expected exactly %d", got, stdioRefusals)
		}
		for name, run := range map[string]*loadRun{"HTTP": h, "stdio": s} {
			if e, l := run.tally.errors.Load(), run.tally.leaks.Load(); e+l > 0 {
				b.Errorf("%s: %d errors and %d leaks between clients; the first:\n  %s", name, e, l, strings.Join(run.tally.problems, "\n  "))
			}
		}
	}
}
