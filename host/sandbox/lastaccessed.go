package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/policy/iamdata"
)

// Service last accessed (IAM's access advisor): which services a user,
// group, role or managed policy is allowed, and when each was last used.
//
// Use is recorded as IAM records it, by entity: every signed request is
// noted against the user whose access key signed it (the service it went
// to, the region of its signature, and the action), keyed by the user's
// unique id so that history survives a rename and dies with the entity.
// Roles never sign requests to the sandbox (it has no AssumeRole), so their
// history comes from seeds and tests (RecordServiceUse).
//
// A job completes at once (there is no background work to wait for), but
// its report is computed when it is first read, from the account as it is
// then (and kept while the account does not change, so that its pages
// agree): a job whose entity has been deleted meanwhile reads as FAILED,
// the way IAM reports a job it could not finish.

var accessAdvisorActions = map[string]action{
	"GenerateServiceLastAccessedDetails": {derived: true, run: generateServiceLastAccessedDetails},
	"GetServiceLastAccessedDetails":      {run: getServiceLastAccessedDetails},
}

const (
	// trackingPeriod is how far back IAM reports service use.
	trackingPeriod = 400 * 24 * time.Hour
	// maxAccessJobs bounds the jobs kept (the oldest go first), so that a
	// long-lived state file does not grow with every report ever asked for.
	maxAccessJobs = 1000
)

// trackedServices are the services IAM tracks at action level (ACTION_LEVEL
// reports): their management actions report activity to IAM.
var trackedServices = map[string]bool{"s3": true, "ec2": true, "iam": true, "lambda": true}

// ServiceUse is an entity's last use of one service; Actions holds its
// last use of each action, for the services IAM tracks at action level.
type ServiceUse struct {
	When    time.Time
	Region  string
	Actions map[string]*ActionUse `json:",omitempty"`
}

// ActionUse is an entity's last use of one action.
type ActionUse struct {
	When   time.Time
	Region string
}

// AccessJob is a service-last-accessed job: what it reports on, and who
// started it (IAM lets only the same user or role session read a job).
type AccessJob struct {
	ARN, Granularity string
	Caller           string
	Created          time.Time
}

// noteServiceUse records a use of namespace (and of action, for a tracked
// service) by the entity with the given unique id, keeping the latest: a
// seed may plant history older than what a request already recorded.
// Callers hold keyMu, or the write lock before the server is shared.
func (a *account) noteServiceUse(entityID, namespace, actionName, region string, when time.Time) {
	namespace = strings.ToLower(namespace)
	byService := a.ServiceUse[entityID]
	if byService == nil {
		byService = map[string]*ServiceUse{}
		a.ServiceUse[entityID] = byService
	}
	u := byService[namespace]
	if u == nil {
		u = &ServiceUse{}
		byService[namespace] = u
	}
	if when.After(u.When) {
		u.When, u.Region = when, region
	}
	if actionName == "" || !trackedServices[namespace] {
		return
	}
	if u.Actions == nil {
		u.Actions = map[string]*ActionUse{}
	}
	if au := u.Actions[actionName]; au == nil || when.After(au.When) {
		u.Actions[actionName] = &ActionUse{When: when, Region: region}
	}
}

