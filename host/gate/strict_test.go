package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// recordingRunner stands in for the catalogue where a test must know
// whether anything ran at all: nothing real can tell "never called" apart
// from "called and refused by IAM".
type recordingRunner struct{ ran []string }

func (r *recordingRunner) Run(_ context.Context, op string, in any) (any, error) {
	r.ran = append(r.ran, op)
	return &struct{}{}, nil
}
func (r *recordingRunner) Prepare(_ context.Context, op string, in any) (*api.Plan, func(context.Context) (any, error), error) {
	r.ran = append(r.ran, "plan "+op)
	return &api.Plan{Operation: op}, func(context.Context) (any, error) {
		r.ran = append(r.ran, op)
		return &struct{}{}, nil
	}, nil
}
func (r *recordingRunner) Account(context.Context) (string, error) { return "123456789012", nil }

// respellings are other spellings of key that encoding/json alone would
// match to it: case changes, and the Unicode characters that fold to an
// ASCII letter (ſ to s, the Kelvin sign to k).
func respellings(key string) []string {
	out := []string{strings.ToUpper(key), strings.ToUpper(key[:1]) + key[1:]}
	if i := strings.IndexByte(key, '_'); i >= 0 && i+1 < len(key) {
		out = append(out, key[:i+1]+strings.ToUpper(key[i+1:i+2])+key[i+2:])
	}
	if strings.Contains(key, "s") {
		out = append(out, strings.ReplaceAll(key, "s", "ſ"))
	}
	if strings.Contains(key, "k") {
		out = append(out, strings.ReplaceAll(key, "k", "\u212a"))
	}
	return out
}

// TestEveryOperationTakesOnlyExactKeys is the class behind "USER_NAME
// deleted rosa.silva while the audit line named nobody-here": for every
// operation and every argument of its sample, each other spelling of the
// key — alone, and beside the real key — is refused before anything runs,
// and so is the same key given twice.
func TestEveryOperationTakesOnlyExactKeys(t *testing.T) {
	var audit bytes.Buffer
	r := &recordingRunner{}
	g := New(r, Options{Audit: &audit})
	tried := 0
	for _, op := range api.All() {
		var sample map[string]json.RawMessage
		if err := json.Unmarshal([]byte(sampleArgs[op.Name]), &sample); err != nil {
			t.Fatalf("%s: sample: %v", op.Name, err)
		}
		keys := make([]string, 0, len(sample))
		for k := range sample {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			var attempts []string
			rest := without(sample, key)
			for _, other := range respellings(key) {
				if other == key {
					continue
				}
				attempts = append(attempts,
					object(rest, other, sample[key]),                   // the other spelling alone
					object(rest, key, sample[key], other, sample[key]), // beside the real one, after it
					object(rest, other, sample[key], key, sample[key])) // and before it
			}
			attempts = append(attempts, object(rest, key, sample[key], key, sample[key]))
			for _, a := range attempts {
				tried++
				_, err := g.Call(ctx, Caller{Kind: BuiltIn, Tool: op.Name}, op.Name, json.RawMessage(a))
				if code(err) != api.InvalidInput {
					t.Errorf("%s %s: want InvalidInput, got %v", op.Name, a, err)
				}
			}
		}
	}
	if len(r.ran) != 0 {
		t.Fatalf("%d calls ran with misspelt or repeated keys: %v", len(r.ran), r.ran[:min(len(r.ran), 10)])
	}
	if tried < 300 {
		t.Fatalf("only %d attempts: the sample arguments lost their keys?", tried)
	}
	// Nothing undecoded reaches the record: only its size.
	for _, line := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Outcome != "error" || !strings.HasPrefix(string(rec.Arguments), `{"undecoded_bytes":`) {
			t.Fatalf("audit record of a refused spelling: %s", line)
		}
	}
	t.Logf("%d misspelt or repeated keys refused over %d operations", tried, len(api.All()))
}

