from __future__ import annotations

from tests.conftest import Tokens, bearer


async def test_unknown_route_is_a_problem(client, tokens: Tokens) -> None:
    r = await client.get("/api/v1/nothing-here", headers=bearer(tokens.admin))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert set(r.json()) >= {"type", "title", "status", "detail"}


async def test_wrong_method_is_a_problem(client, tokens: Tokens) -> None:
    r = await client.delete("/api/v1/borders", headers=bearer(tokens.admin))
    assert r.status_code == 405
    assert r.headers["content-type"] == "application/problem+json"


async def test_malformed_json_is_a_422_problem(client, tokens: Tokens) -> None:
    r = await client.post(
        "/api/v1/markers",
        content=b"{not json",
        headers={**bearer(tokens.admin), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"]


async def test_unexpected_errors_leak_no_trace(settings) -> None:
    import httpx

    from app.main import create_app

    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "secret" not in r.text and "Traceback" not in r.text


async def test_database_errors_are_503_only_when_the_database_is_out_of_reach(
    settings, engine
) -> None:  # type: ignore[no-untyped-def]
    """Real driver errors, raised through the app: a statement past its time limit is a 503
    `timeout` problem; a broken statement (a bug) stays a 500 without internals."""
    import httpx
    from sqlalchemy import text

    from app.main import create_app

    app = create_app(settings)

    @app.get("/slow")
    async def slow() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SET statement_timeout = 50"))
            await conn.execute(text("SELECT pg_sleep(2)"))

    @app.get("/broken")
    async def broken() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table_here"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        slow_r = await c.get("/slow")
        broken_r = await c.get("/broken")
    assert slow_r.status_code == 503 and slow_r.json()["type"] == "/problems/timeout"
    assert "retry-after" in slow_r.headers
    assert broken_r.status_code == 500 and "no_such_table" not in broken_r.text


async def test_nul_in_the_query_is_a_422_problem_before_any_route(client, tokens: Tokens) -> None:
    """PostgreSQL's text cannot hold a NUL, so no parameter accepts one; the fields that do
    are named."""
    r = await client.get(
        "/api/v1/incidents?status=open&tag=ok&q=r%C3%A0o%00&tag=x%00",
        headers=bearer(tokens.admin),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["q", "tag"]
    assert "x-request-id" in r.headers  # answered inside the request middleware
    fine = await client.get("/api/v1/incidents?q=%2500", headers=bearer(tokens.admin))
    assert fine.status_code == 200  # a percent sign and two zeros are text like any other
