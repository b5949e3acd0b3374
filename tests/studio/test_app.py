"""The app and its command: loopback by default, GET only, masked unless asked."""

import warnings

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.studio.app import StudioConfig, create_app
from tests.studio.conftest import KNOWN_EMAIL, KNOWN_PERSON

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(demo_serving_dir, demo_data_docs_dir):
    app = create_app(StudioConfig(serving_dir=demo_serving_dir, data_docs_dir=demo_data_docs_dir))
    with TestClient(app) as opened:
        yield opened
    app.state.reader.close()


def test_the_command_listens_on_loopback_port_8050_unless_told_otherwise():
    options = {option.name: option for option in main.commands["studio"].params}
    assert options["host"].default == "127.0.0.1"
    assert options["port"].default == 8050
    assert options["show_pii"].is_flag


def test_the_command_refuses_a_folder_without_a_serving_copy(tmp_path):
    result = CliRunner().invoke(main, ["studio", "--serving-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "no serving copy" in result.output


@pytest.mark.parametrize("path", ["/", "/audiences", "/identity", "/quality"])
def test_no_route_accepts_a_write(client, path):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, path).status_code == 405


def test_the_person_page_masks_emails_unless_show_pii(client, demo_serving_dir):
    assert KNOWN_EMAIL not in client.get(f"/person/{KNOWN_PERSON}").text
    app = create_app(StudioConfig(serving_dir=demo_serving_dir, show_pii=True))
    with TestClient(app) as shown:
        assert KNOWN_EMAIL in shown.get(f"/person/{KNOWN_PERSON}").text
    app.state.reader.close()


def test_an_unknown_person_or_segment_is_a_404(client):
    assert client.get("/person/p_nobody").status_code == 404
    assert client.get("/audiences/no_such_segment").status_code == 404


def test_plotly_js_and_the_data_docs_are_served_locally(client):
    script = client.get("/static/plotly.min.js")
    assert script.status_code == 200
    assert "plotly" in script.text[:2000].lower()
    assert client.get("/data-docs/index.html").status_code == 200
    assert 'href="/data-docs/index.html"' in client.get("/quality").text
