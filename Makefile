# falcops: the two commands a new user needs are `make run` and `make test`.
SHELL := /usr/bin/env bash
GO ?= go
# The tool cache; FALCOPS_CACHE moves it (hack/*.sh and the tests read it too).
CACHE ?= $(or $(FALCOPS_CACHE),$(HOME)/.cache/falcops)
export FALCOPS_CACHE := $(CACHE)
BIN := $(CACHE)/bin
GO_TEST_ARGS ?=
FUZZTIME ?= 60s
BENCH_COUNT ?= 5
BENCH_CONTROLLER_COUNT ?= 1
# Upstream rulesets the tuning rulesets depend on, when the repository does
# not vendor them: built from ../shared/upstream-rules (test data) into the
# cache; empty when that is absent.
UPSTREAM_RULESETS = FALCOPS_RULESETS_PATH=$${FALCOPS_RULESETS_PATH:-$$(hack/upstream-rulesets.sh)}

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# VERSION is stamped into the binaries (falcops version, --version).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/falcops/falcops/version.Version=$(VERSION)

.PHONY: build
build: ## Build the falcops, falcops-controller and falcops-extension binaries into bin/.
	$(GO) build -buildvcs=auto -ldflags "$(LDFLAGS)" -o bin/ ./cmd/falcops ./cmd/falcops-controller ./cmd/falcops-extension

.PHONY: run
run: ## The main job: validate, sign and publish rulesets and profiles to an embedded registry, print the falcoctl config; serves until Ctrl-C.
	$(UPSTREAM_RULESETS) $(GO) run ./cmd/falcops run

.PHONY: dev
dev: build ## A local garden until Ctrl-C: API servers, signed registry, 50 sample shoots, the real controller (webhooks, dashboard on 127.0.0.1:8090) and extension. DEV_ARGS=--reset starts from scratch.
	@hack/gardener-crds.sh $(CACHE)/gardener-crds
	$(UPSTREAM_RULESETS) KUBEBUILDER_ASSETS=$$(hack/envtest-assets.sh) FALCOPS_GARDENER_CRDS=$(CACHE)/gardener-crds bin/falcops dev $(DEV_ARGS)

.PHONY: validate
validate: ## Validate rulesets/ exactly as CI does (warnings fail).
	$(UPSTREAM_RULESETS) $(GO) run ./cmd/falcops validate --strict .

.PHONY: test
test: tools-test ## Run every test (builds falcoctl, cosign, kube-apiserver and etcd once into ~/.cache/falcops).
	$(UPSTREAM_RULESETS) KUBEBUILDER_ASSETS=$$(hack/envtest-assets.sh) FALCOPS_CONTROLLER_GEN=$(BIN)/controller-gen \
	FALCOPS_SARIF_SCHEMA=$(CACHE)/sarif/sarif-2.1.0.json FALCOPS_GARDENER_CRDS=$(CACHE)/gardener-crds FALCOPS_CHROMIUM=$$(hack/chromium.sh) \
	$(GO) test $(GO_TEST_ARGS) ./...

# TEST_TOOLS are every tool a test looks up (internal/clitest.Tool); a test
# (TestToolsTestInstallsEveryTool) fails when one is missing here.
TEST_TOOLS := falcoctl cosign oras actionlint controller-gen

.PHONY: tools-test
tools-test:
	@hack/sarif-schema.sh $(CACHE)/sarif
	@hack/gardener-crds.sh $(CACHE)/gardener-crds
	@hack/tools.sh $(TEST_TOOLS)
	@hack/envtest-assets.sh >/dev/null
	@hack/chromium.sh >/dev/null

.PHONY: generate
generate: ## Regenerate deepcopy code (every API group), CRDs (config/crd/bases) and RBAC (config/rbac) with controller-gen.
	@hack/tools.sh controller-gen
	$(BIN)/controller-gen object paths=./api/...
	$(BIN)/controller-gen crd rbac:roleName=falcops-controller paths=./api/v1alpha1/... paths=./api/profile/... paths=./cmd/falcops-controller/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: image
image: ## Build the container image (falcops-controller, falcops-extension, falcops-agent, falcoctl v0.13.0) with docker or podman.
	@engine=$$(command -v docker || command -v podman) || { echo "image: neither docker nor podman found" >&2; exit 2; }; \
	  $$engine build -t $${IMAGE:-falcops:dev} .

