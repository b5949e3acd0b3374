"""The studio's web app: Starlette routes over data.py, server-rendered with Jinja2.

Every route is a GET that reads the serving copy; there is no route that writes, and the
copy is opened read-only. Charts are drawn in the browser by plotly.js, served from the
file the `plotly` PyPI package ships (plotly/package_data/plotly.min.js): nothing is
fetched from a CDN. The identity graph is an inline SVG laid out by graph.py.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly
import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from orchestration.activation.segment_files import SEGMENTS_DIR
from orchestration.quality.suite_files import SUITES_DIR
from orchestration.serving import ServingReader
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.studio import charts, data, graph

HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@dataclass(frozen=True)
class StudioConfig:
    serving_dir: Path
    show_pii: bool = False
    data_docs_dir: Path | None = None
    segments_dir: Path = SEGMENTS_DIR


def identity_bounds() -> dict[str, float]:
    """The thresholds the identity checks use: the GX suite's bounds on identity_health
    and the dbt vars of the hub guard and the dbt test's cluster-size limit."""
    suite = yaml.safe_load((SUITES_DIR / "marts" / "identity_health.yml").read_text())
    variables = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    parameters = suite["parameters"]
    return {
        "largest_person_identifiers": parameters["max_person_identifiers"],
        "email": parameters["max_emails_per_person"],
        "phone": parameters["max_phones_per_person"],
        "contact_id": parameters["max_contact_ids_per_person"],
        "anonymous_id": parameters["max_anonymous_ids_per_person"],
        "device_id": parameters["max_device_ids_per_person"],
        "customer_id": variables["cdp_identity_limits"]["customer_id"],
        "hub_threshold": variables["cdp_identity_hub_threshold"],
        "max_cluster_size": variables["cdp_identity_max_cluster_size"],
    }


def _display(value: Any) -> str:
    """How a cell reads: timestamps to the second, money to cents, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, decimal.Decimal | float):
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def create_app(config: StudioConfig) -> Starlette:
    reader = ServingReader(config.serving_dir)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["show"] = _display
    templates.env.globals["show_pii"] = config.show_pii
    bounds = identity_bounds()

    def page(request: Request, template: str, **context: Any) -> Response:
        return templates.TemplateResponse(request, template, context)

    async def search_page(request: Request) -> Response:
        text = request.query_params.get("q", "")
        hits = data.search(reader, text, show_pii=config.show_pii) if text else []
        return page(request, "search.html", q=text, hits=hits, searched=bool(text.strip()))

    async def person_page(request: Request) -> Response:
        person_id = request.path_params["person_id"]
        person = data.person_page(reader, person_id, show_pii=config.show_pii)
        if person is None:
            raise HTTPException(404, f"no person {person_id} (never resolved, or erased)")
        return page(request, "person.html", person=person, drawn=graph.layout(person["graph"]))

    async def audiences_page(request: Request) -> Response:
        return page(
            request,
            "audiences.html",
            segments=data.audiences(reader),
            overlap=data.overlap(reader),
        )

    async def segment_page(request: Request) -> Response:
        name = request.path_params["name"]
        sizes = data.segment_sizes(reader, name)
        definition = data.segment_definition(config.segments_dir, name)
        if not sizes and definition is None:
            raise HTTPException(404, f"no segment {name}")
        return page(
            request,
            "segment.html",
            name=name,
            sizes=sizes,
            definition=definition,
            syncs=data.syncs(reader, name),
            charts={"size": charts.segment_size_chart(sizes)},
            members=data.segment_members(reader, name),
        )

    async def identity_page(request: Request) -> Response:
        health = data.identity_health(reader, bounds)
        drawn = {
            "clusters": charts.cluster_size_chart(health),
            "per_type": charts.identifiers_per_type_chart(health),
            "merges": charts.merges_chart(health),
        }
        return page(request, "identity.html", health=health, charts=drawn)

    async def quality_page(request: Request) -> Response:
        has_docs = bool(config.data_docs_dir and (config.data_docs_dir / "index.html").is_file())
        return page(request, "quality.html", quality=data.data_quality(reader), has_docs=has_docs)

    async def plotly_js(request: Request) -> Response:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    async def not_found(request: Request, exc: HTTPException) -> Response:
        return HTMLResponse(
            templates.get_template("error.html").render(request=request, detail=exc.detail),
            status_code=exc.status_code,
        )

    routes = [
        Route("/", search_page),
        Route("/person/{person_id}", person_page),
        Route("/audiences", audiences_page),
        Route("/audiences/{name}", segment_page),
        Route("/identity", identity_page),
        Route("/quality", quality_page),
        Route("/static/plotly.min.js", plotly_js),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    if config.data_docs_dir is not None and config.data_docs_dir.is_dir():
        routes.append(
            Mount("/data-docs", StaticFiles(directory=str(config.data_docs_dir), html=True))
        )
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    app.state.reader = reader
    return app
