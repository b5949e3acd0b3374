"""CDP Studio: a local, read-only web app over the serving copy (`cdp studio`).

data.py holds the queries behind each page (pure functions of a `ServingReader`, unit
tested); graph.py lays out a person's identity graph; app.py is the Starlette app (routes
and Jinja2 templates in templates/). docs/studio.md describes the pages.
"""
