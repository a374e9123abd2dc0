package args

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func op(t testing.TB, name string) api.Operation {
	t.Helper()
	o, ok := api.Lookup(name)
	if !ok {
		t.Fatalf("no operation %s", name)
	}
	return o
}

func TestDecode(t *testing.T) {
	cases := []struct {
		op, in  string
		mention string // "" for success
	}{
		{"get_user", `{"user_name":"alice"}`, ""},
		{"get_user", ``, ""},
		{"get_user", `null`, ""},
		{"list_users", `{"max_items":5,"marker":"m"}`, ""},
		{"create_role", `{"role_name":"r","assume_role_policy_document":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}`, ""},
		{"get_user", `{"USER_NAME":"alice"}`, `"USER_NAME"`},
		{"list_users", `{"Max_Items":5}`, `"Max_Items"`},
		{"get_user", `{"user_name":"a","user_name":"b"}`, `twice`},
		{"tag_user", `{"user_name":"a","tags":{"k":"1","k":"2"}}`, `"tags"`},
		{"get_user", `[]`, `JSON object`},
		{"get_user", `"alice"`, `JSON object`},
		{"get_user", `{"user_name":42}`, `"user_name" has the wrong type: a string`},
		{"list_users", `{"max_items":"ten"}`, `"max_items"`},
		{"create_role", `{"role_name":"r","assume_role_policy_document":42}`, `policy document`},
		{"get_user", `{"user_name":"a"`, `not valid JSON`},
		{"get_user", `{"user_name":"a"}{}`, `not valid JSON`},
		{"simulate_custom_policy", `{"action_names":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, `levels deep`},
	}
	for _, c := range cases {
		in, err := Decode(op(t, c.op), json.RawMessage(c.in))
		if c.mention == "" {
			if err != nil || in == nil {
				t.Errorf("%s %s: %v", c.op, c.in, err)
			}
			continue
		}
		if err == nil || err.Code != api.InvalidInput || !strings.Contains(err.Message, c.mention) {
			t.Errorf("%s %.60s: want InvalidInput mentioning %s, got %v", c.op, c.in, c.mention, err)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("alice"); got != `"alice"` {
		t.Fatal(got)
	}
	long := Quote(strings.Repeat("é", 1000))
	if !strings.Contains(long, "(1000 characters)") || utf8.RuneCountInString(long) > QuoteMax+30 {
		t.Fatal(long)
	}
	if got := Quote("\x1b[2J\xff"); strings.ContainsAny(got, "\x1b\xff") {
		t.Fatalf("control bytes echoed: %q", got)
	}
}

// FuzzDecode: arguments from anywhere never panic the decoder; what
// decodes is the canonical form of itself (decoding its encoding gives the
// same encoding), and no message echoes more than a short prefix.
// `go test` runs the seeds and testdata/fuzz/FuzzDecode; `go test -fuzz
// FuzzDecode ./host/args/` explores further.
func FuzzDecode(f *testing.F) {
	for i, s := range []string{
		`{}`, `{"user_name":"alice"}`, `{"USER_NAME":"a"}`, `{"user_name":"a","user_name":"b"}`,
		`{"tags":{"a":"b"}}`, `{"policy_document":{"Version":"2012-10-17"}}`, `{"max_items":1e400}`,
		`{"context_entries":[{"context_key_name":"k","context_key_type":"string","context_key_values":["v"]}]}`,
		`{"user_name":"a","dry_run":true,"confirmed":false}`, `{"user_name":"a","dry_run":null}`,
		`{"user_name":"a","account":"acme-prod"}`, `{"account":null}`,
	} {
		f.Add(uint8(i*7), []byte(s))
	}
	ops := api.All()
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		o := ops[int(which)%len(ops)]
		// The gate's reading: its own arguments never change what the
		// operation's input decodes to.
		gin, opts, gerr := DecodeCall(o, data)
		if gerr != nil && (gerr.Code != api.InvalidInput || len(gerr.Message) > 600) {
			t.Fatalf("%s: %v", o.Name, gerr)
		}
		if gerr == nil && !o.Mutates && (opts.DryRun || opts.Confirmed != nil) {
			t.Fatalf("%s reads, yet took the gate's arguments", o.Name)
		}
		if gerr == nil && (o.Offline && opts.Account != "" || opts.Account != "" && CheckAccount(opts.Account) != nil) {
			t.Fatalf("%s took the account %q", o.Name, opts.Account)
		}
		in, err := Decode(o, data)
		if err == nil && (gerr != nil || !reflect.DeepEqual(in, gin)) {
			t.Fatalf("%s: Decode took what DecodeCall refused, or read it otherwise: %v", o.Name, gerr)
		}
		if err != nil {
			if err.Code != api.InvalidInput || len(err.Message) > 600 {
				t.Fatalf("%s: %v", o.Name, err)
			}
			return
		}
		once, merr := json.Marshal(in)
		if merr != nil {
			t.Fatalf("%s: decoded input does not encode: %v", o.Name, merr)
		}
		again, err := Decode(o, once)
		if err != nil {
			t.Fatalf("%s: its own encoding %s does not decode: %v", o.Name, once, err)
		}
		twice, _ := json.Marshal(again)
		if !bytes.Equal(once, twice) {
			t.Fatalf("%s: not canonical:\n%s\n%s", o.Name, once, twice)
		}
	})
}

// TestDecodeCallGateArguments: dry_run and confirmed are read as strictly
// as the operation's own arguments, on mutations only, and null is refused
// (encoding/json reads it as absent, which would turn a dry run into a
// change).
func TestDecodeCallGateArguments(t *testing.T) {
	del, _ := api.Lookup("delete_user")
	in, opts, err := DecodeCall(del, json.RawMessage(`{"user_name":"a","dry_run":true,"confirmed":false}`))
	if err != nil || !opts.DryRun || opts.Confirmed == nil || *opts.Confirmed || in.(*api.DeleteUserInput).UserName != "a" {
		t.Fatalf("both given: %+v %+v %v", in, opts, err)
	}
	if _, opts, err := DecodeCall(del, json.RawMessage(`{"user_name":"a"}`)); err != nil || opts.DryRun || opts.Confirmed != nil {
		t.Fatalf("neither given: %+v %v", opts, err)
	}
	for _, bad := range []string{
		`{"user_name":"a","dry_run":null}`, `{"user_name":"a","confirmed":null}`, `{"user_name":"a","dry_run":"true"}`,
		`{"user_name":"a","dry_run":1}`, `{"user_name":"a","DRY_RUN":true}`, `{"user_name":"a","dry_run":true,"dry_run":false}`,
		`{"user_name":"a","dry_run":[true]}`, `{"user_name":"a","confirmed":{}}`,
	} {
		if _, _, err := DecodeCall(del, json.RawMessage(bad)); err == nil || err.Code != api.InvalidInput {
			t.Errorf("%s: %v", bad, err)
		}
		if _, err := Decode(del, json.RawMessage(bad)); err == nil {
			t.Errorf("Decode took %s", bad)
		}
	}
	// Decode, for callers without a gate, never takes them: a dry run
	// must not be run as a change.
	if _, err := Decode(del, json.RawMessage(`{"user_name":"a","dry_run":true}`)); err == nil {
		t.Fatal("Decode took dry_run")
	}
	// A read takes neither.
	list, _ := api.Lookup("list_users")
	if _, _, err := DecodeCall(list, json.RawMessage(`{"dry_run":true}`)); err == nil {
		t.Fatal("a read took dry_run")
	}
}

// TestDecodeCallAccount: every operation that calls AWS takes account, a
// string of 1 to MaxAccount characters spelled exactly, given once;
// offline operations, answered in no account, do not; Decode never does.
func TestDecodeCallAccount(t *testing.T) {
	for _, name := range []string{"list_users", "get_user", "delete_user"} {
		o := op(t, name)
		in, opts, err := DecodeCall(o, json.RawMessage(`{"user_name":"a","account":"acme-prod"}`))
		if name == "list_users" {
			in, opts, err = DecodeCall(o, json.RawMessage(`{"account":"444444444444"}`))
		}
		if err != nil || in == nil || (opts.Account != "acme-prod" && opts.Account != "444444444444") {
			t.Fatalf("%s: %+v %v", name, opts, err)
		}
		if _, opts, err := DecodeCall(o, json.RawMessage(`{"user_name":"a"}`)); name != "list_users" && (err != nil || opts.Account != "") {
			t.Fatalf("%s without account: %+v %v", name, opts, err)
		}
		for _, bad := range []string{
			`{"user_name":"a","account":null}`, `{"user_name":"a","account":12}`, `{"user_name":"a","account":""}`,
			`{"user_name":"a","account":"` + strings.Repeat("é", MaxAccount+1) + `"}`, `{"user_name":"a","Account":"x"}`,
			`{"user_name":"a","account":"x","account":"y"}`, `{"user_name":"a","aſſount":"x"}`, `{"user_name":"a","account":["x"]}`,
		} {
			_, _, err := DecodeCall(o, json.RawMessage(bad))
			if err == nil || err.Code != api.InvalidInput || len(err.Message) > 400 {
				t.Errorf("%s %.80s: %v", name, bad, err)
			}
			if _, err := Decode(o, json.RawMessage(bad)); err == nil {
				t.Errorf("Decode took %.80s", bad)
			}
		}
		if _, _, err := DecodeCall(o, json.RawMessage(`{"user_name":"a","account":"`+strings.Repeat("é", MaxAccount)+`"}`)); name != "list_users" && err != nil {
			t.Errorf("%s: %d characters refused: %v", name, MaxAccount, err)
		}
	}
	// A read still takes no dry_run beside its account.
	if _, _, err := DecodeCall(op(t, "list_users"), json.RawMessage(`{"account":"a","dry_run":true}`)); err == nil {
		t.Fatal("a read took dry_run")
	}
	// Offline operations are in no account.
	for _, o := range api.All() {
		if !o.Offline {
			continue
		}
		if _, _, err := DecodeCall(o, json.RawMessage(`{"account":"acme-prod"}`)); err == nil || !strings.Contains(err.Message, `"account"`) {
			t.Errorf("offline %s took account: %v", o.Name, err)
		}
	}
}
