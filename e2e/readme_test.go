package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// readmeServer is one server entry of a client configuration in the README.
type readmeServer struct {
	Type    string            `json:"type"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
}

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// TestREADMEClientConfigs: every MCP client configuration the README shows
// starts the built binary as written — its args and its env, on the demo
// sandbox instead of an AWS profile — and behaves as the text around it
// says: read-only unless the configuration allows writes (by flag or by
// IAM_MCP_ALLOW_WRITE), and, when it does, a destructive change is not run
// for a client that cannot ask the person. A flag or variable the binary
// does not know, or a default that changed, fails here first.
func TestREADMEClientConfigs(t *testing.T) {
	t.Parallel()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var configs []readmeServer
	for _, m := range jsonBlock.FindAllStringSubmatch(string(readme), -1) {
		var doc struct {
			MCPServers map[string]readmeServer `json:"mcpServers"`
			Servers    map[string]readmeServer `json:"servers"`
		}
		if json.Unmarshal([]byte(m[1]), &doc) != nil {
			continue // another JSON example (a policy, a result)
		}
		for _, s := range doc.MCPServers {
			configs = append(configs, s)
		}
		for _, s := range doc.Servers {
			configs = append(configs, s)
		}
	}
	writes := func(c readmeServer) bool {
		return slices.Contains(c.Args, "--allow-write") || c.Env["IAM_MCP_ALLOW_WRITE"] == "true"
	}
	var readOnly, writable, fromEnv int
	for _, c := range configs {
		switch {
		case writes(c):
			writable++
		default:
			readOnly++
		}
		if c.Env["IAM_MCP_ALLOW_WRITE"] != "" {
			fromEnv++
		}
	}
	if readOnly == 0 || writable == 0 || fromEnv == 0 || len(configs) < 4 {
		t.Fatalf("the README shows %d client configurations: %d read-only, %d that write, %d by environment; it must show the default (read-only), --allow-write and the IAM_MCP_* form", len(configs), readOnly, writable, fromEnv)
	}
	for i, c := range configs {
		if c.Command != "iam-mcp-server" {
			t.Errorf("configuration %d runs %q, not iam-mcp-server", i, c.Command)
			continue
		}
		var env []string
		for k, v := range c.Env {
			env = append(env, k+"="+v)
		}
		s := launch(t, launchOptions{args: c.Args, env: env})
		name := strings.Join(append(env, c.Args...), " ")
		if writes(c) {
			ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "readme-user"})
			if s.tools["delete_user"] != nil {
				fails(s, "delete_user", map[string]any{"user_name": "readme-user"}, api.ConsentRequired)
			}
		} else if msg := fails(s, "create_user", map[string]any{"user_name": "readme-user"}, api.ReadOnly); !strings.Contains(msg, "--allow-write") {
			t.Errorf("%s: the refusal does not say how to allow writes: %s", name, msg)
		}
		if c.Env["IAM_MCP_EXCLUDE_TOOLS"] != "" && s.tools["delete_user"] != nil {
			t.Errorf("%s: delete_user is listed", name)
		}
		s.close()
	}
}