.PHONY: verify
verify: generate ## Regenerate (make generate), tidy go.mod, then fail if that changed the tree: commit generated code.
	$(GO) mod tidy
	@git diff --exit-code || { echo "verify: make generate or go mod tidy changed the files above; commit them" >&2; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- api config); \
	  if [ -n "$$untracked" ]; then echo "verify: new generated files, not committed: $$untracked" >&2; exit 1; fi

.PHONY: run-controller
run-controller: ## Run the controller against the current kubeconfig (CRDs from config/crd must be installed).
	$(GO) run ./cmd/falcops-controller --metrics-bind-address 127.0.0.1:8080 --metrics-insecure --health-probe-bind-address 127.0.0.1:8081

.PHONY: bench-controller
bench-controller: ## Controller at scale (not in make test): 10,000 shoots in envtest; promotion-to-patched time vs a plain patch loop (ratio), peak memory, registry requests per interval.
	KUBEBUILDER_ASSETS=$$(hack/envtest-assets.sh) $(GO) test ./cmd/falcops-controller/ -run '^$$' -bench '^BenchmarkRollout$$' -benchtime 1x -count $(BENCH_CONTROLLER_COUNT) -timeout 90m | tee $(CACHE)/bench-controller.txt
	@grep -E 'bench_test.go:[0-9]+: [0-9]+ shoots' $(CACHE)/bench-controller.txt

.PHONY: fmt
fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: lint
lint: ## Run golangci-lint (pinned, installed into ~/.cache/falcops/bin).
	@hack/tools.sh golangci-lint actionlint
	$(BIN)/golangci-lint run ./...
	$(BIN)/actionlint -no-color

.PHONY: fuzz
fuzz: ## Fuzz each parser for FUZZTIME (default 60s): rules loader, conditions, profiles, extraction, diff.
	$(GO) test ./rules/ -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./rules/condition/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./lifecycle/ -run '^$$' -fuzz '^FuzzLoadProfile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./artifacts/ -run '^$$' -fuzz '^FuzzExtractPaths$$' -fuzztime $(FUZZTIME)
	$(GO) test ./rules/diff/ -run '^$$' -fuzz '^FuzzDiffConditions$$' -fuzztime $(FUZZTIME)

.PHONY: bench-publish
bench-publish: tools-test ## Publishing 50 rulesets (validate, package, push, tag, sign) vs the oras CLI pushing the same blobs (ratio).
	$(GO) test ./cmd/falcops/ -run '^$$' -bench 'Benchmark(Publish|OrasPush)50$$' -benchtime 3x -count $(BENCH_COUNT) | tee $(CACHE)/bench-publish.txt
	@hack/ratio.sh $(CACHE)/bench-publish.txt BenchmarkPublish50 BenchmarkOrasPush50

.PHONY: bench-mirror
bench-mirror: tools-test ## Mirroring 50 signed releases (verify upstream, copy, .sig, bundle index, re-sign, tags) vs `oras cp -r` plus the .sig copy (ratio; goal <= 1.0).
	$(GO) test ./cmd/falcops/ -run '^$$' -bench 'Benchmark(Mirror|OrasCopy)50$$' -benchtime 3x -count $(BENCH_COUNT) | tee $(CACHE)/bench-mirror.txt
	@hack/ratio.sh $(CACHE)/bench-mirror.txt BenchmarkMirror50 BenchmarkOrasCopy50

.PHONY: bench-agent
bench-agent: tools-test ## Pin change to swapped rules through the agent (real falcoctl, local registry) vs falcoctl installing the same ref alone (ratio).
	$(GO) test ./agent/ -run '^$$' -bench 'Benchmark(PinChange|FalcoctlInstall)$$' -benchtime 10x -count $(BENCH_COUNT) | tee $(CACHE)/bench-agent.txt
	@hack/ratio.sh $(CACHE)/bench-agent.txt BenchmarkPinChange BenchmarkFalcoctlInstall

.PHONY: bench-extension
bench-extension: tools-test ## 2,000 Extensions on envtest: the actuator (render and all its writes) vs a plain client loop making the same writes (ratio; goal <= 1.3); heap in use.
	KUBEBUILDER_ASSETS=$$(hack/envtest-assets.sh) FALCOPS_GARDENER_CRDS=$(CACHE)/gardener-crds $(GO) test ./controllers/extension/ -run '^$$' -bench 'Benchmark(ExtensionActuator|PlainWrites)$$' -benchtime 1x -count $(BENCH_COUNT) -timeout 60m | tee $(CACHE)/bench-extension.txt
	@hack/ratio.sh $(CACHE)/bench-extension.txt BenchmarkExtensionActuator BenchmarkPlainWrites

