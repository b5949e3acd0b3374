"""`cdp-dbt-spark`: dbt's own CLI, after the SparkSession it will use exists.

dbt-spark's `session` method takes `SparkSession.builder.getOrCreate()`: creating the
session here first (configured as profiles.yml's `spark` target, with the phone UDF
registered) makes dbt use it. For dbt by hand (a Dagster run's dbt steps run in its own
process and session, dbt_inprocess.py): `CDP_TARGET=spark uv run cdp-dbt-spark build ...`.
"""

from __future__ import annotations

import sys

from orchestration.settings import Settings


def main(argv: list[str] | None = None) -> int:
    from dbt.cli.main import dbtRunner

    from orchestration.spark import get_session, stop_session

    get_session(Settings.from_env())
    try:
        result = dbtRunner().invoke(list(sys.argv[1:] if argv is None else argv))
    finally:
        stop_session()
    # dbt's exit codes: 0 success, 1 a node failed, 2 dbt itself failed.
    if result.exception is not None:
        print(result.exception, file=sys.stderr)
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
