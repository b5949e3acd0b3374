"""`dbt docs generate` works on a built warehouse, and the catalog documents the marts
BI tools and syncs read (every column of the contract's tables has a description)."""

import json

from orchestration.dbt_inprocess import invoke_dbt

CONTRACT_MARTS = ("identity_map", "customer_profiles")


def test_docs_generate_builds_a_catalog_of_the_marts(tmp_path, demo_warehouse_copy, monkeypatch):
    # A copy: the session's read-only connections keep dbt
    # from opening the original.
    warehouse = demo_warehouse_copy
    monkeypatch.setenv("CDP_WAREHOUSE", str(warehouse))
    target = tmp_path / "target"

    result = invoke_dbt(["docs", "generate", "--target-path", str(target)])

    assert result.success, result.exception
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    assert not catalog.get("errors")
    documented = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }
    in_catalog = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    for name in CONTRACT_MARTS:
        assert name in in_catalog, name
        undocumented = [
            column
            for column, props in documented[name]["columns"].items()
            if not props.get("description")
        ]
        assert not undocumented, (name, undocumented)
    assert (target / "index.html").exists()
