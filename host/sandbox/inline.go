package sandbox

import "encoding/xml"

// What users, groups and roles all have — attached managed policies and
// inline policies — is served by one set of actions per kind of principal,
// built from its lookup; the mechanics are in attach.go.

// principal describes one kind of principal for the generic actions.
type principal struct {
	kind  string // "User", "Group", "Role": the action names' middle
	param string // its name parameter: "UserName", …
	// resolve finds the principal a request names.
	resolve func(s *Server, c *call) (name string, attached *[]string, inline *[]InlinePolicy, err *Error)
}

var principals = []principal{
	{"User", "UserName", func(s *Server, c *call) (string, *[]string, *[]InlinePolicy, *Error) {
		u, err := userParam(s, c)
		if err != nil {
			return "", nil, nil, err
		}
		return u.Name, &u.Attached, &u.Inline, nil
	}},
	{"Group", "GroupName", func(s *Server, c *call) (string, *[]string, *[]InlinePolicy, *Error) {
		g, err := groupParam(s, c)
		if err != nil {
			return "", nil, nil, err
		}
		return g.Name, &g.Attached, &g.Inline, nil
	}},
	{"Role", "RoleName", func(s *Server, c *call) (string, *[]string, *[]InlinePolicy, *Error) {
		r, err := roleParam(s, c)
		if err != nil {
			return "", nil, nil, err
		}
		return r.Name, &r.Attached, &r.Inline, nil
	}},
}

// principalActions are Attach/Detach/ListAttached…Policies and
// Put/Get/Delete/List…Policy(ies) for every kind of principal.
var principalActions = func() map[string]action {
	all := map[string]action{}
	for _, p := range principals {
		for name, a := range p.actions() {
			all[name] = a
		}
	}
	return all
}()

func (p principal) actions() map[string]action {
	lower := lowerFirst(p.kind)
	return map[string]action{
		"Attach" + p.kind + "Policy": {mutates: true, run: func(s *Server, c *call) (any, *Error) {
			_, attached, _, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			arn, err := checkPolicyARN(c.params, "PolicyArn")
			if err != nil {
				return nil, err
			}
			return nil, s.attachPolicy(attached, arn, p.kind)
		}},
		"Detach" + p.kind + "Policy": {mutates: true, run: func(s *Server, c *call) (any, *Error) {
			_, attached, _, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			arn, err := checkPolicyARN(c.params, "PolicyArn")
			if err != nil {
				return nil, err
			}
			return nil, s.detachPolicy(attached, arn)
		}},
		"ListAttached" + p.kind + "Policies": {run: func(s *Server, c *call) (any, *Error) {
			_, attached, _, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			return s.listAttached(*attached, c.params)
		}},
		"Put" + p.kind + "Policy": {mutates: true, run: func(s *Server, c *call) (any, *Error) {
			_, _, inline, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			return nil, putInline(inline, lower, c.params)
		}},
		"Get" + p.kind + "Policy": {run: func(s *Server, c *call) (any, *Error) {
			name, _, inline, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			ip, err := getInline(*inline, lower, c.params)
			if err != nil {
				return nil, err
			}
			return inlineResult{ownerElem: p.param, owner: name, policy: ip}, nil
		}},
		"Delete" + p.kind + "Policy": {mutates: true, run: func(s *Server, c *call) (any, *Error) {
			_, _, inline, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			return nil, deleteInline(inline, lower, c.params)
		}},
		"List" + p.kind + "Policies": {run: func(s *Server, c *call) (any, *Error) {
			_, _, inline, err := p.resolve(s, c)
			if err != nil {
				return nil, err
			}
			return listInlineNames(*inline, c.params)
		}},
	}
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
		if err := e.EncodeElement(f[1], xml.StartElement{Name: xml.Name{Local: f[0]}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// Permissions boundaries of users and roles.

var boundaryActions = map[string]action{
	"PutUserPermissionsBoundary":    {mutates: true, run: putUserBoundary},
	"DeleteUserPermissionsBoundary": {mutates: true, run: deleteUserBoundary},
	"PutRolePermissionsBoundary":    {mutates: true, run: putRoleBoundary},
	"DeleteRolePermissionsBoundary": {mutates: true, run: deleteRoleBoundary},
}

func putUserPolicy(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	return nil, putInline(&u.Inline, "user", c.params)
}

func getUserPolicy(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	ip, err := getInline(u.Inline, "user", c.params)
	if err != nil {
		return nil, err
	}
	return struct {
		UserName       string `xml:"UserName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{u.Name, ip.Name, urlEncodedDoc(ip.Document)}, nil
}

func deleteUserPolicy(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	return nil, deleteInline(&u.Inline, "user", c.params)
}

func listUserPolicies(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	return listInlineNames(u.Inline, c.params)
}

func putGroupPolicy(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	return nil, putInline(&g.Inline, "group", c.params)
}

func getGroupPolicy(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	ip, err := getInline(g.Inline, "group", c.params)
	if err != nil {
		return nil, err
	}
	return struct {
		GroupName      string `xml:"GroupName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{g.Name, ip.Name, urlEncodedDoc(ip.Document)}, nil
}

func deleteGroupPolicy(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	return nil, deleteInline(&g.Inline, "group", c.params)
}

func listGroupPolicies(s *Server, c *call) (any, *Error) {
	g, err := groupParam(s, c)
	if err != nil {
		return nil, err
	}
	return listInlineNames(g.Inline, c.params)
}

func putRolePolicy(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	return nil, putInline(&r.Inline, "role", c.params)
}

func getRolePolicy(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	ip, err := getInline(r.Inline, "role", c.params)
	if err != nil {
		return nil, err
	}
	return struct {
		RoleName       string `xml:"RoleName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{r.Name, ip.Name, urlEncodedDoc(ip.Document)}, nil
}

func deleteRolePolicy(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	return nil, deleteInline(&r.Inline, "role", c.params)
}

func listRolePolicies(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	return listInlineNames(r.Inline, c.params)
}

func putUserBoundary(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	b, err := c.required("PermissionsBoundary")
	if err != nil {
		return nil, err
	}
	return nil, s.setBoundary(&u.Boundary, b)
}

func deleteUserBoundary(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	s.clearBoundary(&u.Boundary)
	return nil, nil
}

func putRoleBoundary(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	b, err := c.required("PermissionsBoundary")
	if err != nil {
		return nil, err
	}
	return nil, s.setBoundary(&r.Boundary, b)
}

func deleteRoleBoundary(s *Server, c *call) (any, *Error) {
	r, err := roleParam(s, c)
	if err != nil {
		return nil, err
	}
	s.clearBoundary(&r.Boundary)
	return nil, nil
}
