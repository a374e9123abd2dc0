//go:build wasip1

// Command good is a well-behaved test plugin for host/plugin, written
// against go-pdk directly (not the project's SDK) to show that any Extism
// PDK can implement the contract: two ordinary tools that use every host
// function, and a few probes the runtime's tests need.
package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/extism/go-pdk"
)

//go:wasmimport iam_mcp iam_call
func hostIAMCall(uint64) uint64

//go:wasmimport iam_mcp iam_batch
func hostIAMBatch(uint64) uint64

//go:wasmimport iam_mcp progress
func hostProgress(uint64) uint64

//go:wasmimport iam_mcp host_info
func hostInfo(uint64) uint64

func main() {}

// host sends v as JSON to a host function and decodes its answer into out.
func host(fn func(uint64) uint64, v any, out any) {
	var off uint64
	if v != nil {
		b, _ := json.Marshal(v)
		mem := pdk.AllocateBytes(b)
		defer mem.Free()
		off = mem.Offset()
	}
	res := fn(off)
	if res == 0 || out == nil {
		return
	}
	mem := pdk.FindMemory(res)
	defer mem.Free()
	if err := json.Unmarshal(mem.ReadBytes(), out); err != nil {
		panic("host answer is not JSON: " + err.Error())
	}
}

type iamRequest struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

type iamResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type content struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type result struct {
	Content           []content `json:"content"`
	StructuredContent any       `json:"structured_content,omitempty"`
	IsError           bool      `json:"is_error,omitempty"`
}

//go:wasmexport describe
func describe() int32 {
	pdk.OutputJSON(map[string]any{
		"name":        "good",
		"version":     "1.0.0",
		"description": "A well-behaved test plugin.",
		"tools": []map[string]any{
			{
				"name":          "users",
				"description":   "Count users under a path, reporting progress.",
				"input_schema":  map[string]any{"type": "object", "properties": map[string]any{"path_prefix": map[string]any{"type": "string"}}},
				"output_schema": map[string]any{"type": "object", "properties": map[string]any{"count": map[string]any{"type": "integer"}}},
				"operations":    []string{"list_users"},
			},
			{
				"name":         "groups_of",
				"description":  "Get several users at once through iam_batch.",
				"input_schema": map[string]any{"type": "object", "properties": map[string]any{"users": map[string]any{"type": "array"}}},
				"operations":   []string{"get_user", "list_groups_for_user"},
			},
			{
				"name":         "probe",
				"description":  "host_info, config, clocks and Extism vars, for the runtime's tests.",
				"input_schema": map[string]any{"type": "object"},
				"operations":   []string{},
			},
			{
				"name":         "echo",
				"description":  "Answer the size of the arguments.",
				"input_schema": map[string]any{"type": "object"},
				"operations":   []string{},
			},
		},
	})
	return 0
}

//go:wasmexport call
func call() int32 {
	var in struct {
		Tool      string          `json:"tool"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := pdk.InputJSON(&in); err != nil {
		pdk.SetError(err)
		return 1
	}
	var out result
	switch in.Tool {
	case "users":
		out = users(in.Arguments)
	case "groups_of":
		out = groupsOf(in.Arguments)
	case "probe":
		out = probe()
	case "echo":
		out = result{Content: []content{{"text", fmt.Sprint(len(in.Arguments))}}, StructuredContent: map[string]int{"bytes": len(in.Arguments)}}
	default:
		pdk.SetErrorString("no tool " + in.Tool)
		return 1
	}
	if err := pdk.OutputJSON(out); err != nil {
		pdk.SetError(err)
		return 1
	}
	return 0
}

func users(args json.RawMessage) result {
	pdk.Log(pdk.LogInfo, "good: listing users")
	host(hostProgress, map[string]any{"progress": 1, "total": 2, "message": "listing"}, nil)
	var resp iamResponse
	host(hostIAMCall, iamRequest{Op: "list_users", Args: args}, &resp)
	if resp.Error != nil {
		return result{Content: []content{{"text", resp.Error.Code + ": " + resp.Error.Message}}, IsError: true}
	}
	var page struct {
		Users []struct {
			UserName string `json:"user_name"`
		} `json:"users"`
	}
	json.Unmarshal(resp.Result, &page)
	host(hostProgress, map[string]any{"progress": 2, "total": 2, "message": "done"}, nil)
	return result{
		Content:           []content{{"text", fmt.Sprintf("%d users", len(page.Users))}},
		StructuredContent: map[string]int{"count": len(page.Users)},
	}
}

func groupsOf(args json.RawMessage) result {
	var in struct {
		Users []string `json:"users"`
	}
	json.Unmarshal(args, &in)
	var reqs []iamRequest
	for _, u := range in.Users {
		a, _ := json.Marshal(map[string]string{"user_name": u})
		reqs = append(reqs, iamRequest{Op: "get_user", Args: a})
	}
	var resps []iamResponse
	host(hostIAMBatch, reqs, &resps)
	return result{Content: []content{{"text", fmt.Sprintf("%d answers", len(resps))}}, StructuredContent: map[string]any{"responses": resps}}
}

func probe() result {
	var info map[string]any
	host(hostInfo, nil, &info)
	greeting, _ := pdk.GetConfig("greeting")
	pdk.SetVar("probe", []byte("kept"))
	v := string(pdk.GetVar("probe"))
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	slept := time.Since(start)
	pdk.Log(pdk.LogWarn, "good: probe done")
	return result{
		Content: []content{{"text", "probed"}},
		StructuredContent: map[string]any{
			"host_info": info,
			"greeting":  greeting,
			"var":       v,
			"unix_ms":   time.Now().UnixMilli(),
			"slept_ns":  slept.Nanoseconds(),
		},
	}
}
