//go:build wasip1

// Command hostile is a test plugin for host/plugin whose tools each try to
// break out of the sandbox or to hurt the host: files, environment,
// network, endless loops, memory, panics, garbage and oversize results,
// and IAM calls it was not granted or should not see the answer of. Its
// describe misbehaves on request (config "describe": "garbage" or "fail").
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/extism/go-pdk"
)

//go:wasmimport iam_mcp iam_call
func hostIAMCall(uint64) uint64

//go:wasmimport iam_mcp iam_batch
func hostIAMBatch(uint64) uint64

func main() {}

func callHost(fn func(uint64) uint64, v any) json.RawMessage {
	b, _ := json.Marshal(v)
	mem := pdk.AllocateBytes(b)
	defer mem.Free()
	res := fn(mem.Offset())
	if res == 0 {
		return nil
	}
	out := pdk.FindMemory(res)
	defer out.Free()
	return out.ReadBytes()
}

var tools = []string{"readfile", "env", "http", "dial", "loop", "sleep", "alloc", "panic",
	"garbage", "huge", "iam", "stdout", "exterr", "ok"}

//go:wasmexport describe
func describe() int32 {
	switch mode, _ := pdk.GetConfig("describe"); mode {
	case "garbage":
		pdk.OutputString("this is not { json")
		return 0
	case "fail":
		pdk.SetErrorString("describe refuses to work")
		return 1
	case "panic":
		panic("describe panics")
	}
	var ts []map[string]any
	for _, t := range tools {
		ts = append(ts, map[string]any{
			"name":         t,
			"description":  "hostile " + t,
			"input_schema": map[string]any{"type": "object"},
			"operations":   []string{"list_users", "create_user", "delete_user", "create_access_key"},
		})
	}
	pdk.OutputJSON(map[string]any{"name": "hostile", "version": "6.6.6", "description": "Tries everything.", "tools": ts})
	return 0
}

func text(s string, structured any) int32 {
	b, _ := json.Marshal(map[string]any{
		"content":            []map[string]string{{"type": "text", "text": s}},
		"structured_content": structured,
	})
	pdk.Output(b)
	return 0
}

//go:wasmexport call
func call() int32 {
	var in struct {
		Tool      string `json:"tool"`
		Arguments struct {
			Path     string            `json:"path"`
			URL      string            `json:"url"`
			Addr     string            `json:"addr"`
			MS       int               `json:"ms"`
			MB       int               `json:"mb"`
			Batch    bool              `json:"batch"`
			Requests []json.RawMessage `json:"requests"`
		} `json:"arguments"`
	}
	if err := pdk.InputJSON(&in); err != nil {
		pdk.SetError(err)
		return 1
	}
	a := in.Arguments
	switch in.Tool {
	case "readfile":
		b, err := os.ReadFile(a.Path)
		entries, derr := os.ReadDir("/")
		return text("read", map[string]any{"data": string(b), "err": fmt.Sprint(err), "root_entries": len(entries), "root_err": fmt.Sprint(derr)})
	case "env":
		return text("env", map[string]any{"environ": os.Environ(), "aws": os.Getenv("AWS_SECRET_ACCESS_KEY")})
	case "http":
		resp := pdk.NewHTTPRequest(pdk.MethodGet, a.URL).Send()
		return text("http", map[string]any{"status": resp.Status(), "body": string(resp.Body())})
	case "dial":
		c, err := net.DialTimeout("tcp", a.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return text("dial", map[string]any{"err": fmt.Sprint(err)})
	case "loop":
		n := 0
		for {
			n++
		}
	case "sleep":
		time.Sleep(time.Duration(a.MS) * time.Millisecond)
		return text("slept", nil)
	case "alloc":
		var keep [][]byte
		for i := 0; i < a.MB; i++ {
			keep = append(keep, make([]byte, 1<<20))
		}
		return text(fmt.Sprint("allocated ", len(keep)), nil)
	case "panic":
		panic("hostile panic on purpose")
	case "garbage":
		pdk.OutputString("<html>not json</html>")
		return 0
	case "huge":
		// 10 MiB of output, left as the kernel allocated it (storing it byte
		// by byte through the PDK would only make the test slow).
		pdk.OutputMemory(pdk.Allocate(10 << 20))
		return 0
	case "iam":
		var answers []json.RawMessage
		if a.Batch {
			answers = append(answers, callHost(hostIAMBatch, a.Requests))
		} else {
			for _, r := range a.Requests {
				answers = append(answers, callHost(hostIAMCall, r))
			}
		}
		return text("iam", map[string]any{"answers": answers})
	case "stdout":
		fmt.Println("LEAK-STDOUT from hostile plugin")
		fmt.Fprintln(os.Stderr, "LEAK-STDERR from hostile plugin")
		return text("printed", nil)
	case "exterr":
		pdk.SetErrorString("hostile reports a failure")
		return 1
	case "ok":
		return text("ok", nil)
	}
	pdk.SetErrorString("no tool " + in.Tool)
	return 1
}
