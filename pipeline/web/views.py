"""The reader's pages: Datasette route handlers that run pipeline/web/reads.py's queries on
Datasette's read-only connections and render the templates in pipeline/web/templates/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from datasette.utils.asgi import Request, Response

from . import reads
from .render import body_html, markdown_parser, snippet_html

if TYPE_CHECKING:  # Datasette imports this plugin while datasette.app is being imported
    from datasette.app import Datasette
    from datasette.database import Database

TEMPLATES = {"search": "scrape_search.html", "article": "scrape_article.html",
             "health": "scrape_health.html", "missing": "scrape_missing.html"}


def _database(datasette: Datasette) -> Database:
    """The archive: the first database Datasette serves (`make browse DB=...` serves one)."""
    return datasette.get_database()


async def _page(datasette: Datasette, request: Request, name: str, context: dict[str, Any],
                status: int = 200) -> Response:
    db = _database(datasette)
    context = {**context, "db_name": db.name, "db_url": datasette.urls.database(db.name)}
    html = await datasette.render_template(TEMPLATES[name], context, request=request)
    return Response.html(html, status=status)


async def search_page(datasette: Datasette, request: Request) -> Response:
    """/search (and /): the form, then a page of hits, or the latest articles without words."""
    form = reads.SearchForm.parse(request.args)
    db = _database(datasette)
    results = await db.execute_fn(lambda conn: reads.run_search(conn, form))
    facets = await db.execute_fn(reads.facets)
    hits = [{"hit": hit, "snippet": snippet_html(hit.snippet),
             "source": results.sources.get(hit.id)} for hit in results.hits]
    pages = {}
    if form.page > 1:
        pages["previous"] = "?" + urlencode(form.link(page=str(form.page - 1)))
    if results.more and form.page < reads.MAX_PAGE:
        pages["next"] = "?" + urlencode(form.link(page=str(form.page + 1)))
    return await _page(datasette, request, "search", {
        "form": form, "results": results, "hits": hits, "facets": facets, "pages": pages,
        "first": (form.page - 1) * reads.PAGE_SIZE + 1,
        "copies_link": "?" + urlencode(form.link(copies=None if form.all_copies else "all",
                                                 page=None)),
    }, status=400 if results.error else 200)


async def article_page(datasette: Datasette, request: Request) -> Response:
    """/articles/ID: the reading view of one stored article."""
    article_id = int(request.url_vars["id"])
    db = _database(datasette)
    found = await db.execute_fn(lambda conn: reads.article(conn, article_id))
    if found is None:
        return await _page(datasette, request, "missing", {"article_id": article_id},
                           status=404)
    body = body_html(markdown_parser(), found["markdown"], found["text"])
    return await _page(datasette, request, "article", {
        "a": found, "body": body,
        "json_url": datasette.urls.row(db.name, "articles", str(article_id), format="json"),
        "row_url": datasette.urls.row(db.name, "articles", str(article_id)),
    })


async def health_page(datasette: Datasette, request: Request) -> Response:
    """/health: how the runs went, per source, and the runs table."""
    found = await _database(datasette).execute_fn(reads.health)
    return await _page(datasette, request, "health", found)
