.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint fmt ui studio bench bench-studio seeds docs

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-13s %s\n", $$1, $$2}'

install: ## Install the locked environment (uv sync)
	uv sync --frozen

run: ## Build warehouse/cdp.duckdb from seeds/ through the Dagster graph (README command 1)
	uv run cdp run

test: ## Lint + dbt build + pytest, as CI does (README command 2)
	uv run scripts/check.py

test-fast: ## The same, without the slow end-to-end tests
	uv run scripts/check.py --fast

lint: ## ruff + sqlfluff
	uv run ruff check . && uv run ruff format --check . && uv run sqlfluff lint dbt_project/models dbt_project/tests dbt_project/analyses

fmt: ## Format Python (ruff) and fix SQL style (sqlfluff)
	uv run ruff format . && uv run ruff check --fix . && uv run sqlfluff fix dbt_project/models dbt_project/tests dbt_project/analyses

ui: ## Start the Dagster UI on http://localhost:3000
	uv run cdp ui

studio: ## Start CDP Studio on http://127.0.0.1:8050 (read-only, over the serving copy)
	uv run cdp studio

bench-studio: ## Studio page timings (p50/p95) on warehouse/serving
	uv run python benchmarks/studio_pages.py --serving-dir warehouse/serving

bench: ## Identity-graph benchmark (5M edges; prints times and ratios)
	uv run python benchmarks/identity_graph.py --edges 5000000

seeds: ## Regenerate the committed demo raw folder
	rm -rf seeds && uv run cdp generate seeds --persons 300 --format csv --events-format jsonl --seed 42

docs: ## dbt docs for the project (target/index.html)
	uv run dbt docs generate --project-dir dbt_project --profiles-dir .
