"""One exception tree for domain errors, one status table, RFC 9457 problem+json out.

Services raise `DomainError` subclasses; the handlers registered once in `create_app`
turn them, FastAPI's validation errors and any unexpected exception into
`application/problem+json`. No stack trace ever leaves the process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("bordermark.errors")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    slug = "error"
    title = "Error"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class BadRequest(DomainError):
    """For the few places a standard asks 400 rather than 422 (OGC API's crs parameters)."""

    slug, title = "bad-request", "Bad request"


class NotFound(DomainError):
    slug, title = "not-found", "Not found"


class InvalidInput(DomainError):
    slug, title = "invalid-input", "Invalid input"

    def __init__(
        self, detail: str, *, field: str | None = None, errors: list[FieldError] | None = None
    ) -> None:
        errs = list(errors or [])
        if field is not None:
            errs.append(FieldError(field, detail))
        super().__init__(detail, extra={"errors": [e.as_dict() for e in errs]})


class Conflict(DomainError):
    slug, title = "conflict", "Conflict"


class PreconditionFailed(DomainError):
    slug, title = "precondition-failed", "Precondition failed"


class PreconditionRequired(DomainError):
    slug, title = "precondition-required", "Precondition required"


class Unauthenticated(DomainError):
    slug, title = "unauthenticated", "Authentication required"


class Forbidden(DomainError):
    slug, title = "forbidden", "Forbidden"


class PayloadTooLarge(DomainError):
    slug, title = "payload-too-large", "Payload too large"


class TooManyRequests(DomainError):
    slug, title = "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    slug, title = "unavailable", "Service unavailable"

    def __init__(self, detail: str, *, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


STATUS_BY_ERROR: dict[type[DomainError], int] = {
    BadRequest: 400,
    NotFound: 404,
    InvalidInput: 422,
    Conflict: 409,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    Unauthenticated: 401,
    Forbidden: 403,
    PayloadTooLarge: 413,
    TooManyRequests: 429,
    ServiceUnavailable: 503,
}


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem_response(
    status: int,
    *,
    slug: str,
    title: str,
    detail: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


# OGC API Features answers an invalid parameter value with 400 (Part 1,
# /req/core/query-param-invalid; Part 3 for filters), where the domain API says 422.
OGC_PREFIX = "/ogc"


def invalid_input_status(path: str) -> int:
    return 400 if path.startswith(OGC_PREFIX) else 422


def _field_name(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the source ("query", "path", "body"); keep the field path after it.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"query", "path", "body", "header", "cookie"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def _challenges(request: Request) -> list[str]:
    """Both schemes, so that GDAL and curl (which answer a challenge) and a browser (which
    then asks for a user name and password: the token goes in as the password) can sign
    in; only Bearer to a client that sent a Bearer token, so that the map page's calls
    with an expired token get no browser prompt."""
    sent = request.headers.get("authorization", "").split(" ", 1)[0].lower()
    if sent == "bearer":
        return ['Bearer realm="bordermark", error="invalid_token"']
    return ['Bearer realm="bordermark"', 'Basic realm="bordermark", charset="UTF-8"']


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    if status == 422:
        status = invalid_input_status(request.url.path)
    headers = None
    if isinstance(exc, TooManyRequests | ServiceUnavailable) and exc.retry_after:
        headers = {"Retry-After": exc.retry_after}
    response = problem_response(
        status, slug=exc.slug, title=exc.title, detail=exc.detail, extra=exc.extra, headers=headers
    )
    if status == 401:
        # One header a scheme: browsers (Chromium) act on a Basic challenge of its own.
        for challenge in _challenges(request):
            response.raw_headers.append((b"www-authenticate", challenge.encode()))
    return response


def _field_error(request: Request, error: dict[str, Any]) -> FieldError:
    """One of FastAPI's validation errors as a field and a message a user can act on."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":  # its loc ends in a character offset, not a field
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return FieldError("body", f"the body is not valid JSON: {reason} at character {loc[-1]}")
    sent_type = request.headers.get("content-type", "")
    if (
        loc == ("body",)
        and kind in {"dict_type", "model_attributes_type"}
        and ("json" not in sent_type)
    ):
        return FieldError(
            "body",
            "the body must be a JSON object sent with `Content-Type: application/json`"
            + (f" (this one was sent as {sent_type!r})" if sent_type else " (none was given)"),
        )
    return FieldError(_field_name(loc), str(error.get("msg", "invalid")))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(request, dict(e)).as_dict() for e in exc.errors()]
    fields = ", ".join(e["field"] for e in errors)
    detail = f"The request has invalid fields: {fields}"
    if len(errors) == 1 and errors[0]["field"] == "body":
        detail = errors[0]["message"][0].upper() + errors[0]["message"][1:]
    return problem_response(
        invalid_input_status(request.url.path),
        slug="invalid-input",
        title="Invalid input",
        detail=detail,
        extra={"errors": errors},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    return problem_response(
        exc.status_code,
        slug=phrase.lower().replace(" ", "-"),
        title=phrase,
        detail=detail,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        500,
        slug="internal-error",
        title="Internal server error",
        detail="The server could not complete the request. It has been logged.",
    )


# asyncpg's signs that the connection or the server is gone (not that the SQL was wrong):
# class 08 (connection), class 57 (operator intervention: shutdown, cannot connect now),
# and client-side state errors left by a connection that broke mid-operation.
_UNREACHABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    TimeoutError,
)


# A value PostgreSQL or the driver cannot take (class 22: out of range, NUL in text, bad
# encoding; or asyncpg's own argument check): the caller's input, so a 422, not a 500.
_INVALID_DATA = (asyncpg.exceptions.DataError, asyncpg.exceptions._base.DataError)
INVALID_DATA_DETAIL = (
    "A value is out of range or holds characters that cannot be stored (such as NUL)."
)


def invalid_data(exc: BaseException) -> bool:
    return any(isinstance(e, _INVALID_DATA) for e in exception_chain(exc))


def database_unreachable(exc: BaseException) -> bool:
    """Whether an error means the database is out of reach (503, retry) rather than a bug."""
    if invalid_data(exc):  # asyncpg's argument DataError is also an InterfaceError
        return False
    if isinstance(exc, sa_exc.TimeoutError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return any(isinstance(e, _UNREACHABLE) for e in exception_chain(exc))


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The error and its causes (SQLAlchemy wraps the driver's error)."""
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and all(node is not seen for seen in chain):
        chain.append(node)
        node = node.__cause__ or node.__context__
    return chain


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, unexpected_error)


def check_version(current: int, if_match: int | None, *, what: str, required: bool) -> None:
    """Optimistic concurrency: an edit names the version it read (If-Match). Missing when
    required is 428; another version is 412 (someone changed it since)."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                f'send If-Match with the ETag of {what} (now "{current}") to edit it'
            )
        return
    if if_match != current:
        raise PreconditionFailed(
            f"{what} is at version {current}, not {if_match}; fetch it again and reapply the change"
        )


def install_database_error_handlers(app: FastAPI, *, retry_after_s: int) -> None:
    """Driver errors: bad values are 422, a database out of reach 503 (retry), the rest 500."""

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        if invalid_data(exc):
            return problem_response(
                invalid_input_status(request.url.path),
                slug="invalid-input",
                title="Invalid input",
                detail=INVALID_DATA_DETAIL,
            )
        if not database_unreachable(exc):
            return await unexpected_error(request, exc)
        timed_out = any(
            isinstance(e, asyncpg.exceptions.QueryCanceledError) for e in exception_chain(exc)
        )
        # No pooled connection in time: the database is fine, the service's connections
        # are all in use (say so: "cannot be reached" sent operators to the database).
        busy = isinstance(exc, sa_exc.TimeoutError)
        slug, detail = "unavailable", "The database cannot be reached right now; retry shortly."
        if timed_out:
            slug = "timeout"
            detail = "The request ran past its database time limit; narrow it or retry later."
        elif busy:
            slug = "busy"
            detail = "All of the service's database connections are in use; retry shortly."
        return problem_response(
            503,
            slug=slug,
            title="Service unavailable",
            detail=detail,
            headers={"Retry-After": str(retry_after_s)},
        )

    for error in (
        sa_exc.DBAPIError,  # connection lost, server shutting down, ...; others stay 500
        # The same errors from the hot reads that use asyncpg directly (db.fetch_row).
        asyncpg.PostgresError,
        asyncpg.exceptions.InterfaceError,
        asyncpg.exceptions.InternalClientError,
        sa_exc.TimeoutError,  # no pooled connection within db_pool_timeout_s
        ConnectionError,
        TimeoutError,
    ):
        app.add_exception_handler(error, database_error)
