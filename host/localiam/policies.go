package localiam

var policyActions = map[string]action{}
