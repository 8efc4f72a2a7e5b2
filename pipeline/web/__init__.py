"""The reader: a Datasette plugin (entry point `datasette` in pyproject.toml) that serves
/search, /articles/ID and /health beside Datasette's own table and SQL views.

    make browse [DB=data/scrape.db] [PORT=8001] [HOST=127.0.0.1]

Its templates are in templates/ (Datasette finds them beside this module); every value goes
through Jinja's autoescaping, and nothing is loaded from another site.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from .views import article_page, health_page, search_page


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/$", search_page), (r"^/search$", search_page),
            (r"^/articles/(?P<id>[0-9]{1,18})$", article_page), (r"^/health$", health_page)]
