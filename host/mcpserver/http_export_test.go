package mcpserver

// HTTPInFlight is how many MCP POSTs the process's HTTP handlers are
// serving: a test waits for its call to be in flight before it shuts the
// server down.
func HTTPInFlight() int64 { return httpInFlight.Load() }
