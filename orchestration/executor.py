"""The executor of every Dagster-launched run: in-process (DuckDB takes one writer at a
time, so steps run one after another in one process), holding the warehouse's run lock
(run_lock.py) for the whole run.

This is where runs from the UI, a schedule or a sensor take the lock: the executor runs
once per run, in the run's own process, before the first step and until the last. `cdp
run` executes the job in-process (`execute_in_process` replaces the job's executor), so
pipeline.py takes the same lock around it. A sensor's or schedule's evaluation only reads
(the raw folder's listing, the clock); the run it requests takes the lock when it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEvent
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.base import Executor

from orchestration.run_lock import run_lock


class LockedExecutor(Executor):
    """Another executor's steps, run while this process holds the warehouse's run lock."""

    def __init__(self, inner: Executor, warehouse: Path, timeout: float) -> None:
        self.inner = inner
        self.warehouse = warehouse
        self.timeout = timeout

    @property
    def retries(self) -> RetryMode:
        return self.inner.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self.inner.step_dependency_config

    def execute(
        self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan
    ) -> Iterator[DagsterEvent]:
        run_id = plan_context.dagster_run.run_id
        # A RunLockTimeout raised here fails the run with its message (the holder named).
        with run_lock(
            self.warehouse, timeout=self.timeout, purpose=f"dagster run {run_id}"
        ) as acquired:
            if acquired.took_over is not None:
                plan_context.log.warning(
                    f"run lock {acquired.path}: took over from a holder that died "
                    f"({acquired.took_over.describe()})"
                )
            yield from self.inner.execute(plan_context, execution_plan)


def locked_in_process_executor(warehouse: Path, timeout: float) -> dg.ExecutorDefinition:
    """`dg.in_process_executor` (same configuration) holding the run lock of `warehouse`."""

    @dg.executor(
        name="cdp_locked_in_process",
        config_schema=dg.in_process_executor.config_schema,
    )
    def executor(init_context: dg.InitExecutorContext) -> Executor:
        inner = dg.in_process_executor.executor_creation_fn(init_context)  # type: ignore[misc]
        return LockedExecutor(inner, warehouse, timeout)

    return executor
