package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Options configures a sandbox. The zero value is a usable empty account
// with IAM's default quotas, no faults and no persistence.
type Options struct {
	// AccountID is the account's 12-digit id, in every ARN the account
	// mints, its root's and its credential report's; "" means AccountID
	// (the constant). In an organisation it is the management account's.
	AccountID string
	// Seed names a data set loaded into a new account: "" for none, "demo"
	// for a small company's account with planted security problems, "org"
	// for an AWS Organization of four accounts with cross-account problems
	// planted (seed_org.go; it sets AccountID, Members, OUs and SCPs
	// itself). It is ignored for an account whose state file already
	// holds it.
	Seed string
	// Members makes the sandbox an AWS Organization's management account,
	// with these member accounts, each a full IAM account of its own
	// (org.go). Their IAM state is kept in <StateFile>.<account-id>.
	Members []Member
	// OUs are the organisation's organisational units, which Members and
	// other OUs name as parents.
	OUs []OU
	// SCPs are the organisation's service control policies besides
	// FullAWSAccess, which is attached everywhere as in AWS.
	SCPs []SCP
	// AccountName is the management account's name as Organizations
	// reports it; "" is "management".
	AccountName string
	// StateFile, when set, persists the account as JSON: loaded at start
	// (an unreadable or corrupt file is an error, never a silent reset) and
	// rewritten atomically after every successful change. What reads
	// record is kept too: keys' last use and service use are written at
	// most once a second while requests come, generated reports with the
	// next write, and all of it by Close (persist.go).
	StateFile string
	// Faults injects latency and errors, for tests and benchmarks.
	Faults Faults
	// Quotas overrides IAM's default account quotas (zero fields keep the
	// default), so benchmarks can hold accounts larger than IAM allows.
	Quotas Quotas
	// Now is the clock; nil means time.Now. Tests move it to check dates.
	Now func() time.Time
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// AllowedHosts are the host names (or IP addresses) by which network
	// clients may address the sandbox, besides the address a connection
	// arrives on and "localhost" on a loopback address (see front.go). An
	// entry without a port must come with the listener's port; "name:port"
	// allows exactly that, for a sandbox behind a port mapping. The
	// in-process transport is not subject to it.
	AllowedHosts []string
}

// Quotas are the account-level limits IAM enforces (GetAccountSummary
// reports them).
type Quotas struct {
	Users, Groups, Roles, Policies, InstanceProfiles int
}

func (q Quotas) withDefaults() Quotas {
	def := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	return Quotas{
		Users:            def(q.Users, 5000),
		Groups:           def(q.Groups, 300),
		Roles:            def(q.Roles, 1000),
		Policies:         def(q.Policies, 1500),
		InstanceProfiles: def(q.InstanceProfiles, 1000),
	}
}

// maxBodyBytes caps a request body. The largest legitimate IAM request
// (SimulateCustomPolicy with several 10 KB documents, URL-encoded) is far
// below it.
const maxBodyBytes = 1 << 20

// Server is the sandbox. It is an http.Handler; it is safe for concurrent use.
type Server struct {
	opts   Options
	id     string // the account's id (Options.AccountID or the default)
	quotas Quotas
	now    func() time.Time
	log    *slog.Logger
	faults *faultInjector
	hosts  hostRule // the Host values the network front accepts

	// realm is what the accounts of this sandbox share: the accounts by
	// id, the STS sessions, the organisation (org.go). A member account's
	// server points to its management account's realm.
	realm *realm

	mu   sync.RWMutex // guards acct and the state file
	acct *account

	// gen counts changes to the account; sorted lists are cached per gen.
	gen    atomic.Uint64
	sorted sortCache

	// keyMu guards acct.KeyUse and acct.ServiceUse alone: every request,
	// reads included, records its signing key and the service it used, and
	// reads must not need the write lock.
	keyMu sync.Mutex
	// owners finds the user of a signing key without scanning every user.
	owners keyOwners

	// What reads recorded since the state file was last written, and when
	// to write it (persist.go). useUnsaved is set under keyMu, and
	// derivedUnsaved under the write lock; both are cleared under keyMu
	// with the account marshalled.
	saveMu         sync.Mutex // serialises writes of the state file
	lastSave       time.Time  // guarded by saveMu; zero: not written by this server yet
	useUnsaved     atomic.Bool
	derivedUnsaved atomic.Bool
	saveEvery      atomic.Int64
	// reports keeps service-last-accessed reports between their pages.
	reports accessReports
}

