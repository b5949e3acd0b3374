"""The code location's entry point (`[tool.dagster] module_name`; `dagster dev`,
`cdp ui`, `dagster definitions validate`, a deployment).

Importing this module does nothing: Dagster calls `defs` when it loads the location, and
only then is the process prepared (settings exported for dbt, the dbt manifest parsed in
development) and the definitions built from the environment's settings.
"""

import dagster as dg

from orchestration.environment import prepare_process
from orchestration.settings import Settings


@dg.definitions
def defs() -> dg.Definitions:
    settings = Settings.from_env()
    prepare_process(settings, only_in_dev=True)
    # Imported once the manifest exists: the dbt assets are made from it.
    from orchestration.definitions import build_definitions

    return build_definitions(settings)
