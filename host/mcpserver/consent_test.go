package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// wire is a conversation with ServeStdio line by line, as a client writes
// it: what the consent protocol does is decided by exactly these bytes.
type wire struct {
	t     testing.TB
	srv   *mcpserver.Server
	in    *io.PipeWriter
	lines chan string
	audit *syncio.Buffer
	log   *syncio.Buffer // the server's log (the next handler of its ClientLog)
	mu    sync.Mutex
	kept  []string // lines read but not yet asked for
	done  chan error
	n     int
	read  string // the _meta of the reads the test makes; "" after initLegacy
}

type wireSetup struct {
	confirm  gate.Confirm
	readOnly bool
	toolsets string
	opts     func(*mcpserver.Options)
}

func startWire(t testing.TB, ws wireSetup) *wire {
	t.Helper()
	w := &wire{t: t, audit: &syncio.Buffer{}, log: &syncio.Buffer{}, lines: make(chan string, 1000), done: make(chan error, 1), read: modernMeta(noElicitCaps)}
	w.srv = buildServer(t, ws, w.audit)
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	w.in = inW
	go func() {
		w.done <- w.srv.ServeStdio(context.Background(), inR, outW)
		outW.Close()
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	t.Cleanup(func() {
		inW.Close()
		for range w.lines {
		}
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("ServeStdio: %v", err)
			}
		case <-time.After(3 * time.Minute): // a guard against a hang
			t.Errorf("ServeStdio did not return after its input closed")
		}
	})
	return w
}

// buildServer wires a server on the demo sandbox as `iam-mcp-server
// --sandbox` does, with the gate writing its audit to audit.
func buildServer(t testing.TB, ws wireSetup, audit io.Writer) *mcpserver.Server {
	t.Helper()
	cat := mcpserver.SandboxCatalogue(t, sandbox.Options{Seed: "demo"})
	g := gate.New(cat, gate.Options{ReadOnly: ws.readOnly, Confirm: ws.confirm, Audit: audit})
	ops, err := mcpserver.ResolveToolsets(ws.toolsets)
	if err != nil {
		t.Fatal(err)
	}
	opts := mcpserver.Options{Tools: ops, Sandbox: true, Version: "test"}
	if ws.opts != nil {
		ws.opts(&opts)
	}
	srv, err := mcpserver.New(g, opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// modernMeta is the _meta of a 2026-07-28 request declaring caps.
func modernMeta(caps string) string {
	return `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `}`
}

const (
	elicitCaps   = `{"elicitation":{"form":{}}}`
	noElicitCaps = `{}`
)

// initLegacy initialises a session of protocol 2025-11-25 declaring caps.
func (w *wire) initLegacy(caps string) {
	w.t.Helper()
	res := w.request("initialize", `{"protocolVersion":"2025-11-25","capabilities":`+caps+`,"clientInfo":{"name":"wire","version":"1"}}`)
	if res.Result == nil {
		w.t.Fatalf("initialize: %s", res.line)
	}
	w.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	w.read = ""
}

func (w *wire) send(line string) {
	w.t.Helper()
	if _, err := io.WriteString(w.in, line+"\n"); err != nil {
		w.t.Fatalf("writing to the server: %v", err)
	}
}

// request sends a request with a fresh id and returns its response,
// failing on anything else the server sends meanwhile but notifications.
func (w *wire) request(method, params string) rpcMessage {
	w.t.Helper()
	w.n++
	id := fmt.Sprintf(`"r%d"`, w.n)
	w.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + method + `","params":` + params + `}`)
	return w.await(func(m rpcMessage) bool { return string(m.ID) == id && m.Method == "" })
}

// await returns the next line that match accepts, keeping the others for
// later.
func (w *wire) await(match func(rpcMessage) bool) rpcMessage {
	w.t.Helper()
	w.mu.Lock()
	for i, l := range w.kept {
		m := parseMessage(w.t, l)
		if match(m) {
			w.kept = append(w.kept[:i], w.kept[i+1:]...)
			w.mu.Unlock()
			return m
		}
	}
	w.mu.Unlock()
	timeout := time.After(3 * time.Minute) // a guard against a hang
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				w.t.Fatalf("the server's output ended")
			}
			m := parseMessage(w.t, l)
			if match(m) {
				return m
			}
			w.mu.Lock()
			w.kept = append(w.kept, l)
			w.mu.Unlock()
		case <-timeout:
			w.t.Fatalf("no awaited line came")
		}
	}
}

