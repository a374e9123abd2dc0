package review

import (
	"fmt"
	"sort"
	"strings"
)

// Input is the access_review tool's arguments; its tags are the JSON
// Schema the assistant sees.
type Input struct {
	Scope              string   `json:"scope,omitempty" desc:"what to review: all (default); or a comma-separated list of account (root user, password policy, support role), users, groups, roles, policies; or an IAM path prefix such as /eng/ (users, groups, roles and customer managed policies under it)"`
	MinSeverity        string   `json:"min_severity,omitempty" enum:"critical,high,medium,low,info" desc:"report findings of this severity and above (default low)"`
	Include            []string `json:"include,omitempty" desc:"optional deep checks, which cost IAM calls per principal: service_last_accessed (services each user and role may use but has not used for 90 days; at most 100 principals, most exposed first) and key_last_used (fresh last use and the key ids of flagged access keys, so that the fixes name them)"`
	MaxFindingsPerRule int      `json:"max_findings_per_rule,omitempty" minimum:"1" maximum:"500" desc:"findings listed per rule, most severe first (default 25); the rest are counted, and their principals named, in omitted"`
	Accounts           []string `json:"accounts,omitempty" desc:"review several accounts of the organisation at once: their ids or aliases as host_info (get_account_info) lists them, or [\"*\"] for every account the server may reach. Each is reviewed with its service control policies applied, and roles that one account's principals can assume in another are followed across accounts. Absent: the server's own account only"`
}

// Defaults of Input.
const (
	defaultMaxFindingsPerRule = 25
	maxMaxFindingsPerRule     = 500
	// maxDeepPrincipals bounds service_last_accessed: two or more IAM calls
	// per principal is the price, so the review spends it on the most
	// exposed principals first and says what it skipped.
	maxDeepPrincipals = 100
)

// scopeKinds are the scope words and the kinds they select.
var scopeKinds = map[string]Kind{
	"account": KindAccount, "users": KindUser, "groups": KindGroup, "roles": KindRole, "policies": KindPolicy,
}

// config is Input validated and normalised.
type config struct {
	scopeText   string
	kinds       map[Kind]bool
	pathPrefix  string // "" = every path
	minSeverity Severity
	include     map[string]bool
	includeList []string
	maxPerRule  int
}

// parseInput validates the arguments and says, for each mistake, what is
// accepted; the assistant reads these messages and retries.
func parseInput(in Input) (*config, error) {
	c := &config{kinds: map[Kind]bool{}, include: map[string]bool{}, minSeverity: Low, maxPerRule: defaultMaxFindingsPerRule}
	scope := strings.TrimSpace(in.Scope)
	switch {
	case scope == "" || scope == "all":
		c.scopeText = "all"
		for _, k := range scopeKinds {
			c.kinds[k] = true
		}
	case strings.HasPrefix(scope, "/"):
		if !strings.HasSuffix(scope, "/") || strings.Contains(scope, "//") || strings.ContainsAny(scope, " ,*") {
			return nil, fmt.Errorf("scope %q: a path prefix starts and ends with / and has no empty segment, spaces, commas or wildcards, e.g. /eng/ or /service/ci/", scope)
		}
		c.scopeText, c.pathPrefix = scope, scope
		for _, k := range []Kind{KindUser, KindGroup, KindRole, KindPolicy} {
			c.kinds[k] = true
		}
	default:
		var words []string
		for _, w := range strings.Split(scope, ",") {
			w = strings.ToLower(strings.TrimSpace(w))
			if w == "all" {
				return nil, fmt.Errorf("scope %q: all cannot be combined with other scopes", scope)
			}
			k, ok := scopeKinds[w]
			if !ok {
				return nil, fmt.Errorf("scope %q: %q is not a scope; use all, a comma-separated list of account, users, groups, roles, policies, or a path prefix such as /eng/", scope, w)
			}
			if !c.kinds[k] {
				c.kinds[k] = true
				words = append(words, w)
			}
		}
		sort.Strings(words)
		c.scopeText = strings.Join(words, ",")
	}
	if in.MinSeverity != "" {
		s, ok := ParseSeverity(strings.ToLower(strings.TrimSpace(in.MinSeverity)))
		if !ok {
			return nil, fmt.Errorf("min_severity %q: use one of critical, high, medium, low, info", in.MinSeverity)
		}
		c.minSeverity = s
	}
	for _, inc := range in.Include {
		inc = strings.ToLower(strings.TrimSpace(inc))
		switch inc {
		case IncludeServiceLastAccessed, IncludeKeyLastUsed:
			if !c.include[inc] {
				c.include[inc] = true
				c.includeList = append(c.includeList, inc)
			}
		default:
			return nil, fmt.Errorf("include %q: the deep checks are %s and %s", inc, IncludeServiceLastAccessed, IncludeKeyLastUsed)
		}
	}
	sort.Strings(c.includeList)
	switch {
	case in.MaxFindingsPerRule < 0 || in.MaxFindingsPerRule > maxMaxFindingsPerRule:
		return nil, fmt.Errorf("max_findings_per_rule %d: use 1 to %d (default %d)", in.MaxFindingsPerRule, maxMaxFindingsPerRule, defaultMaxFindingsPerRule)
	case in.MaxFindingsPerRule > 0:
		c.maxPerRule = in.MaxFindingsPerRule
	}
	return c, nil
}

// inPath reports whether an entity's path is in the scope's path prefix.
func (c *config) inPath(path string) bool {
	return c.pathPrefix == "" || strings.HasPrefix(path, c.pathPrefix)
}

// wants reports whether a rule's kind of subject is in scope.
func (c *config) wants(k Kind) bool { return c.kinds[k] }
