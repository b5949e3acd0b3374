"""The suite files: schema, loading and validation (no Great Expectations import).

A suite file `suites/<layer>/<name>.yml` names the asset(s) it guards, how to read the
data to validate from the warehouse (a table or a query in SQL that DuckDB and Spark both
run, sampled when large) and a list of
expectations: a GX expectation type with its kwargs, or a `band` against the previous
run's observed values. Each expectation becomes one Dagster asset check on each guarded
asset, with its own severity (warn | error) and blocking flag.

An asset key may end in `*` (`segments/*`): the suite then guards every asset of the
Dagster definitions under that prefix, one target each, and none when there is none yet
(assets other branches or a user's configuration add, such as one asset per segment).

Everything that can be checked without data is checked here, when the Dagster definitions
load, and a mistake raises `SuiteFileError` naming the file. The expectation kwargs are
checked by GX itself when the suite is built (tests/quality builds every suite).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SUITES_DIR = Path(__file__).with_name("suites")

# Dagster check names: the expectation `name` is the check name on every guarded asset.
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
ASSET_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*(/\*)?$")
# The last part of a key pattern: any one key part (segments/* guards segments/<name>).
WILDCARD = "*"
# Filled in for every asset: the asset key's first and last parts (the warehouse schema and
# table of raw and dbt assets) and the schema the raw tables live in (CDP_RAW_SCHEMA).
BUILTIN_PARAMETERS = frozenset({"schema", "name", "raw_schema"})
# GX's own syntax for a value supplied at validation time (expectation_parameters).
PARAMETER_KEY = "$PARAMETER"
# Template values are pasted into SQL: only identifier-like text is allowed.
_SQL_SAFE = re.compile(r"^[A-Za-z0-9_.]+$")


class SuiteFileError(ValueError):
    """A suite file that cannot be used; the message starts with the file's path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadSpec(_Strict):
    """Where the rows to validate come from: a table (optionally some columns and a
    filter) or a query, rendered with `{{ parameter }}` placeholders."""

    table: str | None = None
    columns: list[str] | None = None
    where: str | None = None
    query: str | None = None
    # A repeatable sample of this many rows (smallest row hash) when the relation is
    # larger; null = every row.
    # Aggregates that must be exact belong in a `query` (computed by the warehouse).
    sample_rows: int | None = Field(default=100_000, ge=1)

    @model_validator(mode="after")
    def _one_source(self) -> ReadSpec:
        if (self.table is None) == (self.query is None):
            raise ValueError("read: give exactly one of `table` or `query`")
        if self.query is not None and (self.columns or self.where):
            raise ValueError("read: `columns` and `where` go with `table`, not `query`")
        return self


class BandSpec(_Strict):
    """Compare a column with the value this check observed in an earlier run (read back
    from quality.gx_validation_results): fails when value / previous leaves the band."""

    column: str
    # One value per key (e.g. per segment); without it the column must have one row.
    by: str | None = None
    min_ratio: float | None = Field(default=None, ge=0)
    max_ratio: float | None = Field(default=None, ge=0)
    # previous_run: the latest earlier validation; previous_passing_run: the latest that
    # passed (a drop keeps failing until someone looks, instead of becoming the baseline).
    baseline: Literal["previous_run", "previous_passing_run"] = "previous_run"
    # A previous value below this is not judged against: small numbers swing (a segment
    # of 3 members that empties overnight is not a collapse).
    min_previous: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _some_bound(self) -> BandSpec:
        if self.min_ratio is None and self.max_ratio is None:
            raise ValueError("band: give `min_ratio`, `max_ratio` or both")
        if (
            self.min_ratio is not None
            and self.max_ratio is not None
            and self.min_ratio > self.max_ratio
        ):
            raise ValueError("band: `min_ratio` is larger than `max_ratio`")
        return self


class ExpectationSpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    # A GX expectation type in snake_case (expect_column_values_to_match_regex) ...
    type: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    # ... or a band against the previous run.
    band: BandSpec | None = None
    severity: Literal["warn", "error"] = "warn"
    # Blocking: a failure stops every asset downstream of the guarded one in the run.
    blocking: bool = False
    description: str

    @model_validator(mode="after")
    def _consistent(self) -> ExpectationSpec:
        if (self.type is None) == (self.band is None):
            raise ValueError(f"expectation {self.name}: give exactly one of `type` or `band`")
        if self.band is not None and self.kwargs:
            raise ValueError(f"expectation {self.name}: a `band` takes no `kwargs`")
        if self.blocking and self.severity != "error":
            raise ValueError(
                f"expectation {self.name}: `blocking: true` needs `severity: error` "
                "(Dagster blocks only on failed ERROR checks)"
            )
        return self


class SuiteSpec(_Strict):
    description: str
    # One guarded asset ...
    asset: str | None = None
    # ... or several: asset key -> parameter overrides for that asset.
    assets: dict[str, dict[str, Any] | None] | None = None
    # Assets the read uses besides the guarded one (lineage in the UI).
    additional_deps: list[str] = Field(default_factory=list)
    # Defaults for `{{ name }}` in the read and `{$PARAMETER: name}` in kwargs.
    parameters: dict[str, Any] = Field(default_factory=dict)
    # Parameters read from the warehouse: the first column of the query, as a list.
    parameter_queries: dict[str, str] = Field(default_factory=dict)
    read: ReadSpec
    expectations: list[ExpectationSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_target(self) -> SuiteSpec:
        if (self.asset is None) == (self.assets is None):
            raise ValueError("give exactly one of `asset` or `assets`")
        if self.assets is not None and not self.assets:
            raise ValueError("`assets` is empty")
        return self


@dataclass(frozen=True)
class Target:
    """One guarded asset of a suite with its resolved parameters."""

    asset_key: tuple[str, ...]
    parameters: Mapping[str, Any]

    @property
    def asset_key_string(self) -> str:
        return "/".join(self.asset_key)

    @property
    def is_pattern(self) -> bool:
        return self.asset_key[-1] == WILDCARD

    def matches(self, key: tuple[str, ...]) -> bool:
        """An asset key this (pattern) target guards: same prefix, one part more."""
        if not self.is_pattern:
            return key == self.asset_key
        return len(key) == len(self.asset_key) and key[:-1] == self.asset_key[:-1]


@dataclass(frozen=True)
class Suite:
    """A validated suite file."""

    id: str  # path below suites/ without .yml: raw/latest_load
    path: Path
    spec: SuiteSpec
    targets: tuple[Target, ...]

    @property
    def layer(self) -> str:
        return self.id.split("/")[0]

    @property
    def op_name(self) -> str:
        """The Dagster op that runs this suite: gx_raw__latest_load."""
        return "gx_" + self.id.replace("/", "__")

    def gx_suite_name(self, target: Target) -> str:
        """GX suite name (Data Docs page title): the suite id, plus the asset when the
        file guards several assets (a list, or a key pattern)."""
        base = self.id.replace("/", ".")
        if self.spec.asset is not None and not self.spec.asset.endswith(WILDCARD):
            return base
        return f"{base}.{'.'.join(target.asset_key)}"

    @property
    def expectations(self) -> list[ExpectationSpec]:
        return self.spec.expectations


@functools.cache
def gx_expectation_types() -> frozenset[str]:
    """The core expectation types of the installed GX, read from its module names so that
    GX (slow to import) is not imported to load the definitions."""
    spec = importlib.util.find_spec("great_expectations")
    if spec is None or spec.origin is None:
        raise RuntimeError("great_expectations is not installed")
    core = Path(spec.origin).parent / "expectations" / "core"
    return frozenset(path.stem for path in core.glob("expect_*.py"))


class Sql(str):
    """SQL text a template helper produced (`ident`, `hours_between`): pasted as it is."""


# Functions the suites' SQL templates may call; the read fills them in per engine
# (orchestration/quality/frames.py, `sql_helpers`), so one template runs on DuckDB and on
# Spark. See docs/data-quality.md, "Writing the read".
TEMPLATE_HELPERS = frozenset({"columns", "ident", "hours_between", "array_head"})


def _sql_value(value: Any) -> Any:
    """Every `{{ ... }}` output: helper SQL as it is, anything else identifier-like."""
    if isinstance(value, Sql):
        return value
    text = str(value)
    if not _SQL_SAFE.match(text):
        raise ValueError(
            f"template value {text!r} is not identifier-like "
            "(letters, digits, _ and . only) and cannot be pasted into SQL"
        )
    return text


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        finalize=_sql_value,
        autoescape=False,
        keep_trailing_newline=True,
    )


