package localiam

var accountActions = map[string]action{}
