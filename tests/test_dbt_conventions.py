"""The dbt project keeps its conventions, checked on manifest.json (dbt parse).

Layers and prefixes, a YAML beside every model, a description on every model and on
every column of a mart, every macro documented with its arguments.
"""

import json
from pathlib import Path
from typing import Any

import pytest

DISPATCH_PREFIXES = ("duckdb__", "spark__", "default__", "postgres__")


@pytest.fixture(scope="module")
def manifest(dbt_manifest: Path) -> dict[str, Any]:
    return json.loads(dbt_manifest.read_text())


def project_models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "cdp"
    ]


def test_models_are_named_for_their_layer_and_source(manifest):
    wrong = []
    for node in project_models(manifest):
        folders = Path(node["original_file_path"]).parts[1:-1]  # below models/
        name = node["name"]
        layer = folders[0]
        if layer == "staging":
            source = folders[1]
            prefix = f"base_{source}__" if folders[-1] == "base" else f"stg_{source}__"
            ok = name.startswith(prefix)
        elif layer == "intermediate":
            ok = name.startswith("int_")
        elif layer == "marts":
            ok = not name.startswith(("stg_", "int_", "base_"))
        else:
            ok = False
        if not ok:
            wrong.append(node["original_file_path"])
    assert wrong == []


def test_every_model_has_its_own_yaml_beside_it_and_a_description(manifest):
    missing = []
    for node in project_models(manifest):
        sql_path = Path(node["original_file_path"])
        expected = str(sql_path.with_suffix(".yml"))
        patch = (node.get("patch_path") or "").split("://")[-1]
        if patch != expected or not node["description"].strip():
            missing.append(f"{sql_path} (yaml: {patch or 'none'})")
    assert missing == []


def test_every_mart_column_is_described_and_typed(manifest):
    gaps = []
    for node in project_models(manifest):
        if not node["original_file_path"].startswith("models/marts/"):
            continue
        if not node["columns"]:
            gaps.append(f"{node['name']}: no columns documented")
        for column in node["columns"].values():
            if not column["description"].strip() or not column.get("data_type"):
                gaps.append(f"{node['name']}.{column['name']}")
        if not node["config"]["contract"]["enforced"]:
            gaps.append(f"{node['name']}: contract not enforced")
    assert gaps == []


def test_every_macro_is_documented_with_its_arguments(manifest):
    undocumented = []
    for macro in manifest["macros"].values():
        if macro["package_name"] != "cdp" or macro["name"].startswith(DISPATCH_PREFIXES):
            continue
        if not macro["description"].strip():
            undocumented.append(macro["name"])
            continue
        documented = {argument["name"] for argument in macro["arguments"]}
        # Every argument of the signature is documented (dbt records the names it parsed).
        declared = set(
            macro.get("macro_sql", "").split("(", 1)[1].split(")", 1)[0].replace(" ", "").split(",")
        ) - {""}
        declared = {name.split("=")[0] for name in declared}
        if declared - documented:
            undocumented.append(f"{macro['name']} (arguments {sorted(declared - documented)})")
    assert undocumented == []


def test_every_source_table_of_the_contract_is_declared(manifest):
    from orchestration.ingestion.contract import load_contract

    declared = {
        source["name"]
        for source in manifest["sources"].values()
        if source["package_name"] == "cdp" and source["source_name"] not in {"ingestion", "ml"}
    }
    assert declared == set(load_contract().tables)
