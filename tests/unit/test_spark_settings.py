"""The embedded Spark session is configured once in Python and once in profiles.yml: the
two must agree, or dbt and the Python steps would open different metastores."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.spark import spark_conf

ENV_VAR = re.compile(r"\{\{\s*env_var\('(\w+)',\s*'([^']*)'\)\s*\}\}")


def _spark_target(env: dict[str, str]) -> dict:
    text = (PROJECT_ROOT / "profiles.yml").read_text()
    rendered = ENV_VAR.sub(lambda match: env.get(match[1], match[2]), text)
    return yaml.safe_load(rendered)["cdp"]["outputs"]["spark"]


def test_profiles_spark_target_sets_the_session_conf_orchestration_spark_sets(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("CDP_SPARK_MASTER", raising=False)
    monkeypatch.delenv("CDP_SPARK_SHUFFLE_PARTITIONS", raising=False)
    target = _spark_target({"CDP_SPARK_DIR": str(tmp_path)})
    assert target["method"] == "session"
    conf = spark_conf(tmp_path)
    profile_conf = {key: str(value) for key, value in target["server_side_parameters"].items()}
    assert profile_conf == {key: conf[key] for key in profile_conf}
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.master"] == "local[2]"


def test_spark_dir_defaults_beside_the_warehouse_and_reaches_dbt_through_the_env() -> None:
    settings = Settings.from_env({"CDP_WAREHOUSE": "/data/w/cdp.duckdb", "CDP_TARGET": "spark"})
    assert settings.spark_dir == Path("/data/w/spark")
    assert settings.engine == "spark"
    assert settings.as_env()["CDP_SPARK_DIR"] == "/data/w/spark"
    assert settings.as_env()["CDP_TARGET"] == "spark"
    pinned = Settings.from_env({"CDP_SPARK_DIR": "/elsewhere"})
    assert pinned.spark_dir == Path("/elsewhere")
    assert pinned.engine == "duckdb"
