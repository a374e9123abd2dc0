package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const testAccount = "123456789012"

func mustSeal(t *testing.T, s *StateSealer, plugin, account, data string) string {
	t.Helper()
	a := s.Seal(plugin, account, data)
	if a.Error != nil {
		t.Fatalf("Seal(%q, %q, %.20q): %v", plugin, account, data, a.Error)
	}
	return a.MAC
}

// TestStateSealer: a seal is 16 bytes of base64url, the same for the same
// plugin, account and data — across a restart (a new sealer over the same
// directory) — and different when any of them differs, or the directory's
// key does. The key is made once, 0600, 32 bytes, in a 0700 directory.
func TestStateSealer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	s := NewStateSealer(dir)
	mac := mustSeal(t, s, "key-rotation", testAccount, "v=2/s=created")
	raw, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || len(raw) != api.SealMACBytes || len(mac) != 22 {
		t.Fatalf("the seal %q: %d bytes, %v", mac, len(raw), err)
	}
	fi, err := os.Stat(filepath.Join(dir, SealKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != sealKeyBytes {
		t.Fatalf("the key file: %v, %v", fi, err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("the secrets directory made for the key has mode %v", di.Mode().Perm())
	}
	if again := mustSeal(t, NewStateSealer(dir), "key-rotation", testAccount, "v=2/s=created"); again != mac {
		t.Errorf("after a restart the seal is %s, was %s", again, mac)
	}
	distinct := map[string]string{mac: "the original"}
	for what, got := range map[string]string{
		"another plugin":     mustSeal(t, s, "key-rotation2", testAccount, "v=2/s=created"),
		"another account":    mustSeal(t, s, "key-rotation", "210987654321", "v=2/s=created"),
		"another data":       mustSeal(t, s, "key-rotation", testAccount, "v=2/s=creates"),
		"another directory":  mustSeal(t, NewStateSealer(filepath.Join(t.TempDir(), "s")), "key-rotation", testAccount, "v=2/s=created"),
		"moved boundary a|d": mustSeal(t, s, "key-rotation", testAccount+"v", "=2/s=created"),
		"moved boundary p|a": mustSeal(t, s, "key-rotation1", "23456789012", "v=2/s=created"),
		"empty data":         mustSeal(t, s, "key-rotation", testAccount, ""),
	} {
		if prev, ok := distinct[got]; ok {
			t.Errorf("%s seals as %s did: %s", what, prev, got)
		}
		distinct[got] = what
	}
	// The largest data, and text with every kind of character but U+FFFD.
	mustSeal(t, s, "p", testAccount, strings.Repeat("x", api.MaxSealData))
	mustSeal(t, s, "p", testAccount, "é/€/𝄞/\x00/\n")
}

// TestStateSealerRefuses: data too long or not text, no secrets directory,
// no account, and key files the server did not write as it writes them
// are refused with a message saying what to do; none is repaired.
func TestStateSealerRefuses(t *testing.T) {
	s := NewStateSealer(filepath.Join(t.TempDir(), "secrets"))
	for _, c := range []struct {
		plugin, account, data string
		code                  api.ErrorCode
		want                  string
	}{
		{"p", testAccount, strings.Repeat("x", api.MaxSealData+1), api.InvalidInput, "at most 1024"},
		{"p", testAccount, "a\xffb", api.InvalidInput, "not UTF-8"},
		{"p", testAccount, "a\uFFFDb", api.InvalidInput, "U+FFFD"},
		{"p", "", "x", api.Unavailable, "account id"},
		{"", testAccount, "x", api.Unavailable, "account id"},
	} {
		a := s.Seal(c.plugin, c.account, c.data)
		if a.MAC != "" || a.Error == nil || a.Error.Code != c.code || !strings.Contains(a.Error.Message, c.want) || len(a.Error.Message) > 400 {
			t.Errorf("Seal(%q, %q, %.20q) = %+v, want %s with %q", c.plugin, c.account, c.data, a, c.code, c.want)
		}
	}
	if a := NewStateSealer("").Seal("p", testAccount, "x"); a.Error == nil || a.Error.Code != api.Unavailable || !strings.Contains(a.Error.Message, "no secrets directory") {
		t.Errorf("no secrets directory: %+v", a)
	}

	key := func(t *testing.T, setup func(dir, path string)) *api.Error {
		t.Helper()
		dir := t.TempDir()
		path := filepath.Join(dir, SealKeyFile)
		setup(dir, path)
		a := NewStateSealer(dir).Seal("p", testAccount, "x")
		if a.Error == nil {
			t.Fatalf("sealed with a key file the server refuses: %+v", a)
		}
		return a.Error
	}
	good := make([]byte, sealKeyBytes)
	for i := range good {
		good[i] = byte(i + 1)
	}
	for name, c := range map[string]struct {
		setup func(dir, path string)
		want  string
	}{
		"readable by others": {func(_, p string) { write(t, p, good, 0o644) }, "mode 0644, not 0600"},
		"group readable":     {func(_, p string) { write(t, p, good, 0o640) }, "mode 0640, not 0600"},
		"owner read only":    {func(_, p string) { write(t, p, good, 0o400) }, "mode 0400, not 0600"},
		"short":              {func(_, p string) { write(t, p, good[:31], 0o600) }, "31 bytes, not 32"},
		"long":               {func(_, p string) { write(t, p, append(good, 1), 0o600) }, "33 bytes, not 32"},
		"empty":              {func(_, p string) { write(t, p, nil, 0o600) }, "0 bytes, not 32"},
		"zeros":              {func(_, p string) { write(t, p, make([]byte, 32), 0o600) }, "all zeros"},
		"a directory":        {func(_, p string) { mkdir(t, p) }, "not a regular file"},
		"a symbolic link": {func(d, p string) {
			target := filepath.Join(d, "elsewhere")
			write(t, target, good, 0o600)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		"a dangling link": {func(d, p string) {
			if err := os.Symlink(filepath.Join(d, "nowhere"), p); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
	} {
		t.Run(name, func(t *testing.T) {
			e := key(t, c.setup)
			if e.Code != api.Unavailable || !strings.Contains(e.Message, c.want) || !strings.Contains(e.Message, "remove it") {
				t.Errorf("%v, want Unavailable with %q and what to do", e, c.want)
			}
		})
	}
	// A directory others may write in is refused, never chmodded.
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	a := NewStateSealer(shared).Seal("p", testAccount, "x")
	if a.Error == nil || !strings.Contains(a.Error.Message, "writable by other users") {
		t.Errorf("a shared directory: %+v", a)
	}
	if _, err := os.Stat(filepath.Join(shared, SealKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a key was written in a shared directory")
	}
}

func write(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
}

// TestSealKeyRace: servers starting together on one secrets directory
// make one key between them, whole, and agree on every seal; no temporary
// file is left behind.
func TestSealKeyRace(t *testing.T) {
	for round := range 5 {
		dir := filepath.Join(t.TempDir(), "secrets")
		const n = 16
		macs := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := NewStateSealer(dir).Seal("p", testAccount, "x")
				if a.Error != nil {
					t.Errorf("round %d, sealer %d: %v", round, i, a.Error)
				}
				macs[i] = a.MAC
			}()
		}
		wg.Wait()
		for i := range macs {
			if macs[i] != macs[0] {
				t.Fatalf("round %d: sealers disagree: %q", round, macs)
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 || entries[0].Name() != SealKeyFile {
			t.Fatalf("round %d: the directory holds %v (%v)", round, entries, err)
		}
	}
}

// TestStateSealFunction: the host function decodes strictly (exactly the
// key "data", once; an object, not null), works only in a tool call, binds
// the account the server reports, and answers an unknown account with an
// error — never a seal.
func TestStateSealFunction(t *testing.T) {
	p, err := newLoaded(Spec{Name: "sealer", Path: "s.wasm", SHA256: strings.Repeat("0", 64)}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "secrets")
	p.sealer = NewStateSealer(dir)
	p.account = func(context.Context) (string, string, error) { return testAccount, "aws", nil }
	st := &callState{tool: "sealer_t"}
	want := mustSeal(t, NewStateSealer(dir), "sealer", testAccount, "hello")
	answer := func(in string) api.SealAnswer {
		t.Helper()
		out := p.stateSealFunc(ctx, st, []byte(in))
		var a api.SealAnswer
		if err := json.Unmarshal(out, &a); err != nil || (a.MAC == "") == (a.Error == nil) || len(out) > 1024 {
			t.Fatalf("state_seal %q answered %q", in, out)
		}
		return a
	}
	for _, ok := range []string{`{"data":"hello"}`, ` {"data" : "hel\u006co"} `} {
		if a := answer(ok); a.MAC != want {
			t.Errorf("%s: %+v, want %s", ok, a, want)
		}
	}
	for _, bad := range []string{
		`{"data":"hello","Data":"bye"}`, `{"Data":"hello"}`, `{"DATA":"hello"}`, `{"data":"hello","data":"bye"}`,
		`{"data":"hello","plugin":"other"}`, `{"data":"hello","account":"1"}`, `null`, `[]`, `"hello"`, `{"data":1}`,
		`{"data":"hello"} {}`, ``, `{`, `{"data":"\ud800"}`, `{"data":"a\ufffdb"}`,
		`{"data":"` + strings.Repeat("x", api.MaxSealData+1) + `"}`,
		`{"da\u0074a":"hello","data":"bye"}`,
	} {
		if a := answer(bad); a.Error == nil || a.Error.Code != api.InvalidInput {
			t.Errorf("%.60s: %+v, want InvalidInput", bad, a)
		}
	}
	if out := p.stateSealTooBig(ctx, st, 1<<30); !strings.Contains(string(out), "InvalidInput") {
		t.Errorf("too big: %s", out)
	}
	// Outside a tool call (describe): refused.
	var a api.SealAnswer
	_ = json.Unmarshal(p.stateSealFunc(ctx, &callState{}, []byte(`{"data":"hello"}`)), &a)
	if a.Error == nil || !strings.Contains(a.Error.Message, "outside a tool call") {
		t.Errorf("in describe: %+v", a)
	}
	// The account cannot be read: its error, no seal.
	p.account = func(context.Context) (string, string, error) {
		return "", "", api.Errorf(api.ServiceFailure, "sts unreachable")
	}
	if a = answer(`{"data":"hello"}`); a.Error.Code != api.ServiceFailure || !strings.Contains(a.Error.Message, "sts unreachable") {
		t.Errorf("account unknown: %+v", a)
	}
	p.account = nil
	if a = answer(`{"data":"hello"}`); a.Error.Code != api.Unavailable {
		t.Errorf("no account function: %+v", a)
	}
}

// TestStateSealWasm: a plugin built from source with the SDK seals through
// the runtime: the seal is the StateSealer's for the plugin's name in the
// plugins file and the account, the same after a restart, another for
// another plugin name; no audit line is written and no IAM call counted;
// raw inputs are decoded strictly; a server without a secrets directory
// says so.
func TestStateSealWasm(t *testing.T) {
	secrets := filepath.Join(t.TempDir(), "secrets")
	withDir := func(o *Options) { o.SecretsDir = secrets }
	one := spec("seal")
	one.Limits.MaxIAMCalls = 1
	e := newEnvWith(t, envConfig{opts: withDir}, one)
	seal := func(e *env, tool, data string) sealResult {
		t.Helper()
		args, _ := json.Marshal(map[string]string{"data": data})
		var r sealResult
		if err := json.Unmarshal(e.call(t, tool, string(args)).StructuredContent, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := mustSeal(t, NewStateSealer(secrets), "seal", testAccount, "v=2/s=created")
	for range 5 { // more than max_iam_calls: seals are no IAM calls
		if r := seal(e, "seal_seal", "v=2/s=created"); r.MAC != want {
			t.Fatalf("the seal in Wasm: %+v, want %s", r, want)
		}
	}
	if strings.TrimSpace(e.audit.String()) != "" {
		t.Errorf("sealing wrote audit lines: %s", e.audit.String())
	}
	// A restarted server, and another plugin loaded from the same module
	// under another name.
	other := spec("seal")
	other.Name = "seal2"
	e2 := newEnvWith(t, envConfig{opts: withDir}, spec("seal"), other)
	if r := seal(e2, "seal_seal", "v=2/s=created"); r.MAC != want {
		t.Errorf("after a restart: %+v, want %s", r, want)
	}
	if r := seal(e2, "seal2_seal", "v=2/s=created"); r.MAC == "" || r.MAC == want {
		t.Errorf("another plugin's seal of the same data: %+v", r)
	}
	// The SDK refuses what it cannot send as it is; the host what it
	// cannot seal.
	if r := seal(e, "seal_seal", strings.Repeat("x", api.MaxSealData+1)); r.Code != string(api.InvalidInput) {
		t.Errorf("too much data: %+v", r)
	}
	rawSeal := func(e *env, input string) api.SealAnswer {
		t.Helper()
		args, _ := json.Marshal(map[string]string{"fn": api.HostStateSeal, "input": input})
		var r sealResult
		if err := json.Unmarshal(e.call(t, "seal_raw", string(args)).StructuredContent, &r); err != nil {
			t.Fatal(err)
		}
		var a api.SealAnswer
		if err := json.Unmarshal([]byte(r.Output), &a); err != nil {
			t.Fatalf("state_seal %q answered %q", input, r.Output)
		}
		return a
	}
	if a := rawSeal(e, `{"data":"v=2/s=created"}`); a.MAC != want {
		t.Errorf("raw: %+v", a)
	}
	for _, bad := range []string{`{"data":"v=2/s=created","Data":"x"}`, `{"Data":"v=2/s=created"}`, `{"data":"x","plugin":"seal2"}`, `null`, `{"data":"\udfff"}`,
		`{"data":"` + strings.Repeat(`\u0041`, 1100) + `"}`, strings.Repeat(" ", MaxSealInputBytes+1)} {
		if a := rawSeal(e, bad); a.MAC != "" || a.Error == nil || a.Error.Code != api.InvalidInput {
			t.Errorf("raw %.40q: %+v", bad, a)
		}
	}
	// No secrets directory: an error the plugin can show.
	none := newEnv(t, gate.Options{}, spec("seal"))
	if r := seal(none, "seal_seal", "x"); r.Code != string(api.Unavailable) || !strings.Contains(r.Message, "no secrets directory") {
		t.Errorf("no secrets directory: %+v", r)
	}
}

// sealResult is the seal test plugin's answer.
type sealResult struct {
	MAC     string `json:"mac"`
	Removed string `json:"removed"`
	Note    string `json:"note"`
	Output  string `json:"output"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// FuzzStateSealInput: whatever bytes a plugin hands state_seal, the host
// never panics, answers one SealAnswer — a seal or an error, never both —
// in a few hundred bytes, and seals only what decodes strictly to
// {"data": TEXT} of at most MaxSealData bytes: the seal the sealer makes
// of that text.
func FuzzStateSealInput(f *testing.F) {
	for _, s := range []string{
		`{"data":"v=2/s=created/n=AKIANEWKEY0000000001"}`,
		`{"data":"x","Data":"y"}`,
		`{"data":"x","data":"y"}`,
		`{"data":"\ud800"}`,
		`{"data":null}`,
		`null`,
		`{"data":"` + strings.Repeat("x", 1100) + `"}`,
		`[{"data":"x"}]`,
	} {
		f.Add([]byte(s))
	}
	p, err := newLoaded(Spec{Name: "fuzz", Path: "fuzz.wasm", SHA256: strings.Repeat("0", 64)}, discardLogger())
	if err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join(f.TempDir(), "secrets")
	p.sealer = NewStateSealer(dir)
	p.account = func(context.Context) (string, string, error) { return testAccount, "aws", nil }
	check := NewStateSealer(dir)
	f.Fuzz(func(t *testing.T, in []byte) {
		st := &callState{tool: "fuzz_t"}
		out := p.stateSealFunc(ctx, st, in)
		var a api.SealAnswer
		if err := json.Unmarshal(out, &a); err != nil || (a.MAC == "") == (a.Error == nil) {
			t.Fatalf("state_seal %q answered %q", in, out)
		}
		if len(out) > 1024 {
			t.Fatalf("state_seal %q answered %d bytes", in, len(out))
		}
		if a.MAC == "" {
			return
		}
		var req api.SealRequest
		if err := json.Unmarshal(in, &req); err != nil {
			t.Fatalf("state_seal sealed %q, which does not decode: %v", in, err)
		}
		if want := check.Seal("fuzz", testAccount, req.Data); want.MAC != a.MAC {
			t.Fatalf("state_seal %q sealed as %s; the data's seal is %+v", in, a.MAC, want)
		}
	})
}