def template_names(text: str) -> set[str]:
    """The parameters a SQL template uses (helpers and loop variables left out)."""
    parsed = _environment().parse(text)
    return set(jinja2.meta.find_undeclared_variables(parsed)) - TEMPLATE_HELPERS


def render_template(
    text: str, values: Mapping[str, Any], helpers: Mapping[str, Any] | None = None
) -> str:
    """Render a suite's SQL template (Jinja: `{{ name }}`, loops over `columns(...)`);
    every value pasted must be identifier-like (it goes into SQL)."""
    try:
        return _environment().from_string(text).render({**(helpers or {}), **values})
    except jinja2.UndefinedError as error:
        raise KeyError(str(error)) from error


def parameter_references(value: Any) -> set[str]:
    """Names used as `{$PARAMETER: name}` anywhere inside kwargs."""
    if isinstance(value, Mapping):
        if set(value) == {PARAMETER_KEY}:
            return {str(value[PARAMETER_KEY])}
        return set().union(*(parameter_references(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(parameter_references(item) for item in value))
    return set()


def _format_validation_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {location}: {message}")
    return "\n".join(lines)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _targets(spec: SuiteSpec, fail: Any) -> tuple[Target, ...]:
    raw_targets = {spec.asset: {}} if spec.asset is not None else dict(spec.assets or {})
    targets = []
    for key, overrides in raw_targets.items():
        assert key is not None
        if not ASSET_KEY_PATTERN.match(key) or key == WILDCARD:
            fail(
                f"asset key {key!r} is not of the form layer/name (letters, digits, _; "
                "or layer/* for every asset under layer/)"
            )
        unknown = set(overrides or {}) - set(spec.parameters)
        if unknown:
            name = sorted(unknown)[0]
            fail(
                f"asset {key}: parameter {name!r} is not declared under `parameters`"
                + _suggest(name, spec.parameters)
            )
        parameters = {**spec.parameters, **(overrides or {})}
        targets.append(Target(asset_key=tuple(key.split("/")), parameters=parameters))
    return tuple(targets)


def _check_references(spec: SuiteSpec, targets: tuple[Target, ...], fail: Any) -> None:
    declared = set(spec.parameters) | set(spec.parameter_queries)
    clash = set(spec.parameters) & set(spec.parameter_queries) | (declared & BUILTIN_PARAMETERS)
    if clash:
        fail(f"parameter {sorted(clash)[0]!r} is declared twice (or shadows a built-in)")
    read = spec.read
    sql_texts = [read.table or "", read.where or "", read.query or ""]
    sql_texts += list(spec.parameter_queries.values())
    for text in sql_texts:
        try:
            names = template_names(text)
        except jinja2.TemplateSyntaxError as error:
            fail(f"SQL template line {error.lineno}: {error.message}")
            names = set()
        for name in names:
            if name not in BUILTIN_PARAMETERS and name not in spec.parameters:
                fail(
                    f"`{{{{ {name} }}}}` is not a parameter; known: "
                    f"{', '.join(sorted(BUILTIN_PARAMETERS | set(spec.parameters)))}"
                    + _suggest(name, BUILTIN_PARAMETERS | set(spec.parameters))
                )
    types = gx_expectation_types()
    for expectation in spec.expectations:
        if expectation.type is not None and expectation.type not in types:
            fail(
                f"expectation {expectation.name}: unknown GX expectation type "
                f"{expectation.type!r}" + _suggest(expectation.type, types)
            )
        for name in parameter_references(expectation.kwargs):
            if name not in declared:
                fail(
                    f"expectation {expectation.name}: {{$PARAMETER: {name}}} is not declared "
                    "under `parameters` or `parameter_queries`" + _suggest(name, declared)
                )
            for target in targets:
                if name in spec.parameters and target.parameters.get(name) is None:
                    fail(
                        f"expectation {expectation.name}: parameter {name!r} has no value "
                        f"for asset {target.asset_key_string}"
                    )
    names = [expectation.name for expectation in spec.expectations]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        fail(f"expectation name {sorted(duplicates)[0]!r} is used twice")


def load_suite(path: Path, suites_dir: Path = SUITES_DIR) -> Suite:
    """Parse and validate one suite file."""

    def fail(message: str) -> None:
        raise SuiteFileError(f"{path}: {message}")

    relative = path.relative_to(suites_dir).with_suffix("")
    if len(relative.parts) != 2:
        fail("suite files live in suites/<layer>/<name>.yml")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise SuiteFileError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        fail("a suite file is a YAML mapping (description, asset(s), read, expectations)")
    try:
        spec = SuiteSpec.model_validate(document)
    except ValidationError as error:
        raise SuiteFileError(f"{path}:\n{_format_validation_error(error)}") from error
    targets = _targets(spec, fail)
    _check_references(spec, targets, fail)
    suite_id = relative.as_posix()
    if not re.match(NAME_PATTERN, suite_id.replace("/", "_")):
        fail("layer and file name: lower-case letters, digits and _ only")
    return Suite(id=suite_id, path=path, spec=spec, targets=targets)


def _check_unique_checks(suites: Iterable[Suite]) -> None:
    owners: dict[tuple[tuple[str, ...], str], Path] = {}
    for suite in suites:
        for target in suite.targets:
            for expectation in suite.expectations:
                key = (target.asset_key, expectation.name)
                if key in owners:
                    raise SuiteFileError(
                        f"{suite.path}: check {expectation.name} on "
                        f"{target.asset_key_string} is also defined in {owners[key]}"
                    )
                owners[key] = suite.path


def load_suites(suites_dir: Path = SUITES_DIR) -> list[Suite]:
    """Every suite file, validated; check names must be unique per asset across files."""
    suites = [load_suite(path, suites_dir) for path in sorted(suites_dir.glob("*/*.yml"))]
    stray = sorted(
        path
        for path in suites_dir.rglob("*")
        if path.is_file() and path.suffix in {".yaml", ".yml"} and path.parent.parent != suites_dir
    )
    stray += sorted(suites_dir.glob("*/*.yaml"))
    if stray:
        raise SuiteFileError(f"{stray[0]}: suite files are suites/<layer>/<name>.yml")
    _check_unique_checks(suites)
    return suites


def resolve_guarded_assets(suites: Iterable[Suite], known: Iterable[str]) -> list[Suite]:
    """The suites with their targets in the Dagster definitions: a key pattern becomes
    one target per matching asset (a suite whose patterns match nothing is left out: its
    assets do not exist yet). A plain key, or an additional dep, that is not there is an
    error naming the file: Dagster itself accepts a check on a missing asset silently."""
    known_keys = set(known)
    known_tuples = sorted(tuple(key.split("/")) for key in known_keys)
    resolved: list[Suite] = []
    for suite in suites:
        literal = [t.asset_key_string for t in suite.targets if not t.is_pattern]
        for key in literal + suite.spec.additional_deps:
            if key not in known_keys:
                raise SuiteFileError(
                    f"{suite.path}: asset {key} is not in the Dagster definitions"
                    + _suggest(key, known_keys)
                )
        # A key named outright keeps its own parameters over a pattern that matches it.
        named = {t.asset_key for t in suite.targets if not t.is_pattern}
        targets: list[Target] = []
        for target in suite.targets:
            if not target.is_pattern:
                targets.append(target)
                continue
            targets += [
                Target(asset_key=key, parameters=target.parameters)
                for key in known_tuples
                if target.matches(key) and key not in named
            ]
        if targets:
            resolved.append(replace(suite, targets=tuple(targets)))
    _check_unique_checks(resolved)
    return resolved
