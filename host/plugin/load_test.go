package plugin

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

func strp(s string) *string { return &s }

func TestLoadNamesToolsAndWorksOutReadOnly(t *testing.T) {
	t.Parallel()
	good := spec("good")
	good.Grants = []string{"read"}
	good.Config = map[string]string{"greeting": "hi"}
	hostile := spec("hostile")
	hostile.Prefix = strp("h")
	hostile.Grants = []string{"list_users", "create_user"}
	bare := spec("good")
	bare.Name, bare.Prefix = "bare", strp("")
	e := newEnv(t, gate.Options{}, good, hostile, bare)

	byName := map[string]Tool{}
	var names []string
	for _, tool := range e.h.Tools() {
		byName[tool.Name] = tool
		names = append(names, tool.Name)
	}
	want := []string{"good_users", "good_groups_of", "good_probe", "good_echo"}
	if !reflect.DeepEqual(names[:4], want) {
		t.Errorf("good's tools %v, want %v in describe's order", names[:4], want)
	}
	if _, ok := byName["h_panic"]; !ok {
		t.Errorf("prefix h not applied: %v", names)
	}
	if _, ok := byName["users"]; !ok {
		t.Errorf("empty prefix not applied: %v", names)
	}
	users := byName["good_users"]
	if users.Plugin != "good" || users.PluginTool != "users" || users.Description == "" || !reflect.DeepEqual(users.Operations, []string{"list_users"}) {
		t.Errorf("good_users: %+v", users)
	}
	if !json.Valid(users.InputSchema) || !strings.Contains(string(users.OutputSchema), `"count"`) {
		t.Errorf("good_users schemas: %s / %s", users.InputSchema, users.OutputSchema)
	}
	if byName["good_probe"].OutputSchema != nil {
		t.Errorf("a tool without an output schema got %s", byName["good_probe"].OutputSchema)
	}
	// Mutates: false only when every granted operation is read-only.
	if users.Mutates || byName["users"].Mutates {
		t.Error("a plugin granted only reads (or nothing) must have read-only tools")
	}
	if !byName["h_ok"].Mutates {
		t.Error("a plugin granted create_user must not have read-only tools")
	}

	infos := e.h.Plugins()
	if len(infos) != 3 {
		t.Fatalf("%d plugins", len(infos))
	}
	hi := infos[1]
	if hi.Name != "hostile" || hi.SHA256 != wasmSHA["hostile"] || hi.Prefix != "h" || hi.Version != "6.6.6" || !hi.Mutates {
		t.Errorf("hostile info: %+v", hi)
	}
	if !reflect.DeepEqual(hi.Granted, []string{"create_user", "list_users"}) {
		t.Errorf("granted %v", hi.Granted)
	}
	if !reflect.DeepEqual(hi.Asked, []string{"create_access_key", "create_user", "delete_user", "list_users"}) {
		t.Errorf("asked %v", hi.Asked)
	}
	if !reflect.DeepEqual(hi.NotGranted, []string{"create_access_key", "delete_user"}) {
		t.Errorf("not granted %v", hi.NotGranted)
	}
	if len(hi.Tools) != 20 || hi.Tools[0] != "h_readfile" {
		t.Errorf("tools %v", hi.Tools)
	}
	if hi.Limits.Memory != DefaultMemory || hi.Limits.Timeout != DefaultTimeout || hi.MemoryPages != 1024 || hi.MaxInput != MaxInputBytes {
		t.Errorf("effective limits %+v, %d pages, input %d", hi.Limits, hi.MemoryPages, hi.MaxInput)
	}
	if g := infos[0]; len(g.Granted) < 20 || g.Prefix != "good" {
		t.Errorf("read must expand to every read operation: %+v", g)
	}
}

func TestSHA256MismatchNamesFileAndBothHashes(t *testing.T) {
	t.Parallel()
	s := spec("good")
	s.SHA256 = strings.Repeat("ab", 32)
	g, _, _ := sandboxGate(t, gate.Options{})
	_, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{Gate: g, CacheDir: cacheDir})
	if err == nil {
		t.Fatal("a module with another hash was loaded")
	}
	for _, w := range []string{"plugin good", wasmPath["good"], wasmSHA["good"], s.SHA256, "refused"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestDescribeFailureNamesPlugin(t *testing.T) {
	t.Parallel()
	for mode, want := range map[string]string{
		"garbage": "describe did not return a JSON object",
		"fail":    "describe refuses to work",
		"panic":   "panic: describe panics",
	} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := spec("hostile")
			s.Name = "broken-" + mode
			s.Config = map[string]string{"describe": mode}
			g, _, _ := sandboxGate(t, gate.Options{})
			_, err := Load(ctx, &Config{Plugins: []Spec{spec("good"), s}}, Options{Gate: g, CacheDir: cacheDir})
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), "plugin broken-"+mode) || !strings.Contains(err.Error(), want) {
				t.Errorf("error %q must name the plugin and say %q", err, want)
			}
		})
	}
}

