# The front door for building, testing and measuring iam-mcp-server.
GO       ?= go
BIN      := bin/iam-mcp-server
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
PORT     ?= 4599

.PHONY: all build test demo bench bench-sandbox sandbox lint fmt vet clean

all: build

build: ## the server binary, in bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/iam-mcp-server

test: ## every test, with the race detector
	$(GO) test -race -count=1 ./...

demo: build ## a short scripted MCP session on the embedded sandbox's demo organisation
	$(GO) run ./cmd/iam-mcp-demo --server $(BIN)

bench: build bench-sandbox ## the sandbox's benchmarks, then the server's, printed against their targets
	$(GO) run ./cmd/iam-mcp-bench --server $(BIN)

bench-sandbox: ## the embedded sandbox: requests per second on 10,000 users, memory of a large account
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./host/localiam/

sandbox: build ## the embedded IAM sandbox with the demo organisation, on 127.0.0.1:$(PORT)
	$(BIN) sandbox --listen 127.0.0.1:$(PORT) --seed demo

lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