// recordServiceUse notes a request against the user whose key signed it.
// Requests of the root (or of a key of no user) are not noted: service last
// accessed reports on users, groups, roles and policies, never the root.
// Called with s.mu held, read or write, as recordKeyUse is.
func (s *Server) recordServiceUse(keyID string, now time.Time, namespace, actionName, region string) {
	u := s.keyOwner(keyID)
	if u == nil {
		return
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock() // released even if recording panics: requests recover, the lock must too
	s.acct.noteServiceUse(u.ID, namespace, actionName, region, now)
	s.useUnsaved.Store(true)
}

// keyOwners indexes access key ids by owner: every request asks who signed
// it, and scanning every user's keys each time would make a request cost
// grow with the account. The index is rebuilt only after a key was created
// (added counts creations); a deleted key or user is caught when a hit is
// checked against the account, so deletions need no rebuild.
type keyOwners struct {
	mu     sync.Mutex
	added  atomic.Uint64
	built  uint64
	owners map[string]*User
}

// keyAdded records that a user got a new access key. Called by
// CreateAccessKey, under the write lock.
func (s *Server) keyAdded() { s.owners.added.Add(1) }

// keyOwner returns the user owning an access key id, or nil. Called with
// s.mu held, read or write.
func (s *Server) keyOwner(keyID string) *User {
	if keyID == "" {
		return nil
	}
	k := &s.owners
	k.mu.Lock()
	defer k.mu.Unlock()
	if added := k.added.Load(); k.owners == nil || k.built != added {
		k.built, k.owners = added, map[string]*User{}
		for _, u := range s.acct.Users {
			for _, ak := range u.AccessKeys {
				k.owners[ak.ID] = u
			}
		}
	}
	u := k.owners[keyID]
	if u == nil || s.acct.Users[key(u.Name)] != u {
		return nil
	}
	for _, ak := range u.AccessKeys {
		if ak.ID == keyID {
			return u
		}
	}
	return nil
}

// RecordServiceUse records that the user or role principalARN used action
// ("s3:GetObject") from region at when, as if it had signed such a
// request: service-last-accessed history for seeds and tests.
func (s *Server) RecordServiceUse(principalARN, action, region string, when time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.recordHistory(principalARN, action, region, when); err != nil {
		return err
	}
	return s.persist()
}

// recordHistory is RecordServiceUse under the lock the caller holds (or
// before the server is shared, for the seed).
func (s *Server) recordHistory(principalARN, action, region string, when time.Time) error {
	namespace, name, ok := strings.Cut(action, ":")
	if !ok || namespace == "" || name == "" {
		return fmt.Errorf("sandbox: %q is not an action such as s3:GetObject", action)
	}
	kind, entity, ok := parsePrincipalARN(principalARN, s.id)
	if !ok || kind == "group" {
		return fmt.Errorf("sandbox: %s is not the ARN of a user or role of account %s", principalARN, s.id)
	}
	var id string
	if kind == "user" {
		u, err := s.acct.user(entity)
		if err != nil {
			return err
		}
		id = u.ID
	} else {
		r, err := s.acct.role(entity)
		if err != nil {
			return err
		}
		id = r.ID
		if r.LastUsed == nil || when.After(*r.LastUsed) {
			t := when.UTC()
			r.LastUsed, r.LastUsedRegion = &t, region
		}
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	s.acct.noteServiceUse(id, namespace, name, region, when.UTC())
	return nil
}

// ---- what a report covers ----

// accessEntity is a user or role whose use counts towards a report.
type accessEntity struct{ id, arn string }

// accessScope is what a report covers: the permissions policies whose
// allowed services it lists, and the entities whose use it reports.
type accessScope struct {
	sources  []policy.Source
	entities []accessEntity
}

func (s *Server) errAccessARN(target string) *Error {
	return errInvalidInput("Invalid ARN %s: service last accessed reports on the users, groups, roles and managed policies of account %s.", target, s.id)
}

// accessScope resolves a report's ARN. As IAM documents, only permissions
// policies count — not boundaries, resource policies or SCPs — and the
// entities are the user or role itself, a group's members, or every user
// (directly or through a group) and role a policy is attached to.
func (s *Server) accessScope(target string) (accessScope, *Error) {
	a := s.acct
	rest, ok := strings.CutPrefix(target, "arn:aws:iam::")
	if !ok {
		return accessScope{}, s.errAccessARN(target)
	}
	account, resource, _ := strings.Cut(rest, ":")
	kind, _, _ := strings.Cut(resource, "/")
	var sc accessScope
	switch {
	case kind == "policy" && (account == s.id || account == "aws"):
		p, err := a.policy(target)
		if err != nil {
			return accessScope{}, err
		}
		sc.sources = s.managedSources([]string{p.ARN})
		seen := map[string]bool{}
		addUser := func(u *User) {
			if !seen[u.ID] {
				seen[u.ID] = true
				sc.entities = append(sc.entities, accessEntity{u.ID, u.ARN(s.id)})
			}
		}
		for _, u := range sorted(s, a.Users) {
			if containsARN(u.Attached, p.ARN) {
				addUser(u)
			}
		}
		for _, g := range sorted(s, a.Groups) {
			if containsARN(g.Attached, p.ARN) {
				for _, m := range g.Members {
					if u := a.Users[key(m)]; u != nil {
						addUser(u)
					}
				}
			}
		}
		for _, r := range sorted(s, a.Roles) {
			if containsARN(r.Attached, p.ARN) {
				sc.entities = append(sc.entities, accessEntity{r.ID, r.ARN(s.id)})
			}
		}
	case account == s.id && (kind == "user" || kind == "group" || kind == "role"):
		identity, _, _, err := s.principalPolicies(target)
		if err != nil {
			return accessScope{}, err
		}
		sc.sources = identity
		_, name, _ := parsePrincipalARN(target, s.id)
		switch kind {
		case "user":
			u := a.Users[key(name)]
			sc.entities = []accessEntity{{u.ID, u.ARN(s.id)}}
		case "role":
			r := a.Roles[key(name)]
			sc.entities = []accessEntity{{r.ID, r.ARN(s.id)}}
		case "group":
			for _, m := range a.Groups[key(name)].Members {
				if u := a.Users[key(m)]; u != nil {
					sc.entities = append(sc.entities, accessEntity{u.ID, u.ARN(s.id)})
				}
			}
		}
	default:
		return accessScope{}, s.errAccessARN(target)
	}
	return sc, nil
}

func containsARN(list []string, arn string) bool {
	for _, a := range list {
		if a == arn {
			return true
		}
	}
	return false
}

// allowedServices lists the services (sorted by prefix) of which the
// policies allow at least one action: actions named by an Allow statement
// (Action patterns expanded, NotAction complemented, over AWS's action reference),
// less those an unconditional Deny on every resource takes away. Resources
// and conditions of an Allow are not weighed — a service allowed on one
// bucket is a service the entity may use — as IAM lists "services the
// entity has permissions for". Services the catalogue does not know are
// left out: the report could not name them.
func allowedServices(sources []policy.Source) []*iamdata.ServiceInfo {
	allowed := map[*iamdata.ActionInfo]bool{}
	denied := map[*iamdata.ActionInfo]bool{}
	for _, src := range sources {
		for _, st := range src.Doc.Statements {
			if st.Principal != nil || st.NotPrincipal != nil {
				continue
			}
			switch st.Effect {
			case "Allow":
				for a := range statementActions(st) {
					allowed[a] = true
				}
			case "Deny":
				if len(st.Condition) == 0 && st.NotResource == nil && containsARN(st.Resource, "*") {
					for a := range statementActions(st) {
						denied[a] = true
					}
				}
			}
		}
	}
	byPrefix := map[string]bool{}
	for a := range allowed {
		if !denied[a] {
			byPrefix[a.Service] = true
		}
	}
	var out []*iamdata.ServiceInfo
	for prefix := range byPrefix {
		if svc, ok := iamdata.Service(prefix); ok {
			out = append(out, svc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix < out[j].Prefix })
	return out
}

// statementActions expands a statement's Action or NotAction.
func statementActions(st policy.Statement) map[*iamdata.ActionInfo]bool {
	named := map[*iamdata.ActionInfo]bool{}
	patterns := st.Action
	if st.Action == nil {
		patterns = st.NotAction
	}
	for _, p := range patterns {
		for _, a := range iamdata.MatchActions(p) {
			named[a] = true
		}
	}
	if st.Action != nil {
		return named
	}
	if len(st.NotAction) == 0 {
		// An empty NotAction is refused when written; it must not read as
		// "every action" here either.
		return nil
	}
	rest := map[*iamdata.ActionInfo]bool{}
	for _, svc := range iamdata.Services() {
		for _, a := range svc.Actions {
			if !named[a] {
				rest[a] = true
			}
		}
	}
	return rest
}

// serviceNames overrides the catalogue's display name where services share
// an action prefix and the catalogue kept the other one's name (the
// cloudformation prefix is CloudFormation's, though Cloud Control API's
// actions use it too): a report names the service people know by the prefix.
var serviceNames = map[string]string{
	"cloudformation":       "AWS CloudFormation",
	"apigateway":           "Amazon API Gateway",
	"elasticloadbalancing": "Elastic Load Balancing",
	"ses":                  "Amazon SES",
	"lex":                  "Amazon Lex",
	"kinesisanalytics":     "Amazon Kinesis Analytics",
}

func serviceName(svc *iamdata.ServiceInfo) string {
	if n, ok := serviceNames[svc.Prefix]; ok {
		return n
	}
	return svc.Name
}

// ---- the actions ----

func generateServiceLastAccessedDetails(s *Server, c *call) (any, *Error) {
	target, err := c.required("Arn")
	if err != nil {
		return nil, err
	}
	if n := len(target); n < 20 || n > 2048 {
		return nil, errValidation("1 validation error detected: Value '%s' at 'arn' failed to satisfy constraint: Member must have length between 20 and 2048", target)
	}
	granularity, err := enumParam(c.params, "Granularity", "SERVICE_LEVEL", "ACTION_LEVEL")
	if err != nil {
		return nil, err
	}
	if granularity == "" {
		granularity = "SERVICE_LEVEL"
	}
	if _, err := s.accessScope(target); err != nil {
		return nil, err
	}
	id := newRequestID() // a UUID, 36 characters, as IAM's job ids are
	s.acct.AccessJobs[id] = &AccessJob{ARN: target, Granularity: granularity, Caller: s.callerARN(c), Created: c.now}
	pruneAccessJobs(s.acct.AccessJobs)
	s.derivedUnsaved.Store(true) // kept as IAM keeps a job; saved as persist.go says
	return struct {
		JobId string `xml:"JobId"`
	}{id}, nil
}

// pruneAccessJobs drops the oldest jobs beyond maxAccessJobs.
func pruneAccessJobs(jobs map[string]*AccessJob) {
	if len(jobs) <= maxAccessJobs {
		return
	}
	ids := make([]string, 0, len(jobs))
	for id := range jobs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := jobs[ids[i]], jobs[ids[j]]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids[:len(ids)-maxAccessJobs] {
		delete(jobs, id)
	}
}

type xmlTrackedAction struct {
	ActionName         string   `xml:"ActionName"`
	LastAccessedEntity string   `xml:"LastAccessedEntity,omitempty"`
	LastAccessedRegion string   `xml:"LastAccessedRegion,omitempty"`
	LastAccessedTime   *isoTime `xml:"LastAccessedTime,omitempty"`
}

type xmlServiceLastAccessed struct {
	ServiceName                string                    `xml:"ServiceName"`
	LastAuthenticated          *isoTime                  `xml:"LastAuthenticated,omitempty"`
	ServiceNamespace           string                    `xml:"ServiceNamespace"`
	LastAuthenticatedEntity    string                    `xml:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    string                    `xml:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities *int                      `xml:"TotalAuthenticatedEntities,omitempty"`
	TrackedActionsLastAccessed members[xmlTrackedAction] `xml:"TrackedActionsLastAccessed,omitempty"`
}

type xmlErrorDetails struct {
	Message string `xml:"Message"`
	Code    string `xml:"Code"`
}

type xmlServiceLastAccessedResult struct {
	JobStatus            string                          `xml:"JobStatus"`
	JobType              string                          `xml:"JobType"`
	JobCreationDate      isoTime                         `xml:"JobCreationDate"`
	ServicesLastAccessed members[xmlServiceLastAccessed] `xml:"ServicesLastAccessed"`
	JobCompletionDate    isoTime                         `xml:"JobCompletionDate"`
	IsTruncated          bool                            `xml:"IsTruncated"`
	Marker               string                          `xml:"Marker,omitempty"`
	Error                *xmlErrorDetails                `xml:"Error,omitempty"`
}

func getServiceLastAccessedDetails(s *Server, c *call) (any, *Error) {
	id, err := c.required("JobId")
	if err != nil {
		return nil, err
	}
	if len(id) != 36 {
		return nil, errValidation("1 validation error detected: Value '%s' at 'jobId' failed to satisfy constraint: Member must have length between 36 and 36", id)
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	job := s.acct.AccessJobs[id]
	// IAM keeps a job to the user or role session that started it; to
	// anyone else it does not exist.
	if job == nil || job.Caller != s.callerARN(c) {
		return nil, errNoSuchEntity("The job with id %s cannot be found.", id)
	}
	res := xmlServiceLastAccessedResult{
		JobStatus: "COMPLETED", JobType: job.Granularity,
		JobCreationDate: isoTime(job.Created), JobCompletionDate: isoTime(job.Created),
		ServicesLastAccessed: members[xmlServiceLastAccessed]{},
	}
	scope, scopeErr := s.accessScope(job.ARN)
	if scopeErr != nil {
		res.JobStatus = "FAILED"
		res.Error = &xmlErrorDetails{Code: scopeErr.Code, Message: scopeErr.Message}
		return res, nil
	}
	all := s.reportRows(id, func() []xmlServiceLastAccessed {
		return s.lastAccessed(scope, job.Granularity == "ACTION_LEVEL", c.now)
	})
	items, truncated, marker, err := paginate(all, func(x xmlServiceLastAccessed) string { return x.ServiceNamespace }, pg)
	if err != nil {
		return nil, err
	}
	res.ServicesLastAccessed, res.IsTruncated, res.Marker = items, truncated, marker
	return res, nil
}

// accessReports keeps each job's rows while the account is unchanged, so
// that paging through a report of hundreds of services expands the
// policies once, not once per page. It holds the reports of at most
// maxCachedReports jobs: a review that reads one report per principal of a
// large account, on a read-only server that never changes the account,
// must not keep them all.
type accessReports struct {
	mu    sync.Mutex
	gen   uint64
	byJob map[string][]xmlServiceLastAccessed
}

// reportRows returns a job's rows from the cache, or builds and keeps them.
func (s *Server) reportRows(jobID string, build func() []xmlServiceLastAccessed) []xmlServiceLastAccessed {
	r := &s.reports
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen := s.gen.Load(); r.byJob == nil || r.gen != gen {
		r.gen, r.byJob = gen, map[string][]xmlServiceLastAccessed{}
	}
	rows, ok := r.byJob[jobID]
	if !ok {
		if len(r.byJob) >= maxCachedReports {
			// Readers page through a report in a burst; starting afresh
			// costs the reports still being paged one more build.
			r.byJob = map[string][]xmlServiceLastAccessed{}
		}
		rows = build()
		r.byJob[jobID] = rows
	}
	return rows
}

// maxCachedReports bounds accessReports.
const maxCachedReports = 128

// lastAccessed builds the report's rows, sorted by namespace: every service
// the scope's policies allow, with the latest use by any of its entities
// within the tracking period, how many of them used it, and (actionLevel)
// the latest use of each tracked action.
func (s *Server) lastAccessed(sc accessScope, actionLevel bool, now time.Time) []xmlServiceLastAccessed {
	// The expansion is the slow part; it runs before keyMu is taken, which
	// every request needs to record its key's use.
	services := allowedServices(sc.sources)
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	var out []xmlServiceLastAccessed
	for _, svc := range services {
		row := xmlServiceLastAccessed{ServiceName: serviceName(svc), ServiceNamespace: svc.Prefix}
		var last time.Time
		total := 0
		actions := map[string]xmlTrackedAction{}
		for _, e := range sc.entities {
			u := s.acct.ServiceUse[e.id][svc.Prefix]
			if u == nil || now.Sub(u.When) > trackingPeriod {
				continue
			}
			total++
			if u.When.After(last) {
				last = u.When
				row.LastAuthenticated, row.LastAuthenticatedEntity, row.LastAuthenticatedRegion = optTime(&u.When), e.arn, u.Region
			}
			if !actionLevel {
				continue
			}
			for name, au := range u.Actions {
				if now.Sub(au.When) > trackingPeriod {
					continue
				}
				if cur, ok := actions[name]; !ok || au.When.After(time.Time(*cur.LastAccessedTime)) {
					actions[name] = xmlTrackedAction{ActionName: name, LastAccessedEntity: e.arn, LastAccessedRegion: au.Region, LastAccessedTime: optTime(&au.When)}
				}
			}
		}
		if total > 0 {
			n := total
			row.TotalAuthenticatedEntities = &n
		}
		for _, a := range actions {
			row.TrackedActionsLastAccessed = append(row.TrackedActionsLastAccessed, a)
		}
		sort.Slice(row.TrackedActionsLastAccessed, func(i, j int) bool {
			return row.TrackedActionsLastAccessed[i].ActionName < row.TrackedActionsLastAccessed[j].ActionName
		})
		out = append(out, row)
	}
	return out
}