func TestParseDescription(t *testing.T) {
	for in, want := range map[string]string{
		`[]`:                                    "not return a JSON object",
		`{"tools":[{"name":"a b"}]}`:            `"a b"`,
		`{"tools":[{"name":"a"},{"name":"a"}]}`: "twice",
		`{"tools":[{"name":"a","input_schema":"x"}]}`:               "input_schema is not a JSON object",
		`{"tools":[{"name":"a","output_schema":{"type":"array"}}]}`: `output_schema has type "array"`,
		`{"tools": 3}`: "not a plugin description",
	} {
		if _, err := parseDescription("p", []byte(in)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "plugin p") {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	d, err := parseDescription("p", []byte(`{"name":"p","tools":[{"name":"a"},{"name":"b","input_schema":{"properties":{}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Tools[0].InputSchema) != `{"type":"object"}` || !strings.Contains(string(d.Tools[1].InputSchema), `"type":"object"`) {
		t.Errorf("schemas not completed: %s, %s", d.Tools[0].InputSchema, d.Tools[1].InputSchema)
	}
}

func TestNameCollisionsNameBoth(t *testing.T) {
	t.Parallel()
	g, _, _ := sandboxGate(t, gate.Options{})
	_, err := Load(ctx, &Config{Plugins: []Spec{spec("good")}}, Options{Gate: g, CacheDir: cacheDir, Builtins: []string{"list_users", "good_echo"}})
	if err == nil || !strings.Contains(err.Error(), "plugin good") || !strings.Contains(err.Error(), "good_echo") || !strings.Contains(err.Error(), "built-in") {
		t.Errorf("collision with a built-in tool: %v", err)
	}

	a, b := spec("good"), spec("good")
	b.Name = "other"
	a.Prefix, b.Prefix = strp("x"), strp("x")
	_, err = Load(ctx, &Config{Plugins: []Spec{a, b}}, Options{Gate: g, CacheDir: cacheDir})
	if err == nil || !strings.Contains(err.Error(), "plugin other") || !strings.Contains(err.Error(), "plugin good") || !strings.Contains(err.Error(), "x_users") {
		t.Errorf("collision between plugins: %v", err)
	}

	long := spec("good")
	long.Prefix = strp(strings.Repeat("p", 60))
	_, err = Load(ctx, &Config{Plugins: []Spec{long}}, Options{Gate: g, CacheDir: cacheDir})
	if err == nil || !strings.Contains(err.Error(), "64 characters") {
		t.Errorf("a name over 64 characters: %v", err)
	}
}

func TestLoadRefusesUnknownGrantsAndNoGate(t *testing.T) {
	t.Parallel()
	s := spec("good")
	s.Grants = []string{"read", "drop_database"}
	g, _, _ := sandboxGate(t, gate.Options{})
	if _, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{Gate: g}); err == nil || !strings.Contains(err.Error(), `"drop_database"`) {
		t.Errorf("unknown grant: %v", err)
	}
	if _, err := Load(ctx, &Config{}, Options{}); err == nil || !strings.Contains(err.Error(), "Gate") {
		t.Errorf("no gate: %v", err)
	}
}

func TestMemoryBelowTheModulesNeedIsALoadError(t *testing.T) {
	t.Parallel()
	s := spec("good")
	s.Limits.Memory = "1MiB" // valid, but a Go module asks for more from the start
	g, _, _ := sandboxGate(t, gate.Options{})
	_, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{Gate: g, CacheDir: cacheDir})
	if err == nil || !strings.Contains(err.Error(), "plugin good") || !strings.Contains(err.Error(), "limits.memory") {
		t.Errorf("1MiB for a Go module: %v", err)
	}
}

func TestCacheDir(t *testing.T) {
	t.Parallel()
	g, _, _ := sandboxGate(t, gate.Options{})
	load := func(dir string) error {
		h, err := Load(ctx, &Config{}, Options{Gate: g, CacheDir: dir})
		if err == nil {
			h.Close(ctx)
		}
		return err
	}

	// The run's shared cache holds the modules' machine code (which is how
	// every Load after TestMain's skips compiling).
	if entries, err := os.ReadDir(cacheDir); err != nil || len(entries) == 0 {
		t.Errorf("nothing in the compilation cache %s (%v)", cacheDir, err)
	}

	fresh := filepath.Join(t.TempDir(), "a", "cache")
	if err := load(fresh); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(fresh)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the cache directory was created with mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}

	open := t.TempDir()
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := load(open); err == nil || !strings.Contains(err.Error(), "writable by others") || !strings.Contains(err.Error(), open) {
		t.Errorf("a world-writable cache directory: %v", err)
	}
	os.Chmod(open, 0o770)
	if err := load(open); err == nil {
		t.Error("a group-writable cache directory was accepted")
	}
	os.Chmod(open, 0o755)
	if err := load(open); err != nil {
		t.Errorf("a 0755 cache directory of ours: %v", err)
	}

	if os.Getuid() == 0 {
		theirs := t.TempDir()
		if err := os.Chown(theirs, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if err := load(theirs); err == nil || !strings.Contains(err.Error(), "belongs to user id 4242") {
			t.Errorf("a cache directory of another user: %v", err)
		}
	} else {
		t.Log("not root: the refusal of another user's directory is not exercised")
	}

	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	if err := load(file); err == nil {
		t.Error("a file as cache directory was accepted")
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	sum, d, err := Inspect(ctx, wasmPath["good"])
	if err != nil {
		t.Fatal(err)
	}
	if sum != wasmSHA["good"] {
		t.Errorf("sha256 %s, want %s", sum, wasmSHA["good"])
	}
	if d.Name != "good" || d.Version != "1.0.0" || len(d.Tools) != 4 || d.Tools[0].Name != "users" {
		t.Errorf("description %+v", d)
	}
	if _, _, err := Inspect(ctx, filepath.Join(t.TempDir(), "missing.wasm")); err == nil {
		t.Error("a missing module was inspected")
	}
	junk := filepath.Join(t.TempDir(), "junk.wasm")
	os.WriteFile(junk, []byte("not wasm"), 0o600)
	if _, _, err := Inspect(ctx, junk); err == nil || !strings.Contains(err.Error(), "junk") {
		t.Errorf("junk: %v", err)
	}
}

func TestManifestSetsEveryMemoryField(t *testing.T) {
	p, err := newLoaded(Spec{Name: "m", Path: "m.wasm", SHA256: sha, Limits: Limits{Memory: "32MiB"}, Config: map[string]string{"k": "v"}}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	m := p.manifest([]byte("wasm"))
	if m.Memory == nil || m.Memory.MaxPages != 512 || m.Memory.MaxVarBytes != maxVarBytes || m.Memory.MaxVarBytes == 0 {
		t.Errorf("memory %+v: MaxPages must be the limit and MaxVarBytes explicit and non-zero", m.Memory)
	}
	if m.Memory.MaxHttpResponseBytes != 0 || len(m.AllowedHosts) != 0 || len(m.AllowedPaths) != 0 {
		t.Errorf("network or files allowed: %+v", m)
	}
	if m.Config["k"] != "v" {
		t.Errorf("config %v", m.Config)
	}
	if p.maxInput != MaxInputBytes {
		t.Errorf("a 32MiB plugin accepts %d bytes of input, want %d", p.maxInput, MaxInputBytes)
	}
	small, _ := newLoaded(Spec{Name: "s", Path: "s.wasm", SHA256: sha, Limits: Limits{Memory: "4MiB"}}, discardLogger())
	if small.maxInput != 2<<20 {
		t.Errorf("a 4MiB plugin accepts %d bytes of input, want half its memory", small.maxInput)
	}
}

// TestOneModuleForManyPluginsFromTheDiskCache loads one module as eight
// plugins of one runtime, again and again, with its compilation on disk
// but nothing in memory or in the describe cache: each Load compiles it
// eight times at once from the disk cache. wazero 1.9 files such a module
// before it is ready, and without compileLocks a plugin's first instance
// could take it unfinished and panic inside wazero, which takes the
// process down (it did, now and then, in this package's full run).
func TestOneModuleForManyPluginsFromTheDiskCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	specs := make([]Spec, 8)
	for i := range specs {
		specs[i] = spec("good")
		specs[i].Name, specs[i].Prefix = fmt.Sprintf("p%d", i), strp(fmt.Sprintf("p%d", i))
	}
	for round := 0; round < 12; round++ {
		// The compilation stays on disk; the describe answers go, so that
		// Load compiles (and instantiates) every plugin.
		if err := os.RemoveAll(filepath.Join(dir, describeCacheSubdir)); err != nil {
			t.Fatal(err)
		}
		e := newEnvWith(t, envConfig{opts: func(o *Options) { o.CacheDir = dir }}, specs...)
		if n := len(e.h.Tools()); n != 8*4 {
			t.Fatalf("round %d: %d tools, want 32", round, n)
		}
		if err := e.h.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
