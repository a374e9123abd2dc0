// Package wasmtest runs the committed unused-roles module in the server's
// plugin runtime, in process, over a gate on the embedded sandbox: pages
// and batches up to IAM's largest account within the shipped limits, the
// host's refusals, and a fuzz target for the assistant's arguments. It
// holds tests alone, in a directory of its own, so that make plugins (which
// builds each plugins/*/ holding Go files) leaves it out, and so that a
// fuzz worker does not first build the server, as e2e's TestMain does.
package wasmtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

const day = 24 * time.Hour

// shipped is the plugin's entry in the repository's plugins.yaml, pointing
// at the committed module: its grants and limits as an operator gets them.
func shipped(t testing.TB) plugin.Spec {
	t.Helper()
	cfg, err := plugin.LoadConfig(filepath.Join("..", "..", "..", "plugins.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Plugins {
		if s.Name == "unused-roles" {
			wasm, err := os.ReadFile(s.Path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(wasm)
			// The pin itself is e2e's to check (TestUnusedRolesPinned); here
			// the module under test is the committed one, whatever the pin.
			s.SHA256 = hex.EncodeToString(sum[:])
			return s
		}
	}
	t.Fatal("plugins.yaml has no unused-roles entry")
	return plugin.Spec{}
}

// account is a sandbox whose clock can be put back, so that roles are
// created and used days ago, and a client to set it up with.
type account struct {
	sb    *sandbox.Server
	clock *hostiamtest.Clock
	admin *hostiamtest.Client
}

func newAccount(t testing.TB, faults sandbox.Faults) *account {
	t.Helper()
	clock := &hostiamtest.Clock{} // the real time, which the plugin reads through WASI
	// IAM's most roles: 1,000 by default, 5,000 with a quota increase.
	sb, err := sandbox.New(sandbox.Options{Now: clock.Now, Faults: faults, Quotas: sandbox.Quotas{Roles: 5000}})
	if err != nil {
		t.Fatal(err)
	}
	admin := hostiamtest.New(t, hostiamtest.Options{Sandbox: sb, Plugin: "setup", Confirm: gate.ConfirmNone,
		Grants: []string{"create_role", "attach_role_policy", "put_role_policy", "create_instance_profile", "add_role_to_instance_profile"}})
	return &account{sb: sb, clock: clock, admin: admin}
}

const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// role creates a role ageDays ago; a lastUse of 0 days or more records
// its last use that many days ago.
func (a *account) role(t testing.TB, name, path string, ageDays, lastUseDays int) {
	t.Helper()
	a.clock.SetOffset(-time.Duration(ageDays)*day - time.Hour)
	defer a.clock.SetOffset(0)
	var out api.RoleOutput
	if err := a.admin.Call("create_role", api.CreateRoleInput{RoleName: name, Path: path, AssumeRolePolicyDocument: api.PolicyDocument(ec2Trust)}, &out); err != nil {
		t.Fatal(err)
	}
	if lastUseDays >= 0 {
		when := time.Now().Add(-time.Duration(lastUseDays)*day - time.Hour)
		if err := a.sb.RecordServiceUse(out.Role.Arn, "s3:GetObject", "eu-west-1", when); err != nil {
			t.Fatal(err)
		}
	}
}

type report struct {
	RolesListed int `json:"roles_listed"`
	TooRecent   int `json:"too_recent"`
	Checked     int `json:"checked"`
	Unused      []struct {
		RoleName string `json:"role_name"`
		IdleDays int    `json:"idle_days"`
		Plan     []struct {
			Op string `json:"op"`
		} `json:"plan"`
	} `json:"unused"`
	IAMCalls int    `json:"iam_calls"`
	Markdown string `json:"markdown"`
}

// progressLog keeps the reports one call made.
type progressLog struct {
	mu      sync.Mutex
	reports []api.ProgressReport
}

func (p *progressLog) add(r api.ProgressReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reports = append(p.reports, r)
}

func call(t testing.TB, h *plugin.Runtime, args string, progress func(api.ProgressReport)) *api.PluginResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a guard against a hang only
	defer cancel()
	res, err := h.Call(ctx, "unused_roles", json.RawMessage(args), progress)
	if err != nil {
		t.Fatalf("unused_roles %s: %v", args, err)
	}
	return res
}

func decode(t testing.TB, res *api.PluginResult) report {
	t.Helper()
	if res.IsError {
		t.Fatalf("unused_roles failed: %+v", res.Content)
	}
	var r report
	if err := json.Unmarshal(res.StructuredContent, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPagesAndBatches: more roles than one page of list_roles and one batch
// of get_role, as the shipped entry loads the plugin: every old role is
// read once, the young ones not at all, the answer counts its IAM calls
// exactly as the host does, and progress rises to the end.
func TestPagesAndBatches(t *testing.T) {
	a := newAccount(t, sandbox.Faults{})
	const old, young = 1030, 20
	for i := range old {
		used := -1 // never
		if i%2 == 0 {
			used = i % 200 // used 0-199 days ago
		}
		a.role(t, fmt.Sprintf("old-%04d", i), "/batch/", 300, used)
	}
	for i := range young {
		a.role(t, fmt.Sprintf("young-%02d", i), "/batch/", 10, -1)
	}
	h := hostiamtest.LoadWasm(t, a.sb, shipped(t), hostiamtest.WasmOptions{ReadOnly: true})
	var p progressLog
	r := decode(t, call(t, h, `{"days":100}`, p.add))

	// Unused at 100 days: the 515 never used, and the used ones whose last
	// use is 100-199 days ago (i%200 in 100..199 for even i).
	want := 0
	for i := 0; i < old; i += 2 {
		if i%200 >= 100 {
			want++
		}
	}
	want += old / 2
	if len(r.Unused) != want || r.RolesListed != old+young || r.TooRecent != young || r.Checked != old {
		t.Errorf("%d unused of %d listed (%d too recent, %d checked), want %d of %d (%d, %d)", len(r.Unused), r.RolesListed, r.TooRecent, r.Checked, want, old+young, young, old)
	}
	// Two pages of list_roles, one get_role per old role.
	if r.IAMCalls != 2+old {
		t.Errorf("the answer counts %d IAM calls, want %d", r.IAMCalls, 2+old)
	}
	// Longest idle first: never used (300 days) before any used one.
	for i := 1; i < len(r.Unused); i++ {
		if r.Unused[i].IdleDays > r.Unused[i-1].IdleDays {
			t.Fatalf("not longest idle first: %s (%d days) after %s (%d days)", r.Unused[i].RoleName, r.Unused[i].IdleDays, r.Unused[i-1].RoleName, r.Unused[i-1].IdleDays)
		}
	}
	if !strings.Contains(r.Markdown, fmt.Sprintf("…and %d more in the structured answer.", want-50)) {
		t.Errorf("the Markdown table is not capped at 50 rows:\n%.2000s", r.Markdown)
	}
	// One report after the first page of roles, one per batch of 100
	// get_role: increasing, the last at its total.
	if len(p.reports) != 1+(old+99)/100 {
		t.Errorf("%d progress reports, want %d", len(p.reports), 1+(old+99)/100)
	}
	for i, rep := range p.reports {
		if i > 0 && rep.Progress <= p.reports[i-1].Progress {
			t.Errorf("progress does not rise: %+v", p.reports)
			break
		}
	}
	if last := p.reports[len(p.reports)-1]; last.Progress != last.Total || int(last.Total) != 2+old {
		t.Errorf("the last progress report is %+v, want %d of %d", last, 2+old, 2+old)
	}
}

// TestLimitsAndHostErrors: what the host refuses becomes a tool error that
// says what to change — a cap on IAM calls, IAM throttling — and the
// plugin's next call on the same runtime works.
func TestLimitsAndHostErrors(t *testing.T) {
	a := newAccount(t, sandbox.Faults{})
	for i := range 5 {
		a.role(t, fmt.Sprintf("idle-%d", i), "/", 200, -1)
	}
	spec := shipped(t)
	spec.Limits.MaxIAMCalls = 3
	h := hostiamtest.LoadWasm(t, a.sb, spec, hostiamtest.WasmOptions{})
	res := call(t, h, `{}`, nil)
	if text := res.Content[0].Text; !res.IsError || !strings.HasPrefix(text, "LimitExceeded: ") || !strings.Contains(text, "limits.max_iam_calls") {
		t.Errorf("past max_iam_calls: %+v", res)
	}
	if r := decode(t, call(t, h, `{"path_prefix":"/nowhere/"}`, nil)); r.RolesListed != 0 || r.IAMCalls != 1 {
		t.Errorf("the next call: %+v", r)
	}

	throttled := newAccount(t, sandbox.Faults{ThrottleRate: 1})
	h = hostiamtest.LoadWasm(t, throttled.sb, shipped(t), hostiamtest.WasmOptions{})
	res = call(t, h, `{}`, nil)
	if text := res.Content[0].Text; !res.IsError || !strings.HasPrefix(text, "Throttled: ") || !strings.Contains(text, "Retry") {
		t.Errorf("IAM throttling every request: %+v", res)
	}
}

// TestLargestAccount: IAM's most roles, 5,000, all older than the window,
// within the shipped entry's limits (memory, time, IAM calls).
func TestLargestAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: creates 5,000 roles")
	}
	a := newAccount(t, sandbox.Faults{})
	for i := range 5000 {
		used := -1
		if i%3 == 0 {
			used = 1
		}
		a.role(t, fmt.Sprintf("r-%04d", i), "/scale/", 120, used)
	}
	h := hostiamtest.LoadWasm(t, a.sb, shipped(t), hostiamtest.WasmOptions{ReadOnly: true})
	start := time.Now()
	r := decode(t, call(t, h, `{}`, nil))
	t.Logf("5,000 roles: %v, %d IAM calls", time.Since(start).Round(time.Millisecond), r.IAMCalls)
	if r.RolesListed != 5000 || len(r.Unused) != 5000-1667 || r.IAMCalls != 5+5000 {
		t.Errorf("%d listed, %d unused, %d calls", r.RolesListed, len(r.Unused), r.IAMCalls)
	}
}

// FuzzArguments: whatever JSON arguments the assistant sends, the plugin
// answers — a report, or an InvalidInput tool error saying what to fix —
// and never fails the call itself (a trap, or an error the host would
// report as the plugin's bug).
func FuzzArguments(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"days":30}`, `{"days":3650,"path_prefix":"/a/"}`, `{"days":0}`, `{"days":1.5}`, `{"days":1e400}`, `{"days":-0}`,
		`{"days":"90"}`, `{"days":null,"path_prefix":null}`, `{"path_prefix":"/\u00e9/"}`, `{"path_prefix":"/\ud83d\ude00/"}`,
		`{"days":30,"days":31}`, `{"since":1}`, `[]`, `"x"`, `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
		`{"path_prefix":"` + strings.Repeat("/", 600) + `"}`,
	} {
		f.Add(s)
	}
	a := newAccount(f, sandbox.Faults{})
	a.role(f, "idle", "/a/", 400, -1)
	h := hostiamtest.LoadWasm(f, a.sb, shipped(f), hostiamtest.WasmOptions{ReadOnly: true})
	f.Fuzz(func(t *testing.T, args string) {
		if !json.Valid([]byte(args)) {
			return // the server refuses it before any plugin runs
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a guard against a hang only
		defer cancel()
		res, err := h.Call(ctx, "unused_roles", json.RawMessage(args), nil)
		if err != nil {
			t.Fatalf("unused_roles %s: the call failed: %v", args, err)
		}
		if len(res.Content) != 1 {
			t.Fatalf("unused_roles %s: %+v", args, res)
		}
		if res.IsError {
			if !strings.HasPrefix(res.Content[0].Text, "InvalidInput: ") {
				t.Fatalf("unused_roles %s: %s", args, res.Content[0].Text)
			}
			return
		}
		var r report
		if err := json.Unmarshal(res.StructuredContent, &r); err != nil || r.Markdown != res.Content[0].Text {
			t.Fatalf("unused_roles %s: %v %s", args, err, res.StructuredContent)
		}
		if len(r.Unused) > 1 || (len(r.Unused) == 1 && r.Unused[0].RoleName != "idle") {
			t.Fatalf("unused_roles %s: %+v", args, r.Unused)
		}
	})
}
