package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var ctx = context.Background()

const (
	mgmt        = sandbox.OrgManagementID
	prod        = sandbox.OrgProdID
	dev         = sandbox.OrgDevID
	shared      = sandbox.OrgSharedID
	operatorARN = "arn:aws:iam::" + mgmt + ":user/" + sandbox.OrgOperatorUser
)

func accessRole(id string) string { return "arn:aws:iam::" + id + ":role/" + sandbox.OrgAccessRoleName }

// clock is the sandbox's clock: the real one moved by an offset a test
// changes.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) set(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// counter is an http.RoundTripper in front of the sandbox that counts the
// AssumeRole requests.
type counter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    int
	// fail, when set, is the error of every AssumeRole (a network down).
	fail error
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	if form, _ := url.ParseQuery(string(body)); form.Get("Action") == "AssumeRole" {
		c.mu.Lock()
		c.n++
		fail := c.fail
		c.mu.Unlock()
		if fail != nil {
			return nil, fail
		}
	}
	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	return c.next.RoundTrip(clone)
}

func (c *counter) assumes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// env is the org seed's sandbox, the server's clients signing as its
// operator (through a counter), and the server's catalogue.
type env struct {
	sb      *sandbox.Server
	clock   *clock
	count   *counter
	clients *catalogue.Clients
	cat     *catalogue.Catalogue
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: &clock{}}
	sb, err := sandbox.New(sandbox.Options{Seed: "org", Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	e.sb = sb
	e.count = &counter{next: sb.Transport()}
	e.clients, err = catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: e.count, SandboxKeyID: sandbox.OrgOperatorKeyID, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.cat, err = catalogue.New(e.clients, catalogue.Options{ReturnSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) registry(t *testing.T, file string, self gate.Account) *Registry {
	t.Helper()
	r, err := e.newRegistry(file, self, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) newRegistry(file string, self gate.Account, log *slog.Logger) (*Registry, error) {
	var f *File
	if file != "" {
		var err error
		if f, err = Parse([]byte(file), "accounts.yaml"); err != nil {
			return nil, err
		}
	}
	return New(ctx, f, Options{Clients: e.clients, Self: self, Logger: log})
}

// runner is the catalogue acting in the account named name for tool.
func runner(t *testing.T, r *Registry, base gate.Runner, name, tool string) (gate.Runner, string) {
	t.Helper()
	acct, ok := r.Lookup(name)
	if !ok {
		t.Fatalf("no account %s in %+v", name, r.List())
	}
	run, session, err := r.Runner(ctx, base, acct, gate.Caller{Kind: gate.BuiltIn, Tool: tool})
	if err != nil {
		t.Fatal(err)
	}
	return run, session
}

func whoAmI(t *testing.T, run gate.Runner) *api.AccountInfoOutput {
	t.Helper()
	out, err := run.Run(ctx, "get_account_info", &api.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	return out.(*api.AccountInfoOutput)
}

const prodFile = `
accounts:
  - id: "444444444444"
    alias: prod
    role_arn: arn:aws:iam::444444444444:role/OrganizationAccountAccessRole
    mode: read-write
    confirm: writes
`

// TestAssumeAndCall: the catalogue acts in prod as the role, in a session
// named for the server and the tool, and the session is assumed once for
// many calls of one tool.
func TestAssumeAndCall(t *testing.T) {
	e := newEnv(t)
	r := e.registry(t, prodFile, gate.Account{ID: mgmt, Confirm: gate.ConfirmDestructive})
	run, session := runner(t, r, e.cat, "prod", "list_users")
	want := "arn:aws:sts::" + prod + ":assumed-role/" + sandbox.OrgAccessRoleName + "/iam-mcp.list_users"
	if session != want {
		t.Errorf("session %s, want %s", session, want)
	}
	if info := whoAmI(t, run); info.AccountID != prod || info.CallerArn != want || info.AccountAlias != "acme-prod" {
		t.Fatalf("in prod: %+v", info)
	}
	// The server's own catalogue is untouched.
	if info := whoAmI(t, e.cat); info.CallerArn != operatorARN {
		t.Fatalf("the server's own catalogue now answers %+v", info)
	}
	for range 10 {
		run, _ := runner(t, r, e.cat, "444444444444", "list_users")
		if _, err := run.Run(ctx, "list_users", &api.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count.assumes(); n != 1 {
		t.Errorf("%d AssumeRole requests for one tool's calls, want 1", n)
	}
	// Another tool is another session.
	run, session = runner(t, r, e.cat, "prod", "get_role")
	if !strings.HasSuffix(session, "/iam-mcp.get_role") || !strings.HasSuffix(whoAmI(t, run).CallerArn, "/iam-mcp.get_role") {
		t.Errorf("second tool's session %s", session)
	}
	if n := e.count.assumes(); n != 2 {
		t.Errorf("%d AssumeRole requests for two tools, want 2", n)
	}

	// Concurrent calls of a new tool share one session, assumed once.
	before := e.count.assumes()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct, _ := r.Lookup("prod")
			run, _, err := r.Runner(ctx, e.cat, acct, gate.Caller{Kind: gate.Plugin, Plugin: "review", Tool: "review_access"})
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := run.Run(ctx, "list_roles", &api.ListRolesInput{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := e.count.assumes() - before; n != 1 {
		t.Errorf("%d AssumeRole requests for 20 concurrent calls, want 1", n)
	}

	// A runner that is not the catalogue, and an account not reached.
	if _, _, err := r.Runner(ctx, notCatalogue{}, gate.Account{ID: prod}, gate.Caller{}); err == nil || !strings.Contains(err.Error(), "needs the catalogue") {
		t.Errorf("not a catalogue: %v", err)
	}
	if _, _, err := r.Runner(ctx, e.cat, gate.Account{ID: dev}, gate.Caller{}); err == nil || !strings.Contains(err.Error(), "not one this server reaches") {
		t.Errorf("an account not listed: %v", err)
	}
}

type notCatalogue struct{ gate.Runner }

// TestListLookupReachable: the registry's view of the accounts, and the
// modes: read-only by default, read-only whenever the server is (with a
// warning), the server's --confirm where the file gives none.
func TestListLookupReachable(t *testing.T) {
	e := newEnv(t)
	file := prodFile + `  - id: "333333333333"
    role_arn: arn:aws:iam::333333333333:role/OrganizationAccountAccessRole
self_alias: mgmt
`
	r := e.registry(t, file, gate.Account{Confirm: gate.ConfirmNone})
	list := r.List()
	if len(list) != 3 || !list[0].Self || list[0].ID != mgmt || list[0].Alias != "mgmt" || list[1].ID != prod || list[2].ID != dev {
		t.Fatalf("List: %+v", list)
	}
	if list[1].ReadOnly || list[1].Confirm != gate.ConfirmWrites || list[1].Via != accessRole(prod) {
		t.Errorf("prod: %+v", list[1])
	}
	if !list[2].ReadOnly || list[2].Confirm != gate.ConfirmNone {
		t.Errorf("dev (no mode, no confirm): %+v", list[2])
	}
	for name, id := range map[string]string{"mgmt": mgmt, mgmt: mgmt, "prod": prod, prod: prod, dev: dev} {
		if a, ok := r.Lookup(name); !ok || a.ID != id {
			t.Errorf("Lookup(%s) = %+v %v", name, a, ok)
		}
	}
	for _, name := range []string{"", "Prod", shared, "acme-prod", "44444444444"} {
		if a, ok := r.Lookup(name); ok {
			t.Errorf("Lookup(%q) found %+v", name, a)
		}
	}
	reach := r.Reachable(nil)
	if len(reach) != 3 || reach[0] != (api.ReachableAccount{ID: mgmt, Alias: "mgmt", Self: true, Confirm: "none"}) ||
		reach[1] != (api.ReachableAccount{ID: prod, Alias: "prod", ReadOnly: false, Confirm: "writes", Via: accessRole(prod)}) {
		t.Errorf("Reachable: %+v", reach)
	}
	if only := r.Reachable(map[string]bool{dev: true}); len(only) != 1 || only[0].ID != dev {
		t.Errorf("Reachable(dev): %+v", only)
	}

	// A read-only server makes every account read-only, and says so once.
	var logs bytes.Buffer
	ro, err := e.newRegistry(file, gate.Account{ReadOnly: true}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ro.List() {
		if !a.ReadOnly {
			t.Errorf("%s is writable under a read-only server", a.ID)
		}
	}
	if n := strings.Count(logs.String(), "the server is read-only"); n != 1 || !strings.Contains(logs.String(), prod) {
		t.Errorf("warnings: %s", logs.String())
	}

	// The server's own account needs no entry.
	_, err = e.newRegistry("accounts:\n  - id: \""+mgmt+"\"\n    alias: main\n    profile: p\n", gate.Account{}, nil)
	if err == nil || !strings.Contains(err.Error(), "the server's own account, which needs no entry") || !strings.Contains(err.Error(), "self_alias: main") {
		t.Errorf("an entry for the server's own account: %v", err)
	}
	// Nor does the file name another account than the credentials'.
	if _, err := New(ctx, nil, Options{Clients: e.clients, Self: gate.Account{ID: prod}}); err == nil || !strings.Contains(err.Error(), "credentials are account "+mgmt) {
		t.Errorf("a wrong Self: %v", err)
	}
}

// TestRefused: an AssumeRole the trust policy refuses names the account,
// the role, the principal, and the statement that would let it in.
func TestRefused(t *testing.T) {
	e := newEnv(t)
	// prod's dev-deploy trusts dev's account, not the management's.
	role := "arn:aws:iam::" + prod + ":role/dev-deploy"
	r := e.registry(t, "accounts:\n  - id: \""+prod+"\"\n    alias: prod\n    role_arn: "+role+"\n    external_id: ext-42\n", gate.Account{})
	acct, _ := r.Lookup("prod")
	_, _, err := r.Runner(ctx, e.cat, acct, gate.Caller{Kind: gate.BuiltIn, Tool: "list_users"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.AccessDenied {
		t.Fatalf("want AccessDenied, got %v", err)
	}
	stmt := `{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-42"}},"Effect":"Allow","Principal":{"AWS":"` + operatorARN + `"}}`
	for _, want := range []string{"prod (" + prod + ")", role, "The server is " + operatorARN, stmt, "must also allow sts:AssumeRole on " + role} {
		if !strings.Contains(ae.Message, want) {
			t.Errorf("the refusal does not say %s:\n%s", want, ae.Message)
		}
	}
	// The statement is JSON a trust policy can take as it is.
	i := strings.Index(ae.Message, "statement ")
	var s map[string]any
	if err := json.NewDecoder(strings.NewReader(ae.Message[i+len("statement "):])).Decode(&s); err != nil || s["Effect"] != "Allow" {
		t.Errorf("the statement is not JSON: %v", err)
	}
	// Nothing was cached as a success: the next call asks again.
	before := e.count.assumes()
	if _, _, err := r.Runner(ctx, e.cat, acct, gate.Caller{Kind: gate.BuiltIn, Tool: "list_users"}); err == nil {
		t.Fatal("the second try succeeded")
	}
	if e.count.assumes() != before+1 {
		t.Error("a refusal was cached")
	}
}

// TestAssumeFails: an AssumeRole that fails other than by refusal keeps
// its own words, with the account and the role.
func TestAssumeFails(t *testing.T) {
	e := newEnv(t)
	r := e.registry(t, prodFile, gate.Account{})
	e.count.mu.Lock()
	e.count.fail = errors.New("dial tcp: connection refused")
	e.count.mu.Unlock()
	acct, _ := r.Lookup("prod")
	_, _, err := r.Runner(ctx, e.cat, acct, gate.Caller{Kind: gate.CLI})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.ServiceFailure || !strings.Contains(ae.Message, "connection refused") ||
		!strings.Contains(ae.Message, "could not assume the role "+accessRole(prod)+" in account prod ("+prod+")") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(ae.Message, "trust policy") {
		t.Errorf("a network failure is explained as a trust policy: %s", ae.Message)
	}
}

// TestExternalID: a role whose trust policy asks for an external id lets
// the server in with it, and refuses it without the right one.
func TestExternalID(t *testing.T) {
	e := newEnv(t)
	admin, _ := runner(t, e.registry(t, prodFile, gate.Account{}), e.cat, "prod", "create_role")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + operatorARN + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc-123"}}}]}`
	if _, err := admin.Run(ctx, "create_role", &api.CreateRoleInput{RoleName: "partner", AssumeRolePolicyDocument: api.PolicyDocument(trust)}); err != nil {
		t.Fatal(err)
	}
	entry := func(ext string) string {
		return "accounts:\n  - id: \"" + prod + "\"\n    role_arn: arn:aws:iam::" + prod + ":role/partner\n    external_id: " + ext + "\n    session_duration: 30m\n"
	}
	good, _ := runner(t, e.registry(t, entry("abc-123"), gate.Account{}), e.cat, prod, "get_user")
	if got := whoAmI(t, good).CallerArn; got != "arn:aws:sts::"+prod+":assumed-role/partner/iam-mcp.get_user" {
		t.Errorf("with the external id: %s", got)
	}
	bad := e.registry(t, entry("wrong-1"), gate.Account{})
	acct, _ := bad.Lookup(prod)
	_, _, err := bad.Runner(ctx, e.cat, acct, gate.Caller{Kind: gate.CLI})
	if err == nil || !strings.Contains(err.Error(), `"sts:ExternalId":"wrong-1"`) {
		t.Errorf("a wrong external id: %v", err)
	}
}

// TestRefresh: credentials that expire within ExpiryWindow are renewed
// before the next call, not used.
func TestRefresh(t *testing.T) {
	e := newEnv(t)
	r := e.registry(t, prodFile+"    session_duration: 1h\n", gate.Account{})
	// The sandbox's clock runs 57 minutes behind: its hour-long sessions
	// expire three minutes from now by this machine's clock.
	e.clock.set(-57 * time.Minute)
	// Each use of the session (here: Runner's check that it holds one)
	// assumes the role anew.
	for i := 1; i <= 3; i++ {
		runner(t, r, e.cat, "prod", "list_users")
		if n := e.count.assumes(); n != i {
			t.Fatalf("after %d uses, %d AssumeRole requests: credentials inside the expiry window were used", i, n)
		}
	}
	run, _ := runner(t, r, e.cat, "prod", "list_users")
	if info := whoAmI(t, run); info.AccountID != prod {
		t.Fatalf("with renewed credentials: %+v", info)
	}
	// With the clocks agreeing, the session is kept.
	e.clock.set(0)
	before := e.count.assumes()
	for range 3 {
		whoAmI(t, runnerOnly(t, r, e.cat, "get_user"))
	}
	if n := e.count.assumes() - before; n != 1 {
		t.Errorf("%d AssumeRole requests for a fresh session's calls, want 1", n)
	}
}

func runnerOnly(t *testing.T, r *Registry, base gate.Runner, tool string) gate.Runner {
	run, _ := runner(t, r, base, "prod", tool)
	return run
}

// TestExpiredTokenRetried: a session the cache holds as fresh but AWS
// refuses as expired is dropped and the call retried once with a new one.
func TestExpiredTokenRetried(t *testing.T) {
	e := newEnv(t)
	r := e.registry(t, prodFile, gate.Account{})
	run, _ := runner(t, r, e.cat, "prod", "list_users")
	whoAmI(t, run)
	// The sandbox's clock jumps two hours: the session it made has expired
	// there, though not by this machine's clock.
	e.clock.set(2 * time.Hour)
	if info := whoAmI(t, run); info.AccountID != prod {
		t.Fatalf("after the jump: %+v", info)
	}
	if _, err := run.Run(ctx, "list_users", &api.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if n := e.count.assumes(); n != 2 {
		t.Errorf("%d AssumeRole requests, want 2 (one, then one after ExpiredToken)", n)
	}
}

// TestDiscovery: every active account of the organization, filtered by
// include and exclude (ids or names), the file's entries winning.
func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	ids := func(r *Registry) string {
		var s []string
		for _, a := range r.List() {
			s = append(s, a.Alias+"="+a.ID)
		}
		return strings.Join(s, " ")
	}
	disc := "discovery:\n  role_name: OrganizationAccountAccessRole\n"
	all := e.registry(t, disc, gate.Account{})
	if got := ids(all); got != "acme-management="+mgmt+" acme-dev="+dev+" acme-prod="+prod+" acme-shared="+shared {
		t.Errorf("all: %s", got)
	}
	// The organization's name for the server's own account names it too.
	if a, ok := all.Lookup("acme-management"); !ok || !a.Self {
		t.Errorf("the own account by its organization name: %+v %v", a, ok)
	}
	a, _ := all.Lookup("acme-dev")
	if a.Via != accessRole(dev) || !a.ReadOnly {
		t.Errorf("discovered dev: %+v", a)
	}
	run, _ := runner(t, all, e.cat, "acme-shared", "list_roles")
	if info := whoAmI(t, run); info.AccountID != shared {
		t.Errorf("in shared: %+v", info)
	}

	some := e.registry(t, disc+"  include: [acme-dev, \""+prod+"\"]\n  mode: read-write\n", gate.Account{})
	if got := ids(some); got != "acme-management="+mgmt+" acme-dev="+dev+" acme-prod="+prod {
		t.Errorf("include: %s", got)
	}
	if a, _ := some.Lookup(prod); a.ReadOnly {
		t.Error("discovery's mode was not applied")
	}
	out := e.registry(t, disc+"  exclude: [acme-shared, \""+dev+"\"]\n", gate.Account{})
	if got := ids(out); got != "acme-management="+mgmt+" acme-prod="+prod {
		t.Errorf("exclude: %s", got)
	}
	// The file's entry wins over the discovered account.
	both := e.registry(t, prodFile+disc, gate.Account{})
	if a, _ := both.Lookup(prod); a.Alias != "prod" || a.Confirm != gate.ConfirmWrites {
		t.Errorf("the file's prod: %+v", a)
	}
	if _, ok := both.Lookup("acme-prod"); ok {
		t.Error("prod discovered again under its organization name")
	}

	if _, err := e.newRegistry(disc+"  include: [acme-dve]\n", gate.Account{}, nil); err == nil || !strings.Contains(err.Error(), `include names "acme-dve", which is no account`) {
		t.Errorf("a misspelt include: %v", err)
	}
	// Discovery outside an organization, and from a member account.
	lone, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	loneClients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: lone.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Parse([]byte(disc), "a.yaml")
	if _, err := New(ctx, f, Options{Clients: loneClients}); err == nil || !strings.Contains(err.Error(), "in no AWS Organization") {
		t.Errorf("a lone account: %v", err)
	}
	reg := e.registry(t, prodFile, gate.Account{})
	member := reg.session(reg.byName[prod], "iam-mcp.test").clients
	if _, err := New(ctx, f, Options{Clients: member}); err == nil || !strings.Contains(err.Error(), "management account or a delegated administrator") {
		t.Errorf("from a member account: %v", err)
	}
}

// TestProfile: an account reached by a named profile, checked once to be
// that account.
func TestProfile(t *testing.T) {
	e := newEnv(t)
	// A user of prod with a key, for the profile.
	admin, _ := runner(t, e.registry(t, prodFile, gate.Account{}), e.cat, "prod", "create_user")
	if _, err := admin.Run(ctx, "create_user", &api.CreateUserInput{UserName: "mcp"}); err != nil {
		t.Fatal(err)
	}
	out, err := admin.Run(ctx, "create_access_key", &api.UserNameInput{UserName: "mcp"})
	if err != nil {
		t.Fatal(err)
	}
	key := out.(*api.CreateAccessKeyOutput)
	dir := t.TempDir()
	creds := "[prod-mcp]\naws_access_key_id = " + key.AccessKey.AccessKeyID + "\naws_secret_access_key = " + key.SecretAccessKey +
		"\n[operator]\naws_access_key_id = " + sandbox.OrgOperatorKeyID + "\naws_secret_access_key = " + sandbox.OrgOperatorSecretKey + "\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_PROFILE", "")

	r := e.registry(t, "accounts:\n  - id: \""+prod+"\"\n    profile: prod-mcp\n  - id: \""+dev+"\"\n    profile: operator\n", gate.Account{})
	run, session := runner(t, r, e.cat, prod, "list_users")
	if session != "profile prod-mcp" {
		t.Errorf("session %q", session)
	}
	if got := whoAmI(t, run).CallerArn; got != "arn:aws:iam::"+prod+":user/mcp" {
		t.Errorf("through the profile: %s", got)
	}
	acct, _ := r.Lookup(dev)
	_, _, err = r.Runner(ctx, e.cat, acct, gate.Caller{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.WrongAccount || !strings.Contains(ae.Message, `profile "operator" is account `+mgmt) {
		t.Errorf("a profile of another account: %v", err)
	}
}
