package gate

import (
	"encoding/json"
	"strings"
)

// secretArguments are argument names whose values never reach a log or
// the audit record.
var secretArguments = []string{"password", "secret", "session_token", "private_key"}

// Redact returns args with the value of every secret-bearing field, at any
// depth, replaced by "[redacted]". Arguments that are not JSON are replaced
// whole, since nothing in them can be vouched for.
func Redact(args json.RawMessage) json.RawMessage {
	if len(strings.TrimSpace(string(args))) == 0 {
		return json.RawMessage("{}")
	}
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		return json.RawMessage(`"[unparsable arguments redacted]"`)
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return json.RawMessage(`"[redacted]"`)
	}
	return out
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if isSecretName(k) {
				x[k] = "[redacted]"
				continue
			}
			x[k] = redactValue(val)
		}
	case []any:
		for i := range x {
			x[i] = redactValue(x[i])
		}
	}
	return v
}

func isSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range secretArguments {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
