"""One error map: every domain error carries its exit code and its HTTP status, and TAXII, the
management API and the web pages answer each one with that same status (accord.errors)."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from accord import errors as e
from accord.api import errors as api_errors
from accord.logistics.rules import LOGISTICS_SCOPE, WORKFLOW, OrderRefused, Problem
from accord.store.engine import translate_errors
from accord.taxii import errors as taxii_errors
from accord.web import errorpages

EXPECTED = {
    e.AccordError: (1, 500),
    e.InputError: (2, 400),
    e.NotFound: (2, 404),
    e.ImportRejected: (2, 422),
    e.NotAcceptable: (2, 406),
    e.UnsupportedMedia: (2, 415),
    e.TooLarge: (2, 413),
    e.Unprocessable: (2, 422),
    e.Unauthenticated: (1, 401),
    e.Forbidden: (1, 403),
    e.Refused: (1, 422),
    e.TooManyRequests: (1, 429),
    e.Throttled: (1, 429),
    e.StoreError: (1, 503),
    e.StoreConflict: (1, 409),
}


def _instance(cls: type[e.AccordError]) -> e.AccordError:
    if cls is e.ImportRejected:
        return e.ImportRejected(["f.yaml:3: agreements[0].parties: too few"])
    if issubclass(cls, e.TooManyRequests):
        return cls("slow down", 7)
    return cls("what went wrong")


def test_every_error_class_is_listed() -> None:
    classes = {
        c
        for _n, c in inspect.getmembers(e, inspect.isclass)
        if issubclass(c, e.AccordError) and c.__module__ == e.__name__
    }
    assert classes == set(EXPECTED)


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_each_class_carries_its_exit_code_and_status(cls: type[e.AccordError]) -> None:
    exc = _instance(cls)
    assert (exc.exit_code, exc.http_status) == EXPECTED[cls]
    assert exc.title


def _run(coro: Coroutine[Any, Any, Response]) -> Response:
    """Runs a renderer on a loop of its own thread (a browser suite may hold this thread's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _request() -> Request:
    app = Starlette()
    return Request({"type": "http", "method": "GET", "path": "/x", "headers": [], "app": app})


@pytest.mark.parametrize("cls", list(EXPECTED), ids=lambda c: c.__name__)
def test_every_surface_answers_with_the_classs_status(cls: type[e.AccordError]) -> None:
    """The renderers only format: TAXII's error resource, the API's JSON, the web page."""
    exc = _instance(cls)
    statuses = [
        _run(render(_request(), exc)).status_code
        for render in (
            taxii_errors.on_accord_error,
            api_errors.on_accord_error,
            errorpages.on_accord_error,
        )
    ]
    assert statuses == [exc.http_status] * 3
    if isinstance(exc, e.TooManyRequests):
        for render in (taxii_errors.on_accord_error, api_errors.on_accord_error):
            assert _run(render(_request(), exc)).headers["Retry-After"] == "7"


def test_an_order_step_its_state_does_not_allow_is_a_conflict_everywhere() -> None:
    exc = OrderRefused([Problem(WORKFLOW, "the order is rejected: it cannot be delivered")])
    assert exc.http_status == 409
    for render in (
        taxii_errors.on_accord_error,
        api_errors.on_accord_error,
        errorpages.on_accord_error,
    ):
        assert _run(render(_request(), exc)).status_code == 409
    ruled = OrderRefused([Problem(LOGISTICS_SCOPE, "ammunition is outside the agreement")])
    assert ruled.http_status == 422


def test_a_constraint_violation_is_a_conflict_and_an_outage_is_unavailable() -> None:
    """A write the store refuses (409) and a store that cannot be reached (503) are two
    different answers: a client retries the one against the new state, the other later."""
    with pytest.raises(e.StoreConflict) as conflict, translate_errors():
        raise sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed"))
    assert conflict.value.http_status == 409
    with pytest.raises(e.StoreError) as outage, translate_errors():
        raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("unable to open"))
    assert not isinstance(outage.value, e.StoreConflict)
    assert outage.value.http_status == 503
