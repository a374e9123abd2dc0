package localiam

var simulationActions = map[string]action{}

var stsGetCallerIdentity = action{run: func(s *Server, c *call) (any, *Error) { return nil, nil }}
