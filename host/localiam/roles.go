package localiam

var roleActions = map[string]action{}

// roleParam reads and resolves the RoleName parameter.
func roleParam(s *Server, c *call) (*Role, *Error) {
	name, err := checkName(c.params, "RoleName", 64)
	if err != nil {
		return nil, err
	}
	return s.acct.role(name)
}
