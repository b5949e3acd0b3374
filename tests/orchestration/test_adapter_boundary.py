"""Python touches the warehouse through one adapter (orchestration/warehouse/): no other
module imports duckdb, and no other module holds SQL, but for a short allow-list.

Imports are found with `ast` anywhere in a module (inside functions and TYPE_CHECKING
blocks too). SQL is found heuristically: a string literal (an f-string's literal parts
joined) that reads like a statement: `select ... from`, `create table/view/schema`,
`insert into`, `delete from`, `update ... set`, `alter table`, `describe`. Docstrings
are prose and not looked at.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

PACKAGES = ("orchestration", "cdp_dev")

# Where `import duckdb` belongs.
DUCKDB_ALLOWED = (
    "orchestration/warehouse/",  # the adapter: both engines, the sync state, file typing
    "orchestration/dbt_udfs.py",  # the DuckDB UDF plugin dbt-duckdb loads
    "orchestration/serving.py",  # the serving copy: a second DuckDB file for BI tools
)

# Where SQL text belongs besides those modules, and why.
SQL_ALLOWED = (
    *DUCKDB_ALLOWED,
    # The segment compiler and the generated rules model write dbt models: SQL files
    # that dbt runs, not queries Python sends to the warehouse.
    "orchestration/activation/compiler.py",
    "orchestration/activation/generated.py",
    # The GX suites declare their reads in SQL (the suite files' language); frames.py
    # fills those templates and hands the SELECT to Warehouse.read_query/dataframe.
    "orchestration/quality/frames.py",
    # The studio's pages query the published, read-only serving copy (as a BI tool
    # does), through serving.ServingReader: reads of the output contract, never the
    # warehouse the pipeline writes.
    "orchestration/studio/data.py",
)

SQL_PATTERN = re.compile(
    r"\bselect\b[\s\S]*\bfrom\b"
    r"|\bcreate\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view|schema)\b"
    r"|\binsert\s+into\b"
    r"|\bdelete\s+from\b"
    r"|\bupdate\s+[\w.{}\"]+\s+set\b"
    r"|\balter\s+table\b"
    r"|\bdescribe\s+(select|table)\b",
    re.IGNORECASE,
)


def modules(root: Path) -> Iterator[tuple[str, ast.Module]]:
    """(path relative to root, parsed module) of every Python file of the packages."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield path.relative_to(root).as_posix(), ast.parse(path.read_text())


def imports_duckdb(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "duckdb" or name.startswith("duckdb.") for name in names):
            return True
    return False


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants of the module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def sql_strings(tree: ast.Module) -> list[str]:
    """The string literals that read like SQL statements."""
    skip = _docstrings(tree)
    inside_fstrings = set()
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                is_text = isinstance(value, ast.Constant) and isinstance(value.value, str)
                parts.append(value.value if is_text else "x")
            texts.append("".join(parts))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in inside_fstrings
        ):
            texts.append(node.value)
    return [text for text in texts if SQL_PATTERN.search(text)]


def allowed(path: str, allow: tuple[str, ...]) -> bool:
    return any(path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in allow)


def duckdb_outside_adapter(root: Path) -> list[str]:
    return [
        path
        for path, tree in modules(root)
        if imports_duckdb(tree) and not allowed(path, DUCKDB_ALLOWED)
    ]


def sql_outside_adapter(root: Path) -> dict[str, list[str]]:
    found = {}
    for path, tree in modules(root):
        if not allowed(path, SQL_ALLOWED) and (texts := sql_strings(tree)):
            found[path] = [" ".join(text.split())[:80] for text in texts]
    return found


def _fake_project(root: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (root / package).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checks_see_duckdb_and_sql_outside_the_adapter(tmp_path):
    root = _fake_project(
        tmp_path,
        {
            "orchestration/a.py": "def f():\n    import duckdb\n",
            "orchestration/b.py": "from duckdb import DuckDBPyConnection\n",
            "cdp_dev/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    import duckdb.typing\n",
            "orchestration/d.py": 'def f(t):\n    return f"select * from {t}"\n',
            "orchestration/e.py": 'Q = ("insert into x "\n     "values (1)")\n',
            "orchestration/f.py": 'def f(con):\n    con.execute("delete from s.t where a = ?")\n',
            "orchestration/warehouse/g.py": 'import duckdb\nQ = "select 1 from t"\n',
            "orchestration/h.py": '"""Select the rows from the file."""\nX = "from select"\n',
        },
    )
    assert sorted(duckdb_outside_adapter(root)) == [
        "cdp_dev/c.py",
        "orchestration/a.py",
        "orchestration/b.py",
    ]
    assert sorted(sql_outside_adapter(root)) == [
        "orchestration/d.py",
        "orchestration/e.py",
        "orchestration/f.py",
    ]


def test_only_the_adapter_the_udf_plugin_and_the_serving_copy_import_duckdb():
    assert duckdb_outside_adapter(PROJECT_ROOT) == []


def test_no_sql_outside_the_adapter_but_the_allowed_modules():
    assert sql_outside_adapter(PROJECT_ROOT) == {}


def test_every_allowed_module_exists():
    for entry in SQL_ALLOWED:
        assert (PROJECT_ROOT / entry).exists(), entry