.PHONY: bench-dashboard
bench-dashboard: ## Dashboard page view over 10,000 cached ShootRollouts in envtest: API requests per view (must be 0), time per view vs a bare cache list (ratio), slowest view (goal < 300 ms).
	KUBEBUILDER_ASSETS=$$(hack/envtest-assets.sh) $(GO) test ./dashboard/ -run '^$$' -bench '^BenchmarkDashboard$$' -benchtime 20x -count $(BENCH_COUNT) -timeout 30m | tee $(CACHE)/bench-dashboard.txt
	@hack/ratio.sh $(CACHE)/bench-dashboard.txt BenchmarkDashboard/PageView BenchmarkDashboard/CacheList

.PHONY: bench-admission
bench-admission: ## Admission webhooks: 200 concurrent requests over TLS on 127.0.0.1, real handlers vs a no-op handler (p99 ratio; goal <= 3), peak heap; a 1 MiB custom rules ConfigMap validated (goal < 1 s).
	$(GO) test ./webhooks/ -run '^$$' -bench 'Benchmark(AdmissionReal|AdmissionRealFalcoRules|AdmissionNoop|CustomRules1MiB)$$' -benchtime 5x -count $(BENCH_COUNT) | tee $(CACHE)/bench-admission.txt
	@hack/ratio.sh $(CACHE)/bench-admission.txt BenchmarkAdmissionReal BenchmarkAdmissionNoop p99-ns
	@hack/ratio.sh $(CACHE)/bench-admission.txt BenchmarkAdmissionRealFalcoRules BenchmarkAdmissionNoop p99-ns
	@awk '$$1 ~ /^BenchmarkAdmission/ {for (i=1;i<=NF;i++) if ($$i=="peak-heap-MiB" && $$(i-1) > m[$$1]) m[$$1]=$$(i-1)} END {for (b in m) printf "%s: peak heap %.0f MiB\n", b, m[b]}' $(CACHE)/bench-admission.txt
	@awk '$$1 ~ /^BenchmarkCustomRules1MiB/ {n++; if ($$3 >= 1e9) slow++} END {if (!n) {print "no BenchmarkCustomRules1MiB results"; exit 1} printf "BenchmarkCustomRules1MiB: %d of %d runs under 1 s\n", n-slow, n; exit slow > 0}' $(CACHE)/bench-admission.txt

.PHONY: bench
bench: ## Benchmarks with ratios: validation vs bare YAML decode, diff vs loading both files; rule-test throughput; growth (n vs 2n) of macro chains, list references, condition appends.
	$(GO) test ./rules/ -run '^$$' -bench 'Benchmark(Validate|Decode)Corpus$$' -benchmem -count $(BENCH_COUNT) | tee $(CACHE)/bench.txt
	@hack/ratio.sh $(CACHE)/bench.txt BenchmarkValidateCorpus BenchmarkDecodeCorpus
	$(GO) test ./rules/diff/ -run '^$$' -bench 'Benchmark(Diff|Load)LargestPair$$' -benchmem -count $(BENCH_COUNT) | tee $(CACHE)/bench-diff.txt
	@hack/ratio.sh $(CACHE)/bench-diff.txt BenchmarkDiffLargestPair BenchmarkLoadLargestPair
	$(GO) test ./rules/ruletest/ -run '^$$' -bench 'BenchmarkEvaluate$$' -benchmem -count 1
	$(GO) test ./rules/ruletest/ -run '^$$' -bench 'Benchmark(MacroChain|ListReferences|ConditionAppends)$$' -benchmem -count $(BENCH_COUNT) | tee $(CACHE)/bench-growth.txt
	@for unit in ns/op B/op; do \
	  hack/ratio.sh $(CACHE)/bench-growth.txt BenchmarkMacroChain/depth=40 BenchmarkMacroChain/depth=20 $$unit; \
	  hack/ratio.sh $(CACHE)/bench-growth.txt BenchmarkListReferences/items=100k/rules=2000 BenchmarkListReferences/items=100k/rules=1000 $$unit; \
	  hack/ratio.sh $(CACHE)/bench-growth.txt BenchmarkConditionAppends/n=40k BenchmarkConditionAppends/n=20k $$unit; \
	done
