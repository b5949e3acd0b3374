"""The studio in a real browser: Debian's Chromium, headless, driven by Playwright.

The app runs on a random loopback port in a thread, over the demo build's serving copy.
The test searches a known person of the demo, opens the 360° page, checks that the graph
and the timeline render the nodes, edges and rows the data functions give, opens a
segment page and checks the chart's points; screenshots go to test-artefacts/studio/
(CDP_TEST_ARTEFACTS_DIR), the README's two among them. No request leaves loopback.
"""

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from orchestration.settings import PROJECT_ROOT
from orchestration.studio import data
from orchestration.studio.app import StudioConfig, create_app
from tests.studio.conftest import KNOWN_EMAIL, KNOWN_PERSON

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEGMENT = "churn_risk"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def artefacts() -> Path:
    folder = Path(os.environ.get("CDP_TEST_ARTEFACTS_DIR", PROJECT_ROOT / "test-artefacts"))
    folder = folder / "studio"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def studio_url(demo_serving_dir: Path, demo_data_docs_dir: Path) -> Iterator[str]:
    app = create_app(StudioConfig(serving_dir=demo_serving_dir, data_docs_dir=demo_data_docs_dir))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the studio did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.reader.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, studio_url: str):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        # A fresh --user-data-dir: Playwright passes it for a persistent context.
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        opened = context.pages[0] if context.pages else context.new_page()
        opened.requested = []
        opened.on("request", lambda request: opened.requested.append(request.url))
        yield opened
        context.close()


def test_search_then_the_person_page_draws_the_graph_and_the_timeline(
    page, studio_url, reader, artefacts
):
    page.goto(studio_url + "/")
    page.fill("#search-input", KNOWN_EMAIL)
    page.press("#search-input", "Enter")
    page.wait_for_selector("#search-results")
    links = page.locator("#search-results a.person-link")
    assert links.all_inner_texts() == [KNOWN_PERSON]
    assert KNOWN_EMAIL not in page.inner_text("#search-results")  # masked by default
    page.screenshot(path=str(artefacts / "search.png"), full_page=True)

    links.first.click()
    page.wait_for_selector("#identity-graph")
    assert page.url == f"{studio_url}/person/{KNOWN_PERSON}"
    graph = data.identity_graph(reader, KNOWN_PERSON)
    assert page.locator("#identity-graph g.node").count() == len(graph.nodes)
    assert page.locator("#identity-graph g.node.outside").count() == sum(
        node["is_outside"] for node in graph.nodes
    )
    expected_types = sorted({node["type"] for node in graph.nodes})
    drawn_types = page.eval_on_selector_all(
        "#identity-graph g.node", "nodes => [...new Set(nodes.map(n => n.dataset.type))].sort()"
    )
    assert drawn_types == expected_types
    assert page.locator("#identity-graph g.edge.applied").count() == len(graph.edges)
    dashed = page.locator("#identity-graph g.edge.refused path[stroke-dasharray]")
    assert dashed.count() == len(graph.refused) > 0
    assert page.locator("#identity-graph g.edge.refused text").first.text_content().startswith("✗")
    links = page.locator("#graph-links tbody tr")
    assert links.count() == len(graph.edges) + len(graph.refused)
    assert page.locator("#graph-links tbody tr.refused td.fail").all_inner_texts() == [
        edge["blocked_by"] for edge in graph.refused
    ]
    rows = page.locator("#timeline tbody tr")
    assert rows.count() == len(data.timeline(reader, KNOWN_PERSON)) > 0
    assert page.locator("#consent tbody tr").count() == len(data.CONSENT_PURPOSES)
    page.screenshot(path=str(artefacts / "person.png"), full_page=True)


def test_the_audiences_page_and_a_segment_chart_with_one_point_per_run(
    page, studio_url, reader, artefacts
):
    page.goto(studio_url + "/audiences")
    assert page.locator("#segments tbody tr").count() == len(data.audiences(reader))
    page.screenshot(path=str(artefacts / "audiences.png"), full_page=True)

    page.click(f"#segments a.segment-link >> text={SEGMENT}")
    page.wait_for_selector("#size-chart[data-rendered=true]")
    sizes = data.segment_sizes(reader, SEGMENT)
    points = page.locator("#size-chart .scatterlayer path.point")
    assert points.count() == len(sizes) > 0
    plotted = page.evaluate("document.getElementById('size-chart').data[0].y")
    assert plotted == [row["member_count"] for row in sizes]
    page.screenshot(path=str(artefacts / "segment.png"), full_page=True)


def test_the_other_pages_render_and_nothing_is_fetched_from_outside(page, studio_url, artefacts):
    for path, selector, name in [
        ("/identity", "#per-type-chart[data-rendered=true]", "identity.png"),
        ("/quality", "#gx-results", "quality.png"),
    ]:
        page.goto(studio_url + path)
        page.wait_for_selector(selector)
        page.screenshot(path=str(artefacts / name), full_page=True)
    assert page.requested
    assert all(url.startswith(studio_url) for url in page.requested), page.requested
