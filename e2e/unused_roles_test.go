package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The shipped plugin written in AssemblyScript (plugins/unused-roles):
// its committed module is what its pinned toolchain builds from its
// source, plugins.yaml pins it, and over MCP it reports exactly the roles
// nobody used for N days, with the calls that would retire each.

// unusedRolesDir is the plugin's directory in the checkout.
func unusedRolesDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "plugins", "unused-roles")
}

// TestUnusedRolesModuleIsItsSource builds the plugin from its source with
// the toolchain its package-lock.json pins, in a copy of its directory (so
// that it races no make plugins), as make plugins does — npm ci, then npm
// run build, whose flags are asconfig.json's — and requires the bytes of the
// committed module: a change to the source without rebuilding, or a build
// that depends on where it runs, fails here.
func TestUnusedRolesModuleIsItsSource(t *testing.T) {
	t.Parallel()
	npm := testenv.LookTool(t, "npm", "install Node.js 20 and npm, e.g. apt-get install nodejs npm")
	src := unusedRolesDir(t)
	dir := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		switch {
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		case strings.HasSuffix(path, ".wasm") || !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A guard against a hang only: npm ci may fetch the toolchain.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"},
		{"run", "--silent", "build"},
	} {
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm %s in a copy of plugins/unused-roles: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	built, err := os.ReadFile(filepath.Join(dir, "unused-roles.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(src, "unused-roles.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, committed) {
		t.Fatalf("plugins/unused-roles/unused-roles.wasm (%d bytes, sha256 %s) is not what its source builds to (%d bytes, sha256 %s): run make plugins and commit the module and plugins.yaml",
			len(committed), sha(committed), len(built), sha(built))
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestUnusedRolesPinned: the repository's plugins.yaml, read as the server
// reads it, pins the committed module's hash and grants exactly what the
// module's describe asks for, all of it read-only.
func TestUnusedRolesPinned(t *testing.T) {
	t.Parallel()
	dir := unusedRolesDir(t)
	cfg, err := plugin.LoadConfig(filepath.Join(dir, "..", "..", "plugins.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cfg.Plugins, func(s plugin.Spec) bool { return s.Name == "unused-roles" })
	if i < 0 {
		t.Fatal("plugins.yaml has no unused-roles entry")
	}
	spec := cfg.Plugins[i]
	wasm, err := os.ReadFile(filepath.Join(dir, "unused-roles.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha(wasm); spec.SHA256 != got {
		t.Errorf("plugins.yaml pins unused-roles at %s, the committed module is %s: run make plugins", spec.SHA256, got)
	}
	ctx, cancel := ctxT()
	defer cancel()
	_, d, err := plugin.Inspect(ctx, spec.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tools) != 1 || d.Tools[0].Name != "unused_roles" {
		t.Fatalf("describe: %+v", d)
	}
	asks := slices.Sorted(slices.Values(d.Tools[0].Operations))
	grants := slices.Sorted(slices.Values(spec.Grants))
	if !slices.Equal(asks, grants) || !slices.Equal(asks, []string{"get_role", "list_roles"}) {
		t.Errorf("describe asks for %v, plugins.yaml grants %v; want both get_role and list_roles", asks, grants)
	}
	for _, op := range asks {
		if o, ok := api.Lookup(op); !ok || o.Mutates {
			t.Errorf("unused-roles asks for %s, which is not a read", op)
		}
	}
}

// unusedReport is the tool's structured answer, decoded strictly.
type unusedReport struct {
	Days                 int    `json:"days"`
	PathPrefix           string `json:"path_prefix"`
	Now                  string `json:"now"`
	Cutoff               string `json:"cutoff"`
	RolesListed          int    `json:"roles_listed"`
	ServiceLinkedSkipped int    `json:"service_linked_skipped"`
	TooRecent            int    `json:"too_recent"`
	Checked              int    `json:"checked"`
	Vanished             int    `json:"vanished"`
	Unused               []struct {
		RoleName       string  `json:"role_name"`
		Arn            string  `json:"arn"`
		Path           string  `json:"path"`
		Description    string  `json:"description"`
		CreateDate     string  `json:"create_date"`
		AgeDays        int     `json:"age_days"`
		NoUseRecorded  bool    `json:"no_use_recorded"`
		LastUsedDate   *string `json:"last_used_date"`
		LastUsedRegion *string `json:"last_used_region"`
		IdleDays       int     `json:"idle_days"`
		Plan           []struct {
			Op   string         `json:"op"`
			Args map[string]any `json:"args"`
		} `json:"plan"`
	} `json:"unused"`
	IAMCalls int    `json:"iam_calls"`
	Markdown string `json:"markdown"`
}

// unusedRoles calls the tool with a progress token and checks the
// answer's shape: structured content valid against the tool's output
// schema, and the Markdown report as the text.
func unusedRoles(t *testing.T, s *server, args map[string]any, token string) unusedReport {
	t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	params := &mcp.CallToolParams{Name: "unused_roles", Arguments: args}
	if token != "" {
		params.SetProgressToken(token)
	}
	res, err := s.cs.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("unused_roles %s: %v", argsText(args), err)
	}
	if res.IsError {
		t.Fatalf("unused_roles %s: %s", argsText(args), resultText(res))
	}
	b, _ := json.Marshal(res.StructuredContent)
	var instance any
	if err := json.Unmarshal(b, &instance); err != nil {
		t.Fatal(err)
	}
	if rs := s.outSchema["unused_roles"]; rs == nil {
		t.Error("unused_roles has no output schema")
	} else if err := rs.Validate(instance); err != nil {
		t.Errorf("unused_roles %s: the answer does not validate against its output schema: %v\n%s", argsText(args), err, b)
	}
	var r unusedReport
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("unused_roles: %v\n%s", err, b)
	}
	if text := resultText(res); text != r.Markdown || !strings.HasPrefix(text, "# Roles unused for ") {
		t.Errorf("the text is not the Markdown report: %.300s", text)
	}
	return r
}

// editRoles changes roles in a sandbox state file (--sandbox-state), the
// sandbox's own record of the account, so that roles can have been created
// and used long ago: IAM (and so the sandbox) sets those dates itself.
func editRoles(t *testing.T, state string, edits map[string]func(role map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		t.Fatal(err)
	}
	account, _ := st["account"].(map[string]any)
	roles, _ := account["Roles"].(map[string]any)
	done := 0
	for _, v := range roles {
		r, _ := v.(map[string]any)
		if edit := edits[r["Name"].(string)]; edit != nil {
			edit(r)
			done++
		}
	}
	if done != len(edits) {
		t.Fatalf("the state file has %d of the %d roles to edit", done, len(edits))
	}
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestUnusedRoles drives the AssemblyScript plugin over MCP through the
// built server, on a demo account where roles were used yesterday, long
// ago or never, one is service-linked and one is new, and checks the exact
// roles reported, in order, with their last use, age and plan; a prefix
// and a longer window; bad arguments; and a grant taken away.
func TestUnusedRoles(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")

	// The demo account, kept in a state file, with the roles it lacks: a
	// service-linked role, a role with every kind of attachment (two
	// managed policies, an inline policy, an instance profile), and a
	// role created today.
	w := startWritable(t, "--toolsets", "all", "--sandbox-state", state)
	ok[api.RoleOutput](w, "create_role", map[string]any{"role_name": "AWSServiceRoleForSupport", "path": "/aws-service-role/support.amazonaws.com/",
		"assume_role_policy_document": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"support.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
	ok[api.RoleOutput](w, "create_role", map[string]any{"role_name": "batch-runner", "path": "/jobs/", "assume_role_policy_document": ec2TrustString, "description": "Nightly batch hosts"})
	ok[api.Result](w, "attach_role_policy", map[string]any{"role_name": "batch-runner", "policy_arn": awsPol + "AmazonS3ReadOnlyAccess"})
	ok[api.Result](w, "attach_role_policy", map[string]any{"role_name": "batch-runner", "policy_arn": awsPol + "ReadOnlyAccess"})
	ok[api.Result](w, "put_role_policy", map[string]any{"role_name": "batch-runner", "policy_name": "queue-access", "policy_document": s3ReadDoc})
	ok[api.InstanceProfileOutput](w, "create_instance_profile", map[string]any{"instance_profile_name": "batch-runner-profile", "path": "/jobs/"})
	ok[api.Result](w, "add_role_to_instance_profile", map[string]any{"instance_profile_name": "batch-runner-profile", "role_name": "batch-runner"})
	ok[api.RoleOutput](w, "create_role", map[string]any{"role_name": "fresh-role", "path": "/jobs/", "assume_role_policy_document": lambdaTrust})
	w.close()

	// Dates IAM would have set: the service-linked role and batch-runner
	// created long ago and never used, and vendor-integration (created 370
	// days ago in the demo) last used 100 days ago. An hour's margin
	// keeps each whole number of days away from its boundary.
	now := time.Now().UTC()
	ago := func(days int) string {
		return now.Add(-time.Duration(days)*24*time.Hour - time.Hour).Format(time.RFC3339Nano)
	}
	editRoles(t, state, map[string]func(map[string]any){
		"AWSServiceRoleForSupport": func(r map[string]any) { r["Created"] = ago(800) },
		"batch-runner":             func(r map[string]any) { r["Created"] = ago(400) },
		"vendor-integration": func(r map[string]any) {
			r["LastUsed"], r["LastUsedRegion"] = ago(100), "eu-central-1"
		},
	})

	s, progress := startPlugins(t, shippedPlugins, "--sandbox-state", state)
	if tool := s.tools["unused_roles"]; tool == nil || tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
		t.Fatalf("unused_roles is not listed as read-only: %+v", tool)
	}

	r := unusedRoles(t, s, map[string]any{}, "unused")
	type row struct {
		name, last, region string
		age, idle          int
		plan               []string
	}
	var got []row
	for _, u := range r.Unused {
		x := row{name: u.RoleName, age: u.AgeDays, idle: u.IdleDays}
		if u.LastUsedDate != nil && u.LastUsedRegion != nil {
			x.last, x.region = (*u.LastUsedDate)[:10], *u.LastUsedRegion
		}
		if u.NoUseRecorded != (u.LastUsedDate == nil) {
			t.Errorf("%s: no_use_recorded %v with last_used_date %v", u.RoleName, u.NoUseRecorded, u.LastUsedDate)
		}
		for _, c := range u.Plan {
			args, _ := json.Marshal(c.Args)
			x.plan = append(x.plan, c.Op+" "+string(args))
		}
		got = append(got, x)
	}
	day := func(days int) string { return now.Add(-time.Duration(days) * 24 * time.Hour).Format(time.DateOnly) }
	// The date of the instant ago(days) wrote, its hour's margin included:
	// in the first hour after midnight UTC it is the day before.
	agoDay := func(days int) string {
		return now.Add(-time.Duration(days)*24*time.Hour - time.Hour).Format(time.DateOnly)
	}
	want := []row{
		{name: "open-trust-role", age: 510, idle: 510, plan: []string{
			`detach_role_policy {"policy_arn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess","role_name":"open-trust-role"}`,
			`delete_role {"role_name":"open-trust-role"}`}},
		{name: "batch-runner", age: 400, idle: 400, plan: []string{
			`detach_role_policy {"policy_arn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess","role_name":"batch-runner"}`,
			`detach_role_policy {"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess","role_name":"batch-runner"}`,
			`delete_role_policy {"policy_name":"queue-access","role_name":"batch-runner"}`,
			`remove_role_from_instance_profile {"instance_profile_name":"batch-runner-profile","role_name":"batch-runner"}`,
			`delete_role {"role_name":"batch-runner"}`}},
		{name: "partner-audit", last: day(250), region: "us-east-1", age: 440, idle: 250, plan: []string{
			`detach_role_policy {"policy_arn":"arn:aws:iam::aws:policy/SecurityAudit","role_name":"partner-audit"}`,
			`delete_role {"role_name":"partner-audit"}`}},
		{name: "vendor-integration", last: agoDay(100), region: "eu-central-1", age: 370, idle: 100, plan: []string{
			`detach_role_policy {"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess","role_name":"vendor-integration"}`,
			`delete_role {"role_name":"vendor-integration"}`}},
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.name == b.name && a.last == b.last && a.region == b.region && a.age == b.age && a.idle == b.idle && slices.Equal(a.plan, b.plan)
	}) {
		t.Errorf("unused_roles {} reported\n%+v\nwant\n%+v", got, want)
	}
	// Twelve roles: the service-linked one skipped, fresh-role too young to
	// need its last use, the other ten each read with one get_role.
	if r.Days != 90 || r.RolesListed != 12 || r.ServiceLinkedSkipped != 1 || r.TooRecent != 1 || r.Checked != 10 || r.Vanished != 0 || r.IAMCalls != 11 {
		t.Errorf("unused_roles {}: counts %+v", struct{ Days, Listed, ServiceLinked, TooRecent, Checked, Vanished, Calls int }{
			r.Days, r.RolesListed, r.ServiceLinkedSkipped, r.TooRecent, r.Checked, r.Vanished, r.IAMCalls})
	}
	if u := r.Unused[1]; u.Arn != roleArn+"/jobs/batch-runner" || u.Path != "/jobs/" || u.Description != "Nightly batch hosts" || u.CreateDate[:10] != agoDay(400) {
		t.Errorf("batch-runner: %+v", u)
	}
	for _, s := range []string{"| open-trust-role | no use recorded | – | 510 | 2 |", "| batch-runner | no use recorded | – | 400 | 5 |",
		"| vendor-integration | " + agoDay(100) + " (100 days ago) | eu-central-1 | 370 | 2 |", "skipped 1 service-linked role (managed by AWS services)"} {
		if !strings.Contains(r.Markdown, s) {
			t.Errorf("the Markdown report lacks %q:\n%s", s, r.Markdown)
		}
	}
	if progress.count("unused") == 0 {
		t.Error("unused_roles sent no progress notification")
	}

	// A prefix, and a longer window (in which more roles are too young to
	// need reading).
	names := func(r unusedReport) []string {
		var n []string
		for _, u := range r.Unused {
			n = append(n, u.RoleName)
		}
		return n
	}
	if p := unusedRoles(t, s, map[string]any{"path_prefix": "/partners/"}, ""); !slices.Equal(names(p), []string{"partner-audit", "vendor-integration"}) || p.RolesListed != 2 || p.PathPrefix != "/partners/" {
		t.Errorf("unused_roles under /partners/: %v of %d", names(p), p.RolesListed)
	}
	if l := unusedRoles(t, s, map[string]any{"days": 300}, ""); !slices.Equal(names(l), []string{"open-trust-role", "batch-runner"}) || l.TooRecent != 4 || l.IAMCalls != 1+12-1-4 {
		t.Errorf("unused_roles for 300 days: %v, %d too recent, %d calls", names(l), l.TooRecent, l.IAMCalls)
	}
	if n := unusedRoles(t, s, map[string]any{"path_prefix": "/ops/", "days": 30}, ""); len(n.Unused) != 0 || !strings.Contains(n.Markdown, "Every role under /ops/ has been used since") {
		t.Errorf("unused_roles under /ops/ for 30 days: %v\n%s", names(n), n.Markdown)
	}

	// Arguments are read strictly; the assistant is told what to fix.
	for _, bad := range []map[string]any{
		{"days": 0}, {"days": 3651}, {"days": 1.5}, {"days": "90"}, {"path_prefix": "jobs"}, {"path_prefix": "/a b/"}, {"since": 90},
	} {
		msg := fails(s, "unused_roles", bad, api.InvalidInput)
		if !strings.Contains(msg, "days") && !strings.Contains(msg, "path_prefix") {
			t.Errorf("unused_roles %s: %q names neither argument", argsText(bad), msg)
		}
	}
	fails(s, "unused_roles", json.RawMessage(`{"days":30,"days":400}`), api.InvalidInput)
}

// TestUnusedRolesNotGranted: with get_role taken out of its grants, the
// plugin still loads, and its tool fails with NotGranted, saying which
// operation to grant and where.
func TestUnusedRolesNotGranted(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(shippedPlugins)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "- name: unused-roles")
	grant := strings.Index(text[start:], "\n      - get_role\n")
	if start < 0 || grant < 0 {
		t.Fatalf("the shipped plugins file has no unused-roles entry granting get_role:\n%s", text)
	}
	text = text[:start+grant] + text[start+grant+len("\n      - get_role"):]
	file := filepath.Join(t.TempDir(), "plugins.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := startPlugins(t, file)
	msg := fails(s, "unused_roles", map[string]any{}, api.NotGranted)
	for _, want := range []string{"get_role", "grants", "plugins file", "nothing was changed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the NotGranted message does not say %q: %s", want, msg)
		}
	}
}

// TestUnusedRolesStartupCost measures, through the built server, the
// AssemblyScript module's size and the time of its first call on a fresh
// server (its instance made on first use; the compilation cache warm, and
// the server's own first IAM request made by a built-in tool before) against
// a warm call, beside the same for hello-iam, written in Go: the figures
// the closing note reports. Each call lists one empty path (one list_roles
// or list_users), so that what differs is the plugin, not its IAM work. It
// asserts only that every call succeeds: times depend on the machine.
func TestUnusedRolesStartupCost(t *testing.T) {
	t.Parallel()
	empty := map[string]any{"path_prefix": "/nothing-here/"}
	time1 := func(s *server, tool string) time.Duration {
		t.Helper()
		ctx, cancel := ctxT()
		defer cancel()
		start := time.Now()
		res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: empty})
		took := time.Since(start)
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %s", tool, err, resultText(res))
		}
		return took
	}
	for _, c := range []struct{ tool, module string }{
		{"unused_roles", filepath.Join(unusedRolesDir(t), "unused-roles.wasm")},
		{"hello_users_per_path", helloWasm},
	} {
		fi, err := os.Stat(c.module)
		if err != nil {
			t.Fatal(err)
		}
		// A first server fills the compilation cache.
		warmup, _ := startPlugins(t, shippedPlugins)
		time1(warmup, c.tool)
		warmup.close()

		s, _ := startPlugins(t, shippedPlugins)
		time1(s, "list_roles")
		first := time1(s, c.tool)
		var warm []time.Duration
		for range 9 {
			warm = append(warm, time1(s, c.tool))
		}
		slices.Sort(warm)
		t.Logf("%s: module %d bytes; first call on a fresh server %v, warm calls median %v", c.tool, fi.Size(), first.Round(10*time.Microsecond), warm[4].Round(10*time.Microsecond))
		s.close()
	}
}
