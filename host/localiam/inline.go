package localiam

// Inline policies and permissions boundaries of users, groups and roles.
// The mechanics live in attach.go; these are the IAM actions over them.

var inlineActions = map[string]action{
	"PutUserPolicy":     {mutates: true, run: putUserPolicy},
	"GetUserPolicy":     {run: getUserPolicy},
	"DeleteUserPolicy":  {mutates: true, run: deleteUserPolicy},
	"ListUserPolicies":  {run: listUserPolicies},
	"PutGroupPolicy":    {mutates: true, run: putGroupPolicy},
	"GetGroupPolicy":    {run: getGroupPolicy},
	"DeleteGroupPolicy": {mutates: true, run: deleteGroupPolicy},
	"ListGroupPolicies": {run: listGroupPolicies},
	"PutRolePolicy":     {mutates: true, run: putRolePolicy},
	"GetRolePolicy":     {run: getRolePolicy},
	"DeleteRolePolicy":  {mutates: true, run: deleteRolePolicy},
	"ListRolePolicies":  {run: listRolePolicies},
}

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
