package localiam

var mfaActions = map[string]action{}
