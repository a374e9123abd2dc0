package localiam

var credentialActions = map[string]action{}
