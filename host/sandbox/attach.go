package sandbox

import (
	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
)

// Shared mechanics for what users, groups and roles all have: attached
// managed policies, inline policies and permissions boundaries. Each keeps
// the policy's AttachmentCount / BoundaryCount right, so no caller has to.

// attachPolicy attaches a managed policy to a principal's list: a no-op when
// already attached (as IAM), LimitExceeded past 10. kind ("User", "Group",
// "Role") names the quota in the message, as IAM does.
func (s *Server) attachPolicy(list *[]string, policyARN, kind string) *Error {
	p, err := s.acct.policy(policyARN)
	if err != nil {
		return err
	}
	for _, a := range *list {
		if a == policyARN {
			return nil
		}
	}
	if len(*list) >= maxManagedPerIdentity {
		return errLimitExceeded("Cannot exceed quota for PoliciesPer%s: %d", kind, maxManagedPerIdentity)
	}
	*list = append(*list, policyARN)
	p.AttachmentCount++
	return nil
}

// detachPolicy removes a managed policy from a principal's list.
func (s *Server) detachPolicy(list *[]string, policyARN string) *Error {
	for i, a := range *list {
		if a == policyARN {
			*list = append((*list)[:i:i], (*list)[i+1:]...)
			if p := s.acct.Policies[policyARN]; p != nil {
				p.AttachmentCount--
			}
			return nil
		}
	}
	if _, err := s.acct.policy(policyARN); err != nil {
		return err
	}
	return errNoSuchEntity("Policy %s was not found.", policyARN)
}

// setBoundary sets a principal's permissions boundary to a managed policy.
func (s *Server) setBoundary(cur *string, policyARN string) *Error {
	if err := validPolicyARN(policyARN); err != nil {
		return err
	}
	p, err := s.acct.policy(policyARN)
	if err != nil {
		return errInvalidInput("Scope ARN: %s does not exist or is not attachable.", policyARN)
	}
	if *cur == policyARN {
		return nil
	}
	s.clearBoundary(cur)
	*cur = policyARN
	p.BoundaryCount++
	return nil
}

// clearBoundary removes a principal's permissions boundary, if any.
func (s *Server) clearBoundary(cur *string) {
	if *cur == "" {
		return
	}
	if p := s.acct.Policies[*cur]; p != nil {
		p.BoundaryCount--
	}
	*cur = ""
}

// attachedXML is IAM's AttachedPolicy structure.
type attachedXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// listAttached answers ListAttachedUser/Group/RolePolicies.
func (s *Server) listAttached(list []string, p params) (any, *Error) {
	prefix, pg, err := prefixAndPage(p)
	if err != nil {
		return nil, err
	}
	var all []*ManagedPolicy
	for _, arn := range list {
		if mp := s.acct.Policies[arn]; mp != nil && inPath(mp.Path, prefix) {
			all = append(all, mp)
		}
	}
	sortByKey(all, policySortKey)
	return listOf("AttachedPolicies", all, policySortKey, pg, func(mp *ManagedPolicy) attachedXML {
		return attachedXML{PolicyName: mp.Name, PolicyArn: mp.ARN}
	})
}

// inlineLimits are IAM's size quotas per kind of principal.
var inlineLimits = map[string]struct {
	limit int
	quota string
}{
	"user":  {userInlineLimit, "PolicySize"},
	"group": {groupInlineLimit, "PolicySize"},
	"role":  {roleInlineLimit, "PolicySize"},
}

// putInline creates or replaces an inline policy on a principal of the
// given kind ("user", "group", "role").
func putInline(list *[]InlinePolicy, kind string, p params) *Error {
	name, err := checkName(p, "PolicyName", iamname.PolicyNameMax)
	if err != nil {
		return err
	}
	lim := inlineLimits[kind]
	doc, err := checkDocument(p, "PolicyDocument", policy.Identity, lim.limit, lim.quota)
	if err != nil {
		return err
	}
	if i := findInline(*list, name); i >= 0 {
		(*list)[i] = InlinePolicy{Name: (*list)[i].Name, Document: doc}
		return nil
	}
	*list = append(*list, InlinePolicy{Name: name, Document: doc})
	return nil
}

// getInline finds a named inline policy or answers NoSuchEntity.
func getInline(list []InlinePolicy, kind string, p params) (InlinePolicy, *Error) {
	name, err := checkName(p, "PolicyName", iamname.PolicyNameMax)
	if err != nil {
		return InlinePolicy{}, err
	}
	i := findInline(list, name)
	if i < 0 {
		return InlinePolicy{}, errNoSuchEntity("The %s policy with name %s cannot be found.", kind, name)
	}
	return list[i], nil
}

// deleteInline removes a named inline policy or answers NoSuchEntity.
func deleteInline(list *[]InlinePolicy, kind string, p params) *Error {
	name, err := checkName(p, "PolicyName", iamname.PolicyNameMax)
	if err != nil {
		return err
	}
	i := findInline(*list, name)
	if i < 0 {
		return errNoSuchEntity("The %s policy with name %s cannot be found.", kind, name)
	}
	*list = append((*list)[:i:i], (*list)[i+1:]...)
	return nil
}

// listInlineNames answers ListUser/Group/RolePolicies: names, paged.
func listInlineNames(list []InlinePolicy, p params) (any, *Error) {
	pg, err := readPage(p)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, ip := range list {
		names[i] = ip.Name
	}
	sortByKey(names, key)
	return listOf("PolicyNames", names, key, pg, same[string])
}
