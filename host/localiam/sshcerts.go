package localiam

var sshCertActions = map[string]action{}
