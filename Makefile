# Set-up and daily commands. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test contract bench image soak install lint typecheck layers unit migrate system-deps format clean

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

install: .venv/.installed

run: install ## the service on the embedded default (SQLite, local key, development issuer)
	$(UV) run mfa-service serve --host $(HOST) --port $(PORT)

test: install system-deps lint typecheck layers ## lint, types, layer contracts and every test
	$(UV) run pytest

BASE_REF ?=

bench: install ## the benchmark on the production stack (Postgres, Vault, uvicorn, wrk); bench/results/; BASE_REF=<git ref> compares with that commit
	$(UV) run python -m bench.run $(if $(BASE_REF),--base-ref $(BASE_REF)) $(BENCH_ARGS)

image: ## the image with podman on a Debian base built from Debian's packages: IMAGE=localhost/mfa-service:latest
	deploy/image/build.sh

DURATION ?= 90s
soak: install system-deps ## replicas behind HAProxy under load and faults; soak/results/ (make soak DURATION=10m)
	$(UV) run python -m soak.run --duration $(DURATION) $(SOAK_ARGS)

BASE_URL ?=
TOKEN_COMMAND ?= $(UV) run mfa-service dev-token --sub {sub}
JWKS_URL ?=

contract: install ## the HTTP contract suite against a deployment: make contract BASE_URL=… [TOKEN_COMMAND='cmd {sub}'] [JWKS_URL=…]
	@test -n "$(BASE_URL)" || { echo "usage: make contract BASE_URL=https://… [TOKEN_COMMAND='cmd {sub}'] [JWKS_URL=…]" >&2; exit 2; }
	$(UV) run pytest tests/contract/http --base-url "$(BASE_URL)" --token-command "$(TOKEN_COMMAND)" $(if $(JWKS_URL),--jwks-url "$(JWKS_URL)")

system-deps:
	@scripts/system-deps.sh

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

typecheck: install
	$(UV) run mypy

layers: install
	$(UV) run lint-imports

migrate: install
	$(UV) run mfa-service migrate

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
