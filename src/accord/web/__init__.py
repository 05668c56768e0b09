"""The web interface under /ui/: server-rendered pages for the people of the node.

Pages (each needs a signed-in user of this node's nation; see `accord.web.pages`):

| path | what |
|---|---|
| `/login`, `/logout` | sign-in form (CSRF-protected) and sign-out |
| `/language` | POST: the language chosen (en, ko, ja), kept in the session (`accord.i18n`) |
| `/network?at=&focus=` | the agreement network on a date, with a timeline (`/network/figure`: the figure alone) |
| `/agreements?at=&party=&kind=&status=` | the agreements on a date, filtered |
| `/agreements/{id}?at=` | one agreement: parties, scope, equivalence table, lifecycle, renewal deadline |
| `/agreements/{id}/events/new`, `/notes/new`, `/consents/new` | the legal role records an event, a note, a consent |
| `/items`, `/items/{id}?at=` | the items the user may see (R9); one item with its release panel |
| `/publish` | STIX JSON or a simple indicator, a marking, a preview, a publish |
| `/whatif` | a hypothetical agreement or consent and what it would change on a date |
| `/changes?since=` | notices, suspensions and terminations of agreements since a date, and what each did to releases |
| `/orders`, `/orders/{id}`, `/ledger` | logistics orders, one order, balances and ageing |
| `/orders/new`, `/orders/{id}/{step}` | raise an order, take a step (logistics officers, as themselves) |
| `/orders/{id}/documents/{sha256}` | an attached document, as a download |
| `/ledger/{balances,ageing,report}.csv`, `/ledger/report?year=` | the ledger as CSV; the annual report |
| `/audit`, `/audit/disclosures?item=` | the chain's verification and records; who has an item |
| `/audit/releases?q=&party=&from=&to=&format=` | auditors: releases by item name, party and period (CSV, printable) |

Templates and static files ship in the package; nothing is fetched from the network at run time.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from accord.errors import AccordError
from accord.node import Node
from accord.web import (
    agreement_list,
    agreements,
    audit,
    auth,
    changes,
    items,
    ledger,
    network,
    order_form,
    orders,
    publish,
    recording,
    reports,
    whatif,
)
from accord.web.errorpages import on_accord_error, on_http_error
from accord.web.headers import SecurityHeaders
from accord.web.pages import Web

STATIC = Path(__file__).parent / "static"


def create_web(node: Node) -> Starlette:
    """Returns the web interface app for `node`, mounted at /ui by `accord.app.create_app`."""
    get, both = ["GET"], ["GET", "POST"]
    routes = [
        Route("/", auth.home, methods=get),
        Route("/login", auth.login, methods=both),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/language", auth.choose_language, methods=["POST"]),
        Route("/network", network.network_page, methods=get),
        Route("/network/figure", network.network_figure, methods=get),
        Route("/agreements", agreement_list.agreements_page, methods=get),
        Route("/agreements/{agreement_id}", agreements.agreement_page, methods=get),
        Route("/agreements/{agreement_id}/events/new", recording.event_page, methods=both),
        Route("/notes/new", recording.note_page, methods=both),
        Route("/consents/new", recording.consent_page, methods=both),
        Route("/items", items.items_page, methods=get),
        Route("/items/{item_id}", items.item_page, methods=get),
        Route("/publish", publish.publish_page, methods=both),
        Route("/whatif", whatif.whatif_page, methods=both),
        Route("/changes", changes.changes_page, methods=get),
        Route("/orders", ledger.orders_page, methods=get),
        Route("/orders/new", order_form.new_order_page, methods=both),
        Route("/orders/{order_id}", orders.order_page, methods=get),
        Route("/orders/{order_id}/documents/{sha256}", orders.document_download, methods=get),
        Route("/orders/{order_id}/{step}", orders.step_action, methods=["POST"]),
        Route("/ledger", ledger.ledger_page, methods=get),
        Route("/ledger/{report}.csv", ledger.ledger_csv, methods=get),
        Route("/ledger/report", ledger.annual_page, methods=get),
        Route("/audit", audit.audit_page, methods=get),
        Route("/audit/disclosures", audit.disclosures_page, methods=get),
        Route("/audit/releases", reports.releases_page, methods=get),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            AccordError: on_accord_error,
            HTTPException: on_http_error,
        },
    )
    app.state.web = Web(node)
    return app