func parseMessage(t testing.TB, line string) rpcMessage {
	m := rpcMessage{line: line}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("the server wrote something that is not JSON-RPC: %q", line)
	}
	return m
}

// callResult is a tools/call result as this test reads it.
type callResult struct {
	ResultType    string `json:"resultType"`
	IsError       bool   `json:"isError"`
	RequestState  string `json:"requestState"`
	InputRequests map[string]struct {
		Method string `json:"method"`
		Params struct {
			Message         string         `json:"message"`
			RequestedSchema map[string]any `json:"requestedSchema"`
		} `json:"params"`
	} `json:"inputRequests"`
	Content []struct {
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
}

func (c callResult) text() string {
	var parts []string
	for _, p := range c.Content {
		parts = append(parts, p.Text)
	}
	return strings.Join(parts, "\n")
}

// call sends a tools/call with extra params members (",..." or "") and
// returns its result.
func (w *wire) call(meta, tool, args, extra string) callResult {
	w.t.Helper()
	params := `{"name":"` + tool + `","arguments":` + args
	if meta != "" {
		params += `,"_meta":` + meta
	}
	res := w.request("tools/call", params+extra+`}`)
	if res.Result == nil {
		w.t.Fatalf("tools/call %s: %s", tool, res.line)
	}
	var out callResult
	if err := json.Unmarshal(res.Result, &out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// asked checks that r hands a consent question to the client and returns
// its token and message.
func asked(t testing.TB, r callResult) (token, message string) {
	t.Helper()
	q, ok := r.InputRequests[mcpserver.ConsentInputID]
	if r.ResultType != "input_required" || !ok || r.RequestState == "" || len(r.InputRequests) != 1 {
		t.Fatalf("want the consent question (input_required), got %+v", r)
	}
	if q.Method != "elicitation/create" {
		t.Errorf("the question's method is %q", q.Method)
	}
	if q.Params.RequestedSchema["type"] != "object" || q.Params.RequestedSchema["required"] != nil {
		t.Errorf("the question asks for %v, want an object with nothing required", q.Params.RequestedSchema)
	}
	return r.RequestState, q.Params.Message
}

// answerWith is the params members of a retry carrying token and answer.
func answerWith(token, action string) string {
	return `,"requestState":` + quoteJSON(token) + `,"inputResponses":{"consent":{"action":"` + action + `"}}`
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// userExists reads the sandbox through the server.
func (w *wire) userExists(name string) bool {
	w.t.Helper()
	r := w.call(w.read, "get_user", `{"user_name":"`+name+`"}`, "")
	switch {
	case !r.IsError:
		return true
	case strings.HasPrefix(r.text(), "NoSuchEntity: "):
		return false
	}
	w.t.Fatalf("get_user %s: %s", name, r.text())
	return false
}

// auditLines returns the audit records of op.
func (w *wire) auditLines(op string) []gate.Record {
	w.t.Helper()
	var out []gate.Record
	for _, l := range strings.Split(strings.TrimSpace(w.audit.String()), "\n") {
		if l == "" {
			continue
		}
		var r gate.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			w.t.Fatalf("audit line %q: %v", l, err)
		}
		if r.Operation == op {
			out = append(out, r)
		}
	}
	return out
}

// TestConsentModern: a 2026-07-28 client that can elicit is asked before
// a destructive change, with its plan; accept runs it, decline and cancel
// change nothing and say so; each outcome is one audit line with the
// consent, and the question itself is not audited.
func TestConsentModern(t *testing.T) {
	for _, c := range []struct {
		action, user string
		runs         bool
		say          string
	}{
		{gate.Accept, "alice.nguyen", true, ""},
		{gate.Decline, "bob.martin", false, "Declined: the person declined delete_user; nothing was changed"},
		{gate.Cancel, "carol.diaz", false, "Declined: the person closed the question about delete_user without answering; nothing was changed"},
	} {
		t.Run(c.action, func(t *testing.T) {
			w := startWire(t, wireSetup{})
			meta := modernMeta(elicitCaps)
			args := `{"user_name":"` + c.user + `","force":true}`
			token, msg := asked(t, w.call(meta, "delete_user", args, ""))
			for _, want := range []string{"The assistant asks", "delete IAM user " + c.user, "(delete_user)", "IAM calls, in this order:",
				"iam:DeleteUser user/" + c.user, "RemoveUserFromGroup", "Affected: ", "CANNOT be undone", "Accept to make exactly this change"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the question does not show %q:\n%s", want, msg)
				}
			}
			if !w.userExists(c.user) {
				t.Fatal("the user is gone before the person answered")
			}
			if n := len(w.auditLines("delete_user")); n != 0 {
				t.Errorf("the question was audited (%d lines) before the answer", n)
			}
			r := w.call(meta, "delete_user", args, answerWith(token, c.action))
			if c.runs {
				if r.IsError || r.ResultType == "input_required" || !strings.Contains(r.text(), `"deleted"`) {
					t.Fatalf("accepted, the delete did not run: %+v", r)
				}
			} else if !r.IsError || r.text() != c.say {
				t.Errorf("answered %s: %+v, want the tool error %q", c.action, r, c.say)
			}
			if w.userExists(c.user) == c.runs {
				t.Errorf("answered %s: the user exists %v afterwards", c.action, !c.runs)
			}
			recs := w.auditLines("delete_user")
			if len(recs) != 1 || recs[0].Consent == nil {
				t.Fatalf("audit: %+v", recs)
			}
			want := gate.ConsentRecord{Level: gate.ConfirmDestructive, Via: mcpserver.ViaElicitation, Answer: c.action}
			if *recs[0].Consent != want {
				t.Errorf("audited consent %+v, want %+v", *recs[0].Consent, want)
			}
			if (recs[0].Outcome == "ok") != c.runs {
				t.Errorf("audited outcome %s", recs[0].Outcome)
			}
		})
	}
}

// TestConsentUnavailable: a client that cannot elicit (a 2026-07-28
// request without the capability, or an earlier session that did not
// declare it, or declared only URL elicitation) is refused, with the flag
// that allows such changes without asking; nothing runs, and the audit
// line says nobody could be asked.
func TestConsentUnavailable(t *testing.T) {
	for _, c := range []struct {
		name         string
		legacyCaps   string // "" for a 2026-07-28 request
		modernCaps   string
		confirm      gate.Confirm
		tool, args   string
		user         string
		wantRefusal  bool
		wantToChange bool
	}{
		{name: "modern without elicitation", modernCaps: noElicitCaps, tool: "delete_user", args: `{"user_name":"dan.okafor","force":true}`, user: "dan.okafor", wantRefusal: true},
		{name: "modern with URL elicitation only", modernCaps: `{"elicitation":{"url":{}}}`, tool: "delete_user", args: `{"user_name":"dan.okafor","force":true}`, user: "dan.okafor", wantRefusal: true},
		{name: "legacy without elicitation", legacyCaps: `{}`, tool: "delete_user", args: `{"user_name":"dan.okafor","force":true}`, user: "dan.okafor", wantRefusal: true},
		{name: "legacy without elicitation, --confirm writes, a create", legacyCaps: `{}`, confirm: gate.ConfirmWrites, tool: "create_user", args: `{"user_name":"new.person"}`, user: "new.person", wantRefusal: true},
		{name: "legacy without elicitation, a create under the default", legacyCaps: `{}`, tool: "create_user", args: `{"user_name":"new.person"}`, user: "new.person", wantToChange: true},
		{name: "modern without elicitation, --confirm none", modernCaps: noElicitCaps, confirm: gate.ConfirmNone, tool: "delete_user", args: `{"user_name":"dan.okafor","force":true}`, user: "dan.okafor", wantToChange: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := startWire(t, wireSetup{confirm: c.confirm})
			meta := ""
			if c.legacyCaps != "" {
				w.initLegacy(c.legacyCaps)
			} else {
				meta = modernMeta(c.modernCaps)
			}
			existed := w.userExists(c.user)
			r := w.call(meta, c.tool, c.args, "")
			if c.wantRefusal {
				if !r.IsError || !strings.HasPrefix(r.text(), "ConsentRequired: ") || !strings.Contains(r.text(), "--confirm none") || !strings.Contains(r.text(), "IAM_MCP_CONFIRM=none") {
					t.Fatalf("want ConsentRequired naming --confirm none, got %+v", r)
				}
				recs := w.auditLines(c.tool)
				if len(recs) != 1 || recs[0].Consent == nil || recs[0].Consent.Answer != "unavailable" || recs[0].Outcome != "refused" {
					t.Errorf("audit: %+v", recs)
				}
			} else if r.IsError || r.ResultType == "input_required" {
				t.Fatalf("want the change to run, got %+v", r)
			}
			if changed := w.userExists(c.user) != existed; changed != c.wantToChange {
				t.Errorf("the user changed: %v", changed)
			}
		})
	}
}

// TestConsentRequestStateIsNotTrusted: the requestState goes through the
// client, so whatever comes back is checked against what the server kept;
// none of these retries is taken as consent — each is asked again, and
// the user is still there.
func TestConsentRequestStateIsNotTrusted(t *testing.T) {
	w := startWire(t, wireSetup{toolsets: "all"})
	meta := modernMeta(elicitCaps)
	alice := `{"user_name":"alice.nguyen","force":true}`
	tokenAlice, _ := asked(t, w.call(meta, "delete_user", alice, ""))
	// A token issued for another call (bob), used for alice.
	tokenBob, _ := asked(t, w.call(meta, "delete_user", `{"user_name":"bob.martin","force":true}`, ""))
	// A token issued for another tool on the same user.
	tokenBoundary, _ := asked(t, w.call(meta, "delete_user_permissions_boundary", `{"user_name":"alice.nguyen"}`, ""))

	attempts := []struct{ name, extra string }{
		{"no requestState", `,"inputResponses":{"consent":{"action":"accept"}}`},
		{"a forged requestState", answerWith("forged-token", "accept")},
		{"an empty requestState", answerWith("", "accept")},
		{"a token one character off", answerWith(tokenAlice[:len(tokenAlice)-1]+flip(tokenAlice[len(tokenAlice)-1]), "accept")},
		{"the token of another call", answerWith(tokenBob, "accept")},
		{"the token of another tool", answerWith(tokenBoundary, "accept")},
		{"the answer under another key", `,"requestState":` + quoteJSON(tokenAlice) + `,"inputResponses":{"yes":{"action":"accept"}}`},
	}
	for _, a := range attempts {
		r := w.call(meta, "delete_user", alice, a.extra)
		if r.ResultType != "input_required" {
			t.Errorf("%s: not asked again: %+v", a.name, r)
		}
	}
	// Each retry above took the token it named, so the real token of
	// alice's call, used now, was consumed by "the answer under another
	// key": a question is answered once.
	r := w.call(meta, "delete_user", alice, answerWith(tokenAlice, "accept"))
	if r.ResultType != "input_required" {
		t.Errorf("a token already presented once was taken again: %+v", r)
	}
	if !w.userExists("alice.nguyen") || !w.userExists("bob.martin") {
		t.Fatal("a change ran without a valid answer")
	}
	if recs := w.auditLines("delete_user"); len(recs) != 0 {
		t.Errorf("questions were audited as calls: %+v", recs)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestConsentMalformedAnswers: an answer is read strictly; one mcp-go or
// encoding/json would read otherwise than written, or that is not accept,
// decline or cancel, is no answer.
func TestConsentMalformedAnswers(t *testing.T) {
	w := startWire(t, wireSetup{})
	meta := modernMeta(elicitCaps)
	args := `{"user_name":"alice.nguyen","force":true}`
	for _, answer := range []string{
		`{"Action":"accept"}`,
		`{"ACTION":"accept"}`,
		`{"action":"ACCEPT"}`,
		`{"action":"yes"}`,
		`{"action":true}`,
		`{"action":"accept","extra":1}`,
		`{"action":"accept","content":"yes"}`,
		`{}`,
		`{"action":"accept"},"other":{"action":"accept"}`,
	} {
		token, _ := asked(t, w.call(meta, "delete_user", args, ""))
		r := w.call(meta, "delete_user", args, `,"requestState":`+quoteJSON(token)+`,"inputResponses":{"consent":`+answer+`}`)
		if r.ResultType != "input_required" {
			t.Errorf("answer %s: not asked again: %+v", answer, r)
		}
	}
	if !w.userExists("alice.nguyen") {
		t.Fatal("a malformed answer ran the change")
	}
}

// TestConsentReplay: an accepted token cannot approve a second change,
// even the same one again.
func TestConsentReplay(t *testing.T) {
	w := startWire(t, wireSetup{confirm: gate.ConfirmWrites})
	meta := modernMeta(elicitCaps)
	args := `{"user_name":"replay.me"}`
	token, _ := asked(t, w.call(meta, "create_user", args, ""))
	if r := w.call(meta, "create_user", args, answerWith(token, "accept")); r.IsError || r.ResultType == "input_required" {
		t.Fatalf("accepted create: %+v", r)
	}
	del := `{"user_name":"replay.me"}`
	if r := w.call(meta, "delete_user", del, answerWith(token, "accept")); r.ResultType != "input_required" {
		t.Errorf("the accepted token of a create was taken for a delete: %+v", r)
	}
	if r := w.call(meta, "create_user", `{"user_name":"replay.two"}`, answerWith(token, "accept")); r.ResultType != "input_required" {
		t.Errorf("the accepted token was taken again: %+v", r)
	}
	if !w.userExists("replay.me") {
		t.Error("the user created is gone")
	}
}

// TestConsentPlanChanged: the person approves a plan, not a tool name: if
// the plan differs when the answer comes back (here the user got a new
// access key, which a force delete would also remove), the answer does
// not apply and the person is asked again, with the new plan.
func TestConsentPlanChanged(t *testing.T) {
	w := startWire(t, wireSetup{})
	meta := modernMeta(elicitCaps)
	args := `{"user_name":"farid.haddad","force":true}`
	token, before := asked(t, w.call(meta, "delete_user", args, ""))
	if r := w.call(meta, "create_access_key", `{"user_name":"farid.haddad"}`, ""); r.IsError {
		t.Fatalf("create_access_key: %s", r.text())
	}
	r := w.call(meta, "delete_user", args, answerWith(token, "accept"))
	_, after := asked(t, r)
	if !strings.Contains(after, "DeleteAccessKey") || strings.Contains(before, "DeleteAccessKey") {
		t.Errorf("the new question does not show the new plan:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !w.userExists("farid.haddad") {
		t.Fatal("the change ran on an answer to another plan")
	}
}

// TestConsentConcurrentRetries: one token raced by many retries approves
// at most one call.
func TestConsentConcurrentRetries(t *testing.T) {
	w := startWire(t, wireSetup{confirm: gate.ConfirmWrites})
	meta := modernMeta(elicitCaps)
	args := `{"user_name":"race.me"}`
	token, _ := asked(t, w.call(meta, "create_user", args, ""))
	const n = 8
	for i := range n {
		w.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":"race%d","method":"tools/call","params":{"name":"create_user","arguments":%s,"_meta":%s%s}}`, i, args, meta, answerWith(token, "accept")))
	}
	ran := 0
	for i := range n {
		m := w.await(func(m rpcMessage) bool { return string(m.ID) == fmt.Sprintf(`"race%d"`, i) })
		var r callResult
		if err := json.Unmarshal(m.Result, &r); err != nil {
			t.Fatal(m.line)
		}
		if r.ResultType != "input_required" && !r.IsError {
			ran++
		}
	}
	if ran != 1 {
		t.Errorf("%d retries ran on one token, want 1", ran)
	}
}

// TestConsentLegacy: a client of an earlier protocol is asked with
// elicitation/create (mcp-go's bridge) within the one call; its answer
// decides as at 2026-07-28.
func TestConsentLegacy(t *testing.T) {
	for _, c := range []struct {
		action, user string
		runs         bool
	}{
		{gate.Accept, "alice.nguyen", true},
		{gate.Decline, "bob.martin", false},
		{gate.Cancel, "carol.diaz", false},
	} {
		t.Run(c.action, func(t *testing.T) {
			w := startWire(t, wireSetup{})
			w.initLegacy(elicitCaps)
			w.send(`{"jsonrpc":"2.0","id":"del","method":"tools/call","params":{"name":"delete_user","arguments":{"user_name":"` + c.user + `","force":true}}}`)
			q := w.await(func(m rpcMessage) bool { return m.Method == "elicitation/create" })
			var req struct {
				Params struct {
					Message string `json:"message"`
				} `json:"params"`
			}
			json.Unmarshal([]byte(q.line), &req)
			if !strings.Contains(req.Params.Message, "iam:DeleteUser user/"+c.user) {
				t.Errorf("the question: %s", req.Params.Message)
			}
			w.send(`{"jsonrpc":"2.0","id":` + string(q.ID) + `,"result":{"action":"` + c.action + `"}}`)
			m := w.await(func(m rpcMessage) bool { return string(m.ID) == `"del"` })
			var r callResult
			json.Unmarshal(m.Result, &r)
			if r.IsError == c.runs || (!c.runs && !strings.HasPrefix(r.text(), "Declined: ")) {
				t.Errorf("answered %s: %s", c.action, m.line)
			}
			if w.userExists(c.user) == c.runs {
				t.Errorf("answered %s: the user exists %v", c.action, !c.runs)
			}
			recs := w.auditLines("delete_user")
			if len(recs) != 1 || recs[0].Consent == nil || recs[0].Consent.Answer != c.action || recs[0].Consent.Via != "elicitation" {
				t.Errorf("audit: %+v", recs)
			}
		})
	}
}

// TestConsentLegacyMalformedAnswer: an answer to elicitation/create that
// encoding/json would read otherwise than written fails the question; the
// change does not run.
func TestConsentLegacyMalformedAnswer(t *testing.T) {
	for _, result := range []string{
		`{"action":"decline","ACTION":"accept"}`,
		`{"Action":"accept"}`,
		`{"action":"accept","extra":true}`,
		`"accept"`,
	} {
		t.Run(result, func(t *testing.T) {
			w := startWire(t, wireSetup{})
			w.initLegacy(elicitCaps)
			w.send(`{"jsonrpc":"2.0","id":"del","method":"tools/call","params":{"name":"delete_user","arguments":{"user_name":"alice.nguyen","force":true}}}`)
			q := w.await(func(m rpcMessage) bool { return m.Method == "elicitation/create" })
			w.send(`{"jsonrpc":"2.0","id":` + string(q.ID) + `,"result":` + result + `}`)
			m := w.await(func(m rpcMessage) bool { return string(m.ID) == `"del"` })
			if strings.Contains(m.line, `"deleted"`) {
				t.Errorf("a malformed answer ran the change: %s", m.line)
			}
			if !w.userExists("alice.nguyen") {
				t.Error("the user is gone")
			}
		})
	}
}

// TestConsentNotForReads: reads, dry runs and changes --confirm does not
// cover are not asked about, and a dry run answers with its plan.
func TestConsentNotForReads(t *testing.T) {
	w := startWire(t, wireSetup{})
	meta := modernMeta(elicitCaps)
	if r := w.call(meta, "list_users", `{}`, ""); r.IsError || r.ResultType == "input_required" {
		t.Errorf("list_users: %+v", r)
	}
	r := w.call(meta, "delete_user", `{"user_name":"alice.nguyen","force":true,"dry_run":true}`, "")
	if r.IsError || r.ResultType == "input_required" {
		t.Fatalf("dry run: %+v", r)
	}
	var dry api.DryRunOutput
	if err := json.Unmarshal(r.StructuredContent, &dry); err != nil || !dry.DryRun || dry.Plan.Operation != "delete_user" || len(dry.Plan.Steps) < 2 {
		t.Errorf("dry run: %s", r.StructuredContent)
	}
	if r := w.call(meta, "create_user", `{"user_name":"no.question"}`, ""); r.IsError || r.ResultType == "input_required" {
		t.Errorf("create_user under --confirm destructive: %+v", r)
	}
	if !w.userExists("alice.nguyen") {
		t.Error("a dry run deleted the user")
	}
}

// TestConsentInProcessClient: mcp-go's own client, in the older protocol
// with an elicitation handler, gets the question and its yes runs the
// change: the bridge works for a real client, not only for these lines.
func TestConsentInProcessClient(t *testing.T) {
	cat := mcpserver.SandboxCatalogue(t, sandbox.Options{Seed: "demo"})
	srv, err := mcpserver.New(gate.New(cat, gate.Options{}), mcpserver.Options{Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStdio(context.Background(), inR, outW)
		outW.Close()
	}()
	var shown []string
	c := client.NewClient(transport.NewIO(outR, inW, nil), client.WithElicitationHandler(elicitFunc(func(_ context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
		shown = append(shown, req.Params.Message)
		return &mcp.ElicitationResult{ElicitationResponse: mcp.ElicitationResponse{Action: mcp.ElicitationResponseActionAccept}}, nil
	})))
	defer func() {
		c.Close()
		<-done
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-11-25"
	init.Params.ClientInfo = mcp.Implementation{Name: "in-process", Version: "1"}
	init.Params.Capabilities.Elicitation = &mcp.ElicitationCapability{}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "delete_user"
	req.Params.Arguments = map[string]any{"user_name": "erin.walsh", "force": true}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(shown) != 1 || !strings.Contains(shown[0], "erin.walsh") {
		t.Fatalf("result %+v after questions %q", res, shown)
	}
}

type elicitFunc func(context.Context, mcp.ElicitationRequest) (*mcp.ElicitationResult, error)

func (f elicitFunc) Elicit(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	return f(ctx, req)
}

// BenchmarkConsent measures what an accepted confirmation costs the server
// (the person's time aside): a delete_user under --confirm none, against
// the same delete asked about and accepted at once (the question, the
// retry, the second plan and the comparison).
func BenchmarkConsent(b *testing.B) {
	for _, c := range []struct {
		name    string
		confirm gate.Confirm
	}{{"confirm-none", gate.ConfirmNone}, {"confirm-accepted", gate.ConfirmDestructive}} {
		b.Run(c.name, func(b *testing.B) {
			w := startWire(b, wireSetup{confirm: c.confirm})
			meta := modernMeta(elicitCaps)
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				user := fmt.Sprintf(`{"user_name":"bench.%d"}`, i)
				if r := w.call(meta, "create_user", user, ""); r.IsError {
					b.Fatal(r.text())
				}
				b.StartTimer()
				r := w.call(meta, "delete_user", user, "")
				if r.ResultType == "input_required" {
					r = w.call(meta, "delete_user", user, answerWith(r.RequestState, "accept"))
				}
				if r.IsError || r.ResultType == "input_required" {
					b.Fatalf("delete: %+v", r)
				}
			}
		})
	}
}