// object writes a JSON object of base's keys plus the given key/value
// pairs, in order, duplicates kept as written.
func object(base map[string]json.RawMessage, kv ...any) string {
	var b strings.Builder
	b.WriteString("{")
	keys := make([]string, 0, len(base))
	for k := range base {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	first := true
	write := func(k string, v json.RawMessage) {
		if !first {
			b.WriteString(",")
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteString(":")
		b.Write(v)
	}
	for _, k := range keys {
		write(k, base[k])
	}
	for i := 0; i+1 < len(kv); i += 2 {
		write(kv[i].(string), kv[i+1].(json.RawMessage))
	}
	b.WriteString("}")
	return b.String()
}

func without(m map[string]json.RawMessage, key string) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// TestAuditNamesWhatRan: the two examples on the real catalogue.
// The delete is refused and rosa.silva stays; the login profile with the
// folded key is refused and its password reaches no record.
func TestAuditNamesWhatRan(t *testing.T) {
	var audit bytes.Buffer
	g, state := newGate(t, Options{Audit: &audit})
	before, _ := os.ReadFile(state)

	_, err := g.Call(ctx, Caller{Kind: BuiltIn, Tool: "delete_user"}, "delete_user",
		json.RawMessage(`{"user_name":"nobody-here","USER_NAME":"rosa.silva","force":true}`))
	if code(err) != api.InvalidInput || !strings.Contains(err.Error(), "USER_NAME") {
		t.Fatalf("delete_user with a second spelling: %v", err)
	}
	_, err = g.Call(ctx, Caller{Kind: BuiltIn, Tool: "create_login_profile"}, "create_login_profile",
		json.RawMessage(`{"user_name":"farid.haddad","paſſword":"Sup3r-Secret-Pass!"}`))
	if code(err) != api.InvalidInput {
		t.Fatalf("create_login_profile with paſſword: %v", err)
	}
	after, _ := os.ReadFile(state)
	if !bytes.Equal(before, after) {
		t.Fatal("a call with a misspelt key changed the account")
	}
	if strings.Contains(audit.String(), "Sup3r-Secret-Pass!") || strings.Contains(audit.String(), "rosa.silva") {
		t.Fatalf("the audit log holds undecoded bytes:\n%s", audit.String())
	}

	// What does run is recorded as decoded: the schema's spelling, the
	// value that ran, even when the client escaped the key.
	audit.Reset()
	if _, err := g.Call(ctx, Caller{Kind: CLI}, "get_user", json.RawMessage(`{"user\u005fname":"alice.nguyen"}`)); err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := json.Unmarshal(audit.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if string(rec.Arguments) != `{"user_name":"alice.nguyen"}` {
		t.Fatalf("recorded arguments %s", rec.Arguments)
	}
}

// TestOversizedArguments: a huge value is refused before decoding, and the
// message does not echo it.
func TestOversizedArguments(t *testing.T) {
	r := &recordingRunner{}
	g := New(r, Options{})
	huge := `{"user_name":"` + strings.Repeat("a", args.MaxBytes) + `"}`
	_, err := g.Call(ctx, Caller{Kind: BuiltIn}, "get_user", json.RawMessage(huge))
	if code(err) != api.InvalidInput || len(err.Error()) > 400 || strings.Contains(err.Error(), "aaaaaaaa") {
		t.Fatalf("oversized arguments: %.500v", err)
	}
	if len(r.ran) != 0 {
		t.Fatal("oversized arguments ran")
	}
}

// TestLongValuesAreNotEchoed: a value under the cap but over IAM's limit
// is refused with a short prefix of it.
func TestLongValuesAreNotEchoed(t *testing.T) {
	g, _ := newGate(t, Options{})
	for _, a := range []string{
		`{"user_name":"` + strings.Repeat("b", 100000) + `"}`,
		`{"user_name":"alice","path":"/` + strings.Repeat("c", 100000) + ` /"}`,
		`{"user_name":"` + strings.Repeat("é", 50000) + `"}`,
	} {
		_, err := g.Call(ctx, Caller{Kind: BuiltIn}, "create_user", json.RawMessage(a))
		if code(err) != api.InvalidInput || len(err.Error()) > 600 {
			t.Fatalf("long value: %d-character message: %.300v", len(err.Error()), err)
		}
	}
}

// TestInfoIsCheckedAndAudited: a plugin's host_info passes the account
// check and leaves a record.
func TestInfoIsCheckedAndAudited(t *testing.T) {
	var audit bytes.Buffer
	plugin := Caller{Kind: Plugin, Plugin: "p", Tool: "p_run"}
	ok := New(&recordingRunner{}, Options{ExpectAccount: "123456789012", Audit: &audit})
	if err := ok.Info(ctx, plugin); err != nil {
		t.Fatal(err)
	}
	wrong := New(&recordingRunner{}, Options{ExpectAccount: "999999999999", Audit: &audit})
	if err := wrong.Info(ctx, plugin); code(err) != api.WrongAccount {
		t.Fatalf("host_info with the wrong account: %v", err)
	}
	var outcomes []string
	for _, line := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Operation != HostInfoOperation || rec.Plugin != "p" {
			t.Fatalf("record %s", line)
		}
		outcomes = append(outcomes, rec.Outcome)
	}
	if fmt.Sprint(outcomes) != "[ok refused]" {
		t.Fatalf("outcomes %v", outcomes)
	}
}

// TestRefusedRecordsDecodedArguments: the runtime's own refusals are
// written by the gate, with decoded arguments or only their size.
func TestRefusedRecordsDecodedArguments(t *testing.T) {
	var audit bytes.Buffer
	g := New(&recordingRunner{}, Options{Audit: &audit})
	c := Caller{Kind: Plugin, Plugin: "p", Tool: "p_run"}
	g.Refused(ctx, c, "create_login_profile", json.RawMessage(`{"user_name":"u","password":"Hunter2-Hunter2"}`), api.Errorf(api.LimitExceeded, "over"))
	g.Refused(ctx, c, "create_login_profile", json.RawMessage(`{"user_name":"u","Password":"Hunter2-Hunter2"}`), api.Errorf(api.LimitExceeded, "over"))
	g.Refused(ctx, c, "no_such_op", json.RawMessage(`{"x":1}`), api.Errorf(api.NotGranted, "no"))
	if strings.Contains(audit.String(), "Hunter2") {
		t.Fatalf("a password reached the audit log:\n%s", audit.String())
	}
	lines := strings.Split(strings.TrimSpace(audit.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, want := range []string{`{"password":"[redacted]","user_name":"u"}`, `{"undecoded_bytes":46}`, `{"undecoded_bytes":7}`} {
		var rec Record
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Outcome != "refused" || string(rec.Arguments) != want {
			t.Fatalf("line %d: %s (want arguments %s)", i, lines[i], want)
		}
	}
}

// TestUnknownOperationNameIsCut: a name that is no operation is recorded
// cut, whoever sent it.
func TestUnknownOperationNameIsCut(t *testing.T) {
	var audit bytes.Buffer
	g := New(&recordingRunner{}, Options{Audit: &audit})
	_, err := g.Call(ctx, Caller{Kind: BuiltIn}, strings.Repeat("x", 100000), nil)
	if code(err) != api.InvalidInput || len(err.Error()) > 300 {
		t.Fatalf("unknown operation: %.300v", err)
	}
	if audit.Len() > 1000 {
		t.Fatalf("a %d-byte audit line for an unknown operation", audit.Len())
	}
}
