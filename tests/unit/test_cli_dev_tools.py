"""`cdp generate` lives in the development package cdp_dev, which the wheel leaves out."""

import sys

from click.testing import CliRunner

from orchestration.cli import main


def test_cdp_generate_without_the_dev_package_says_how_to_get_it(monkeypatch, tmp_path):
    # None in sys.modules makes `import cdp_dev` fail as it does in a wheel install.
    monkeypatch.setitem(sys.modules, "cdp_dev", None)
    monkeypatch.delitem(sys.modules, "cdp_dev.generate", raising=False)
    result = CliRunner().invoke(main, ["generate", str(tmp_path / "raw")])
    assert result.exit_code == 1
    assert "development package cdp_dev" in result.output
    assert not (tmp_path / "raw").exists()


def test_the_wheel_ships_only_the_runtime_package():
    import tomllib

    from orchestration.settings import PROJECT_ROOT

    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["orchestration"]


def test_cdp_run_refuses_a_selection_it_cannot_parse(tmp_path):
    """`cdp run --select` is parsed before the run lock is taken or anything is read."""
    result = CliRunner().invoke(
        main, ["run", "--warehouse", str(tmp_path / "cdp.duckdb"), "--select", 'key:"unclosed']
    )
    assert result.exit_code == 2, result.output
    assert "Invalid value for --select" in result.output
    assert not (tmp_path / "cdp.duckdb").exists()
    assert not (tmp_path / "cdp.duckdb.lock").exists()
