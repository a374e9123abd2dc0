package sandbox

import "encoding/xml"

// What users, groups and roles all have — attached managed policies, inline
// policies and (users and roles) a permissions boundary — is served by one
// set of actions, each written once over the kind of principal; the
// mechanics are in attach.go.

// principal describes one kind of principal for the shared actions.
type principal struct {
	kind  string // "User", "Group", "Role": the action names' middle
	param string // its name parameter: "UserName", …
	// resolve finds the principal a request names.
	resolve func(s *Server, c *call) (holdings, *Error)
}

// holdings are the parts of one principal the shared actions change.
type holdings struct {
	name     string
	attached *[]string
	inline   *[]InlinePolicy
	boundary *string // nil for a group, which has none
}

var principals = []principal{
	{"User", "UserName", partOf(userParam, func(u *User) holdings { return holdings{u.Name, &u.Attached, &u.Inline, &u.Boundary} })},
	{"Group", "GroupName", partOf(groupParam, func(g *Group) holdings { return holdings{g.Name, &g.Attached, &g.Inline, nil} })},
	{"Role", "RoleName", partOf(roleParam, func(r *Role) holdings { return holdings{r.Name, &r.Attached, &r.Inline, &r.Boundary} })},
}

// principalActions are Attach/Detach/ListAttached…Policies,
// Put/Get/Delete/List…Policy(ies) and Put/Delete…PermissionsBoundary for
// every kind of principal that has them.
var principalActions = func() map[string]action {
	all := map[string]action{}
	for _, p := range principals {
		for name, a := range p.actions() {
			all[name] = a
		}
	}
	return all
}()

// handler is an action's work once the principal is found.
type handler func(s *Server, c *call, h holdings) (any, *Error)

// with resolves the principal a request names, then runs f on it.
func (p principal) with(f handler) func(s *Server, c *call) (any, *Error) {
	return func(s *Server, c *call) (any, *Error) {
		h, err := p.resolve(s, c)
		if err != nil {
			return nil, err
		}
		return f(s, c, h)
	}
}

func (p principal) actions() map[string]action {
	lower := lowerFirst(p.kind)
	out := map[string]action{
		"Attach" + p.kind + "Policy": {mutates: true, run: p.with(func(s *Server, c *call, h holdings) (any, *Error) {
			arn, err := checkPolicyARN(c.params, "PolicyArn")
			if err != nil {
				return nil, err
			}
			return nil, s.attachPolicy(h.attached, arn, p.kind)
		})},
		"Detach" + p.kind + "Policy": {mutates: true, run: p.with(func(s *Server, c *call, h holdings) (any, *Error) {
			arn, err := checkPolicyARN(c.params, "PolicyArn")
			if err != nil {
				return nil, err
			}
			return nil, s.detachPolicy(h.attached, arn)
		})},
		"ListAttached" + p.kind + "Policies": {run: p.with(func(s *Server, c *call, h holdings) (any, *Error) {
			return s.listAttached(*h.attached, c.params)
		})},
		"Put" + p.kind + "Policy": {mutates: true, run: p.with(func(_ *Server, c *call, h holdings) (any, *Error) {
			return nil, putInline(h.inline, lower, c.params)
		})},
		"Get" + p.kind + "Policy": {run: p.with(func(_ *Server, c *call, h holdings) (any, *Error) {
			ip, err := getInline(*h.inline, lower, c.params)
			if err != nil {
				return nil, err
			}
			return inlineResult{ownerElem: p.param, owner: h.name, policy: ip}, nil
		})},
		"Delete" + p.kind + "Policy": {mutates: true, run: p.with(func(_ *Server, c *call, h holdings) (any, *Error) {
			return nil, deleteInline(h.inline, lower, c.params)
		})},
		"List" + p.kind + "Policies": {run: p.with(func(_ *Server, c *call, h holdings) (any, *Error) {
			return listInlineNames(*h.inline, c.params)
		})},
	}
	if p.kind == "Group" {
		return out // groups have no permissions boundary
	}
	out["Put"+p.kind+"PermissionsBoundary"] = action{mutates: true, run: p.with(func(s *Server, c *call, h holdings) (any, *Error) {
		b, err := c.required("PermissionsBoundary")
		if err != nil {
			return nil, err
		}
		return nil, s.setBoundary(h.boundary, b)
	})}
	out["Delete"+p.kind+"PermissionsBoundary"] = action{mutates: true, run: p.with(func(s *Server, _ *call, h holdings) (any, *Error) {
		s.clearBoundary(h.boundary)
		return nil, nil
	})}
	return out
}

// inlineResult is Get{User,Group,Role}Policy's result, whose first element
// is named after the kind of principal (UserName, GroupName, RoleName).
type inlineResult struct {
	ownerElem, owner string
	policy           InlinePolicy
}

func (r inlineResult) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, f := range [][2]string{{r.ownerElem, r.owner}, {"PolicyName", r.policy.Name}, {"PolicyDocument", urlEncodedDoc(r.policy.Document)}} {
		if err := encodeElement(e, f[0], f[1]); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}
