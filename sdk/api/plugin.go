package api

import "encoding/json"

// The plugin contract's wire format: what a Wasm plugin exports and the
// host functions it imports, as JSON. docs/plugins.md describes it in
// language-neutral terms; these types are its Go form, shared by the host
// (host/plugin) and the Go plugin SDK (sdk/).

// ContractVersion numbers this contract: the exports, the host functions
// and their JSON. Bump it whenever any of them changes what a plugin's
// describe or call may see or answer. A host keeps each plugin's describe
// answer in its compilation cache under this number (among other keys), so
// that a start after such a change describes every plugin afresh rather
// than list tools a module described under the old contract.
const ContractVersion = 1

// HostModule is the Wasm import module (namespace) of the host functions.
const HostModule = "iam_mcp"

// Names of the host functions a plugin imports from HostModule. Every one
// has the Wasm signature (i64) -> i64: it takes the Extism memory offset of
// its JSON input and returns the offset of its JSON output. progress
// returns 0 (no output); host_info's input is an empty block (offset of a
// zero-length allocation, or 0).
const (
	HostIAMCall  = "iam_call"  // IAMRequest → IAMResponse
	HostIAMBatch = "iam_batch" // []IAMRequest → []IAMResponse, in order (or one IAMResponse refusing the whole batch)
	HostProgress = "progress"  // ProgressReport → nothing
	HostInfoFunc = "host_info" // nothing → HostInfo
	// HostConsent states the changes a tool call is about to make, before
	// it makes any: the host asks the person once for those that need a
	// yes, then lets run exactly the calls approved, each once.
	HostConsent = "consent" // ConsentRequest → ConsentAnswer
	// HostStateSeal signs a plugin's own data with a key of the server's
	// that the plugin never sees (an HMAC bound to the plugin's name and
	// the account), so that state the plugin keeps where others can write
	// it (a tag) can be checked on the way back.
	HostStateSeal = "state_seal" // SealRequest → SealAnswer
	// HostSecretFileRemove removes the secret file the server wrote for a
	// new access key, once IAM shows the key used.
	HostSecretFileRemove = "secret_file_remove" // SecretFileRemoveRequest → SecretFileRemoveAnswer
)

// MaxBatchRequests caps the requests of one iam_batch. The host refuses a
// larger batch whole — answering one IAMResponse with the error instead of
// a list, counting every request against max_iam_calls, running none — so
// that a plugin cannot make it hold millions of answers. The SDK splits
// longer batches. It is above IAM's default quota of 5,000 users, so that
// one request per user fits in one batch.
const MaxBatchRequests = 10000

// Names of the functions a plugin exports.
const (
	ExportDescribe = "describe" // nothing → PluginDescription
	ExportCall     = "call"     // PluginCall → PluginResult
)

// PluginDescription is what `describe` returns: who the plugin is and the
// tools it offers. It can only ask: the operator's plugins file decides the
// tool prefix and the operations granted.
type PluginDescription struct {
	Name        string           `json:"name"`
	Version     string           `json:"version"`
	Description string           `json:"description"`
	Tools       []PluginToolDesc `json:"tools"`
}

// PluginToolDesc describes one tool of a plugin.
type PluginToolDesc struct {
	Name         string          `json:"name"` // unprefixed
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`            // a JSON Schema object
	OutputSchema json.RawMessage `json:"output_schema,omitempty"` // a JSON Schema object
	// Operations are the catalogue operations the tool calls (a request to
	// the operator, who grants or not).
	Operations []string `json:"operations"`
}

// PluginCall is the input of `call`.
type PluginCall struct {
	Tool      string          `json:"tool"` // the unprefixed name
	Arguments json.RawMessage `json:"arguments"`
}

// PluginContent is one MCP content item; plugins return text.
type PluginContent struct {
	Type string `json:"type"` // "text"
	Text string `json:"text"`
}

// PluginResult is the output of `call`.
type PluginResult struct {
	Content           []PluginContent `json:"content"`
	StructuredContent json.RawMessage `json:"structured_content,omitempty"`
	IsError           bool            `json:"is_error,omitempty"`
}

// IAMRequest asks the host to run one catalogue operation.
type IAMRequest struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
	// Account is the account to act in (id or alias, as HostInfo.Accounts
	// lists them); "" for the server's own, or for the one Args names
	// with ArgAccount. Naming two different accounts is InvalidInput.
	Account string `json:"account,omitempty"`
}

// IAMResponse carries an operation's result or its error, never both.
type IAMResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// ProgressReport is forwarded to the MCP client as a progress notification
// of the tool call being served.
type ProgressReport struct {
	Progress float64 `json:"progress"`
	Total    float64 `json:"total,omitempty"`
	Message  string  `json:"message,omitempty"`
}

// HostInfo is what `host_info` returns. Error is set when the host
// refuses to say (the server's credentials are not for the account it
// was told to expect): the account is then left out, and the plugin
// should fail with Error, as its IAM calls would.
type HostInfo struct {
	ReadOnly bool `json:"read_only"`
	// Confirm is the operator's --confirm level: which changes the person
	// is asked to approve ("destructive", "writes" or "none"), so that a
	// plugin can say up front that a step will ask.
	Confirm   string            `json:"confirm,omitempty"`
	AccountID string            `json:"account_id"`
	Partition string            `json:"partition"`
	Plugin    string            `json:"plugin"`
	Grants    []string          `json:"grants"`
	Config    map[string]string `json:"config"`
	// Accounts are the accounts this plugin may act in (IAMRequest.Account),
	// the server's own first; absent on a server of one account.
	Accounts []ReachableAccount `json:"accounts,omitempty"`
	Error    *Error             `json:"error,omitempty"`
}
