package localiam

var instanceProfileActions = map[string]action{}
