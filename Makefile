# The front door for building, testing and measuring iam-mcp-server.
GO       ?= go
BIN      := bin/iam-mcp-server
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PORT     ?= 4599

.PHONY: all build test fuzz demo bench bench-sandbox bench-policy bench-stdio sandbox lint fmt vet clean plugins plugins-hashes

all: build

build: ## the server binary, in bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/iam-mcp-server

test: ## every test, with the race detector (the timeout only guards a hang: a busy 2-core machine takes minutes per package)
	$(GO) test -race -count=1 -timeout 30m ./...

fuzz: ## every go-fuzz target for FUZZTIME each (default 15s), beyond the corpora make test runs
	bash .ci/fuzz

demo: build plugins ## a short scripted MCP session on the embedded sandbox's demo organisation: a dry run, one confirmation accepted and one declined, the read-only default, the shipped plugins, an organisation of accounts reviewed at once
	$(GO) run ./cmd/iam-mcp-demo --server $(BIN) --plugins plugins.yaml

bench: build bench-sandbox bench-policy bench-stdio ## the sandbox's benchmarks, the policy evaluator against its oracle, the stdio reader, then the server's, printed against their targets
	$(GO) run ./cmd/iam-mcp-bench --server $(BIN)

bench-sandbox: ## the embedded sandbox: requests per second on 10,000 users, memory of a large account
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./host/sandbox/

bench-policy: ## policy.Evaluate against the oracle (npm ci --prefix policy/testdata/oracle): ns/eval of each and their ratio
	$(GO) test -run '^$$' -bench EvaluateVsOracle ./policy/

bench-stdio: ## the stdio server's own reading of a line: ns, bytes and allocations per line of each kind
	$(GO) test -run '^$$' -bench StdioLine -benchmem ./host/mcpserver/

sandbox: build ## the embedded IAM sandbox with the demo organisation, on 127.0.0.1:$(PORT)
	$(BIN) sandbox --listen 127.0.0.1:$(PORT) --seed demo

# Plugins: every plugins/NAME/ directory with Go code builds to
# plugins/NAME/NAME.wasm, as a WASI reactor (-buildmode=c-shared). -trimpath
# and -buildvcs=false keep the bytes, and so the sha256 an operator pins,
# independent of the checkout's location and of its commit.
PLUGIN_DIRS = $(sort $(patsubst %/,%,$(dir $(wildcard plugins/*/*.go))))
SHA256SUM   = $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo 'shasum -a 256')

# Every plugins/NAME/ with an asconfig.json is AssemblyScript: its
# toolchain is pinned by its package-lock.json (npm ci), and its compiler
# flags are its asconfig.json's, run by its package.json's "build" script,
# which writes plugins/NAME/NAME.wasm. That module is committed, so that a
# machine without npm keeps it (and can still run make demo).
AS_PLUGIN_DIRS = $(sort $(patsubst %/,%,$(dir $(wildcard plugins/*/asconfig.json))))

plugins: ## build every plugin in plugins/ to .wasm, then refresh the sha256 lines of plugins.yaml
	@set -e; for d in $(PLUGIN_DIRS); do \
		n=$${d##*/}; echo "plugins: $$d/$$n.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -buildvcs=false -o $$d/$$n.wasm ./$$d; \
	done
	@set -e; for d in $(AS_PLUGIN_DIRS); do \
		n=$${d##*/}; \
		if command -v npm >/dev/null 2>&1; then \
			echo "plugins: $$d/$$n.wasm (AssemblyScript)"; \
			npm ci --prefix $$d --no-audit --no-fund --loglevel=error; \
			npm run --prefix $$d --silent build; \
		else echo "plugins: no npm; keeping the committed $$d/$$n.wasm"; fi; \
	done
	@$(MAKE) --no-print-directory plugins-hashes

# The helper: for each entry of plugins.yaml whose path is a built plugin,
# replace the value of its sha256 line, keeping every comment and the layout.
# POSIX awk, so that it runs the same on Linux and macOS.
define PLUGINS_HASH_AWK
FNR == NR { f = $$2; sub(/^\*/, "", f); sub(/^\.\//, "", f); h[f] = $$1; next }
# key is the entry's own key on a line (not one nested deeper, such as a
# config value), or "".
function key(line,   c) {
	c = match(line, /[A-Za-z_]/)
	if (c != col || line !~ /^[ \t-]*[A-Za-z_][A-Za-z0-9_]*[ \t]*:/) return ""
	line = substr(line, c); sub(/[ \t]*:.*/, "", line); return line
}
function flush(   i, line) {
	for (i = 1; i <= n; i++) {
		line = buf[i]
		if (p != "" && (p in h) && key(line) == "sha256") {
			if (index(line, h[p]) == 0) printf "plugins.yaml: sha256 of %s is now %s\n", p, h[p] > "/dev/stderr"
			sub(/sha256[ \t]*:[ \t]*[^ \t#]*/, "sha256: " h[p], line)
			done[p] = 1
		}
		print line
	}
	n = 0; p = ""
}
/^[^ \t#-]/ { flush(); col = 0 }
/^[ \t]*-[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*:/ { flush(); col = match($$0, /[A-Za-z_]/) }
{
	buf[++n] = $$0
	if (key($$0) == "path") {
		v = $$0; sub(/^[ \t-]*path[ \t]*:[ \t]*/, "", v); sub(/[ \t]+#.*$$/, "", v)
		gsub(/["']/, "", v); sub(/^\.\//, "", v); p = v
	}
}
END {
	flush()
	for (f in h) if (!(f in done)) printf "plugins.yaml: no entry with a sha256 line has path %s\n", f > "/dev/stderr"
}
endef
export PLUGINS_HASH_AWK

plugins-hashes: ## rewrite the sha256 lines of plugins.yaml to match the built plugins/*/*.wasm
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp" "$$tmp.yaml"' EXIT && \
	for f in plugins/*/*.wasm; do if [ -f "$$f" ]; then $(SHA256SUM) "$$f"; fi; done > "$$tmp" && \
	awk "$$PLUGINS_HASH_AWK" "$$tmp" plugins.yaml > "$$tmp.yaml" && \
	cat "$$tmp.yaml" > plugins.yaml

lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