// New builds a sandbox from opts: it loads the state file if one exists, or
// applies the seed to a new account; with Options.Members (or the org
// seed), the organisation and its member accounts too (org.go).
func New(opts Options) (*Server, error) {
	if opts.Seed == "org" {
		if len(opts.Members) > 0 || len(opts.OUs) > 0 || len(opts.SCPs) > 0 {
			return nil, fmt.Errorf("sandbox: the org seed brings its own organisation; leave Options.Members, OUs and SCPs empty with it")
		}
		if opts.AccountID != "" && opts.AccountID != OrgManagementID {
			return nil, fmt.Errorf("sandbox: the org seed's management account is %s, not %s", OrgManagementID, short(opts.AccountID))
		}
		opts = orgSeedLayout(opts)
	}
	s, loaded, err := newAccountServer(opts)
	if err != nil {
		return nil, err
	}
	fresh, err := s.setupOrganization(opts, !loaded)
	if err != nil {
		return nil, err
	}
	if err := s.applySeed(opts.Seed, fresh); err != nil {
		return nil, err
	}
	for id := range fresh {
		if err := s.realm.accounts[id].persist(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newAccountServer builds one account: loaded from its state file, or new
// with IAM's AWS managed policies (loaded says which).
func newAccountServer(opts Options) (_ *Server, loaded bool, _ error) {
	s := &Server{
		opts:   opts,
		quotas: opts.Quotas.withDefaults(),
		now:    opts.Now,
		log:    opts.Logger,
		faults: newFaultInjector(opts.Faults),
		id:     opts.AccountID,
	}
	if s.id == "" {
		s.id = AccountID
	}
	if !iamname.AccountID(s.id) {
		return nil, false, fmt.Errorf("sandbox: account id %s is not 12 digits", short(s.id))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.saveEvery.Store(int64(bookkeepingSaveInterval))
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	hosts, err := newHostRule(opts.AllowedHosts)
	if err != nil {
		return nil, false, err
	}
	s.hosts = hosts
	loaded, err = s.load()
	if err != nil {
		return nil, false, err
	}
	if !loaded {
		s.acct = newAccount()
		s.installAWSManagedPolicies()
	}
	return s, loaded, nil
}

// action is one IAM (or STS) operation the sandbox implements.
type action struct {
	// mutates says the handler changes the account: it runs under the write
	// lock and a success is persisted.
	mutates bool
	// derived says the handler changes only what IAM derives from the
	// account — a credential report, a service-last-accessed job — which
	// IAM rates a read: it runs under the write lock, but is not a change
	// of the account. What it made is kept as IAM keeps it: it reaches
	// the state file with the next write of it, or at Close (persist.go).
	// A read-only caller's requests thus leave the account's entities as
	// they were, but not, after Close, the file's bytes.
	derived bool
	run     func(s *Server, c *call) (any, *Error)
}

// call is what a handler sees of one request.
type call struct {
	params
	now time.Time
	// accessKeyID is the key id that signed the request ("" if unsigned).
	accessKeyID string
	// session is the role session whose key signed the request, or nil.
	session *session
}

// actions is the table of every IAM action the sandbox serves; each family
// file contributes one map, and buildActions refuses a name twice.
var actions = buildActions(
	userActions, groupActions, roleActions, policyActions, principalActions,
	instanceProfileActions, credentialActions, mfaActions, sshCertActions,
	accountActions, accessAdvisorActions, simulationActions,
	userTagActions, roleTagActions, instanceProfileTagActions, mfaTagActions, policyTagActions,
)

func buildActions(tables ...map[string]action) map[string]action {
	all := map[string]action{}
	for _, t := range tables {
		for name, a := range t {
			if _, dup := all[name]; dup {
				panic("sandbox: action " + name + " registered twice")
			}
			if a.run == nil {
				panic("sandbox: action " + name + " has no handler")
			}
			all[name] = a
		}
	}
	return all
}

// Actions lists the IAM actions the sandbox implements, for documentation
// and coverage tests.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for name := range actions {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ServeHTTP answers one Query-protocol request that came over the network,
// after the checks of the HTTP front (front.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, true, nil) }

// serve answers one request; network is false for the in-process
// transport, which skips only the Host check. as is the account
// MemberTransport serves in (nil: the one the signing key routes to).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, network bool, as *Server) {
	// Requests reach the management account's server, which routes them.
	if s.realm != nil && s.realm.mgmt != s {
		s = s.realm.mgmt
	}
	requestID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	namespace := iamNamespace
	// An Organizations request (JSON, named by X-Amz-Target) is answered
	// in JSON, refusals of the front included, so that its SDK reads them.
	jsonReq := len(r.Header.Values("X-Amz-Target")) > 0
	fail := func(e *Error) {
		s.log.Debug("sandbox error", "code", e.Code, "message", e.Message)
		if jsonReq {
			writeOrgErr(w, fromAPIErr(e))
			return
		}
		writeXML(w, e.Status, encodeError(namespace, requestID, e))
	}
	// Whatever a request does, it must not panic out of here: in process,
	// the caller is the host itself, and over HTTP a panic would cost the
	// client its connection without an answer.
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("sandbox request panic", "panic", p)
			fail(apiErr("ServiceFailure", 500, "The sandbox failed internally: %s", short(fmt.Sprint(p))))
		}
	}()

	if e := s.checkFront(r, network); e != nil {
		s.log.Warn("sandbox refused a request", "code", e.Code, "method", short(r.Method), "host", short(r.Host), "remote", r.RemoteAddr)
		if e.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", "GET, POST")
		}
		fail(e)
		return
	}
	if r.Method == http.MethodPost && jsonReq {
		s.serveJSON(w, r, as)
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		fail(err)
		return
	}
	name := form.Get("Action")
	version := form.Get("Version")
	keyID, signedFor, region := signer(r)

	if name == "" {
		fail(apiErr("MissingAction", 400, "Could not find operation for version %s. Specify Action=NAME in the request.", short(version)))
		return
	}
	var act action
	var ok bool
	// service is the action's service namespace, as service last accessed
	// records it (the signature's service should say the same).
	service := "iam"
	switch {
	case name == "GetCallerIdentity":
		namespace, service = stsNamespace, "sts"
		act, ok = stsGetCallerIdentity, version == stsVersion
	case name == "AssumeRole":
		namespace, service = stsNamespace, "sts"
		// It makes a session, so it is taken as a POST only (derived);
		// its handler is not run as one account's action: assumeRole
		// reads the caller's account and the role's.
		act, ok = action{derived: true, run: callerOf.run}, version == stsVersion
	default:
		act, ok = actions[name]
		ok = ok && version == iamVersion
	}
	if !ok {
		fail(apiErr("InvalidAction", 400, "Could not find operation %s for version %s", short(name), short(version)))
		return
	}
	if r.Method != http.MethodPost && (act.mutates || act.derived) {
		w.Header().Set("Allow", http.MethodPost)
		fail(errMethod("%s changes the account, so it is taken as a POST with a form body only, not as a %s.", name, r.Method))
		return
	}
	if e := s.faults.before(r.Context()); e != nil {
		fail(e)
		return
	}

	now := s.now().UTC()
	at, sess, routeErr := s.route(r, keyID, now, as)
	if routeErr != nil {
		fail(routeErr)
		return
	}
	if as != nil {
		keyID = "" // MemberTransport serves as the member's root
	}
	c := &call{params: params{form: form}, now: now, accessKeyID: keyID, session: sess}
	// A GET is what an <img> or a link can make a browser send, with a
	// key id in its query (X-Amz-Credential); no SDK sends one. It may
	// read, but it records no key's use, so that a web page cannot plant
	// a "last used" a key rotation would trust.
	record := r.Method == http.MethodPost
	u := use{signedFor: signedFor, region: region, service: service, action: name, record: record}
	var result any
	var apiError *Error
	if name == "AssumeRole" {
		result, apiError = s.assumeRole(at, c, u)
	} else {
		result, apiError = at.run(act, c, u)
	}
	s.log.Debug("sandbox", "action", name, "key", keyID, "ok", apiError == nil)
	if apiError != nil {
		fail(apiError)
		return
	}
	body, encErr := encodeResult(name, namespace, requestID, result)
	if encErr != nil {
		fail(apiErr("ServiceFailure", 500, "The sandbox could not encode the response: %v", encErr))
		return
	}
	writeXML(w, http.StatusOK, body)
}

