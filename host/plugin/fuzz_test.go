package plugin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// FuzzCountArrayElements: the counter that refuses a giant iam_batch
// before decoding it never panics, and agrees with encoding/json on every
// valid array.
func FuzzCountArrayElements(f *testing.F) {
	for _, s := range []string{`[]`, ` [ ] `, `[{}]`, `[{"op":"a"},{"op":"b"}]`, `["[,]", "\"", {"a":[1,2,{}]}]`, `[`, `]`, `[1,]`, `{}`, `[[],[[]],"x\\"y"]`, `[1] x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := countArrayElements(b)
		var elems []json.RawMessage
		if json.Unmarshal(b, &elems) == nil {
			if !ok || n != len(elems) {
				t.Errorf("%q: counted %d (ok %v), encoding/json decodes %d", b, n, ok, len(elems))
			}
		}
		if n < 0 || n > len(b) {
			t.Errorf("%q: counted %d", b, n)
		}
	})
}

// FuzzHostInput: whatever bytes a plugin hands iam_call, iam_batch or
// progress, and whatever its describe or call answers, the host never
// panics, answers iam_call with one IAMResponse and iam_batch with one
// IAMResponse (refused whole) or exactly one per request, and never echoes
// more than a short prefix of what it was sent.
func FuzzHostInput(f *testing.F) {
	for _, s := range []string{
		`{"op":"list_users","args":{"max_items":1}}`,
		`{"op":"list_users","OP":"delete_user"}`,
		`{"op":"list_users","op":"delete_user"}`,
		`[{"op":"list_users"},{"op":"get_user","args":{"user_name":"a"}}]`,
		`[{"op":"x","Args":1}]`,
		`{"progress":1,"total":2,"message":"half"}`,
		`{"name":"p","version":"1","description":"d","tools":[{"name":"t","input_schema":{"type":"object"},"operations":["list_users"]}]}`,
		`{"tools":[],"Tools":[{"name":"delete_user"}]}`,
		`{"content":[{"type":"text","text":"x"}],"is_error":true,"is_error":false}`,
		`[` + strings.Repeat(`{"op":"a"},`, 20) + `{"op":"a"}]`,
		`{"op":"` + strings.Repeat("x", 500) + `"}`,
		`{"op":"list_users","account":"dev","args":{"account":"prod"}}`,
		`{"op":"list_users","account":"dev","Account":"prod"}`,
		`[{"op":"list_users","account":"` + strings.Repeat("9", 500) + `"},{"op":"list_users","account":7}]`,
	} {
		f.Add([]byte(s))
	}
	p, err := newLoaded(Spec{Name: "fuzz", Path: "fuzz.wasm", SHA256: strings.Repeat("0", 64), Limits: Limits{MaxIAMCalls: 50}}, discardLogger())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		st := &callState{tool: "fuzz_t", progress: func(api.ProgressReport) {}}
		st.limiter = newProgressLimiter(p.now)

		var one api.IAMResponse
		out := p.iamCallFunc(ctx, st, in)
		if err := json.Unmarshal(out, &one); err != nil || (one.Error == nil) == (one.Result == nil) {
			t.Fatalf("iam_call %q answered %q", in, out)
		}
		if len(out) > 1024 {
			t.Fatalf("iam_call %q answered %d bytes: %q", in, len(out), out)
		}

		out = p.iamBatchFunc(ctx, st, in)
		n, _ := countArrayElements(in)
		var many []api.IAMResponse
		switch {
		case json.Unmarshal(out, &one) == nil && one.Error != nil:
			if len(out) > 1024 {
				t.Fatalf("iam_batch %q refused with %d bytes: %q", in, len(out), out)
			}
		case json.Unmarshal(out, &many) == nil:
			if len(many) != n {
				t.Fatalf("iam_batch %q: %d answers for %d requests", in, len(many), n)
			}
			if len(out) > 1024*max(n, 1) {
				t.Fatalf("iam_batch %q answered %d bytes", in, len(out))
			}
		default:
			t.Fatalf("iam_batch %q answered %q", in, out)
		}

		if out := p.progressFunc(ctx, st, in); out != nil {
			t.Fatalf("progress answered %q", out)
		}
		if d, err := parseDescription("fuzz", in); err == nil {
			for _, tool := range d.Tools {
				if !namePattern.MatchString(tool.Name) || !json.Valid(tool.InputSchema) {
					t.Fatalf("describe %q accepted a tool %+v", in, tool)
				}
			}
		} else if len(err.Error()) > 600 {
			t.Fatalf("describe %q: an error of %d bytes", in, len(err.Error()))
		}
		if _, why := parseResult(in); len(why) > 300 {
			t.Fatalf("result %q: %d bytes of why", in, len(why))
		}
	})
}

// FuzzConsentRequest: whatever bytes a plugin hands consent, the host
// never panics, answers one ConsentAnswer that approves nothing it could
// not plan (this gate's catalogue plans nothing), asks nobody, and never
// echoes more than a short prefix of what it was sent.
func FuzzConsentRequest(f *testing.F) {
	for _, s := range []string{
		`{"summary":"Remove alice","calls":[{"op":"delete_user","args":{"user_name":"alice"}}]}`,
		`{"summary":"s","calls":[{"op":"delete_user"}],"Calls":[]}`,
		`{"summary":"s","summary":"t","calls":[{"op":"tag_user"}]}`,
		`{"summary":"two\nlines","calls":[{"op":"delete_user"}]}`,
		`{"summary":"\u202e","calls":[{"op":"delete_user"}]}`,
		`{"summary":"s","calls":[]}`,
		`{"summary":"s","calls":{"op":"delete_user"}}`,
		`{"summary":"s","calls":[{"op":"list_users","OP":"delete_user"}]}`,
		`{"summary":"s","calls":[` + strings.Repeat(`{"op":"a"},`, 30) + `{"op":"a"}]}`,
		`{"summary":"` + strings.Repeat("x", 2000) + `","calls":[{"op":"delete_user"}]}`,
		`[`, `null`, `""`,
		`{"summary":"s","calls":[{"op":"delete_user","args":{"user_name":"a"},"account":"123456789012"}]}`,
		`{"summary":"s","calls":[{"op":"delete_user","args":{"user_name":"a","account":"prod"},"account":"dev"}]}`,
		`{"summary":"s","calls":[{"op":"delete_user","account":"dev","ACCOUNT":"prod"}]}`,
		`{"summary":"s","calls":[{"op":"delete_user","args":{"user_name":"a"},"account":"` + strings.Repeat("\u202e", 300) + `"}]}`,
	} {
		f.Add([]byte(s))
	}
	p, err := newLoaded(Spec{Name: "fuzz", Path: "fuzz.wasm", SHA256: strings.Repeat("0", 64), Limits: Limits{MaxIAMCalls: 50}, Grants: api.Names()}, discardLogger())
	if err != nil {
		f.Fatal(err)
	}
	// Every operation granted and declared, in front of a catalogue that
	// plans nothing: the request goes through every check there is.
	p.toolGrants = map[string]map[string]bool{"fuzz_t": p.grants}
	p.gate = gate.New(refusingRunner{}, gate.Options{Confirm: gate.ConfirmWrites})
	asked := &person{answers: []gate.Answer{{Decision: gate.Accept}}}
	f.Fuzz(func(t *testing.T, in []byte) {
		st := &callState{tool: "fuzz_t", consent: newToolConsent(asked, nil)}
		out := p.consentFunc(ctx, st, in)
		var a api.ConsentAnswer
		if err := strictjson.Unmarshal(out, &a); err != nil {
			t.Fatalf("consent %q answered %q: %v", in, out, err)
		}
		if a.Approved || a.Error == nil {
			t.Fatalf("consent %q approved with no gate: %q", in, out)
		}
		if len(out) > 1024 {
			t.Fatalf("consent %q answered %d bytes: %q", in, len(out), out)
		}
		if len(asked.asked()) != 0 {
			t.Fatalf("consent %q asked the person", in)
		}
	})
}

// FuzzConfig: whatever bytes the plugins file holds, reading it never
// panics, and a file that is accepted is valid: every entry passes
// Validate, and no plugin is left with an empty accounts list (which
// would mean every account).
func FuzzConfig(f *testing.F) {
	head := "plugins:\n  - name: p\n    path: p.wasm\n    sha256: " + strings.Repeat("a", 64) + "\n"
	for _, s := range []string{
		head,
		head + "    accounts: [dev, \"444444444444\"]\n",
		head + "    accounts: []\n",
		head + "    accounts:\n",
		head + "    accounts: [dev, dev]\n",
		head + "    account: [dev]\n",
		head + "    grants: [read]\n    limits: {memory: 1MiB, timeout: 1s, max_iam_calls: 3}\n",
		"plugins: []\n", "plugins:\n  - accounts: ~\n", "---\n---\n", "",
		"publishers:\n  acme:\n    certificates: [a.crt]\nplugins:\n  - name: r\n    source: oci://r.example.com/a/r:1@sha256:" + strings.Repeat("a", 64) + "\n    publisher: acme\n",
		"plugins:\n  - name: r\n    source: oci://r.example.com/a/r:1\n    signed_by: [a.crt]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg, err := parseConfig(in, "/etc/iam-mcp/plugins.yaml")
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%q was accepted, but does not validate: %v", in, err)
		}
		for _, p := range cfg.Plugins {
			if p.Accounts != nil && len(p.Accounts) == 0 {
				t.Fatalf("%q was accepted with an empty accounts list", in)
			}
			// An entry is a local file or a published module, never both,
			// and a published one is pinned.
			if (p.Path == "") == (p.Source == "") || (p.Source != "" && !strings.Contains(p.Source, "@sha256:")) {
				t.Fatalf("%q was accepted with path %q and source %q", in, p.Path, p.Source)
			}
		}
	})
}

// refusingRunner is a catalogue that plans nothing.
type refusingRunner struct{}

func (refusingRunner) Run(context.Context, string, any) (any, error) {
	return nil, api.Errorf(api.ServiceFailure, "refusingRunner runs nothing")
}

func (refusingRunner) Prepare(context.Context, string, any) (*api.Plan, func(context.Context) (any, error), error) {
	return nil, nil, api.Errorf(api.ServiceFailure, "refusingRunner plans nothing")
}

func (refusingRunner) Account(context.Context) (string, error) { return "123456789012", nil }