// use is what a request tells of its signer's activity: the service its
// signature names (what GetAccessKeyLastUsed reports), the region, and
// the service namespace and action it called (what service last accessed
// reports).
type use struct {
	signedFor, region, service, action string
	// record is false for a request whose use is not to be recorded.
	record bool
}

// run executes an action under the account lock: it refuses a key IAM
// would refuse (keyauth.go), records the signing key's use, persists a
// successful mutation, and saves what a read recorded when it is time to
// (persist.go).
func (s *Server) run(act action, c *call, u use) (result any, apiError *Error) {
	if act.mutates || act.derived {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	defer func() {
		// A handler bug must never take the server down: it becomes a 500,
		// as a real service failure would.
		if p := recover(); p != nil {
			s.log.Error("sandbox handler panic", "panic", p)
			result, apiError = nil, apiErr("ServiceFailure", 500, "The sandbox failed internally: %s", short(fmt.Sprint(p)))
		}
	}()
	held, refused := s.authenticate(c.accessKeyID)
	if refused != nil {
		return nil, refused
	}
	if u.record && held {
		s.recordKeyUse(c.accessKeyID, c.now, u.signedFor, u.region)
		s.recordServiceUse(c.accessKeyID, c.now, u.service, u.action, u.region)
	}
	if !act.mutates {
		// Deferred so that it runs after the handler, and even after a
		// panic of it: what was recorded before is saved all the same.
		defer s.saveBookkeeping()
	}
	result, apiError = act.run(s, c)
	if act.mutates {
		// Even a refused mutation may have touched state before refusing;
		// dropping cached lists is cheap and always right.
		s.changed()
	}
	if apiError == nil && act.mutates {
		if err := s.persist(); err != nil {
			return nil, apiErr("ServiceFailure", 500, "The sandbox could not save its state file: %v", err)
		}
	}
	return result, apiError
}

// credentialKey finds the first credential a request names, and its key
// id: IAM's [\w]+, so that every id a key of the account may have is read
// as itself, never as no key at all (which would let a refused key's
// request through as unsigned). credentialScope then reads the scope of
// that same credential, when it has SigV4's shape.
var (
	credentialKey   = regexp.MustCompile(`Credential=(\w+)/`)
	credentialScope = regexp.MustCompile(`^Credential=(\w+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request`)
)

// signer reads the access key id, region and service from a SigV4
// Authorization header (or presigned query). The signature is not checked:
// the sandbox holds no secrets worth protecting, and checking would force
// every client to know the sandbox's secrets. The first credential named
// is the one: it is checked (keyauth.go) and recorded alike, whatever else
// the header says. A credential whose scope has another shape (SigV4a's
// has no region) still names its key, with no service or region.
func signer(r *http.Request) (keyID, service, region string) {
	src := r.Header.Get("Authorization")
	if src == "" {
		if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
			src = "Credential=" + c
		}
	}
	at := credentialKey.FindStringSubmatchIndex(src)
	if at == nil {
		return "", "", ""
	}
	if m := credentialScope.FindStringSubmatch(src[at[0]:]); m != nil {
		return m[1], m[3], m[2]
	}
	return src[at[2]:at[3]], "", ""
}

// recordKeyUse remembers when and where one of the account's keys last
// signed a request, as IAM's GetAccessKeyLastUsed reports it. Called with
// s.mu held, read or write; the use reaches the state file as persist.go
// says.
func (s *Server) recordKeyUse(keyID string, now time.Time, service, region string) {
	if keyID == "" {
		return
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock() // deferred: a panic here must not leave every later request waiting
	s.acct.KeyUse[keyID] = &KeyUse{When: now, Service: service, Region: region}
	s.useUnsaved.Store(true)
}

// keyUse returns the recorded last use of a key id, or nil.
func (s *Server) keyUse(keyID string) *KeyUse {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	return s.acct.KeyUse[keyID]
}

// Handler serves the sandbox; it is s itself, named for readability at call
// sites that mount it.
func (s *Server) Handler() http.Handler { return s }

// do runs one action in-process, bypassing HTTP, for the seed. It goes
// through the same handlers and rules as a request.
func (s *Server) do(name string, form url.Values) (any, error) {
	act, ok := actions[name]
	if !ok {
		return nil, fmt.Errorf("sandbox: unknown action %s", name)
	}
	c := &call{params: params{form: form}, now: s.now().UTC()}
	result, apiError := act.run(s, c)
	s.changed()
	if apiError != nil {
		return nil, fmt.Errorf("sandbox: %s: %w", name, apiError)
	}
	return result, nil
}
