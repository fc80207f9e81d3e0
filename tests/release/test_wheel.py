"""The release as a container runs it: the wheel built from this tree, installed into a
fresh virtualenv outside the repository, run from another directory against a real
PostGIS. It must migrate, load the demo, serve, and serve its own map assets, API
documentation and OGC pages: nothing may be read from the source tree."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.config import to_asyncpg_url
from app.embedded_pg import ensure_database
from tests.conftest import TestServer as PgServer
from tests.conftest import _free_port

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """A virtualenv outside the repository with only the built wheel (and its
    dependencies, pinned by constraints.txt) installed: its `bordermark`."""
    root = Path(tempfile.mkdtemp(prefix="bordermark-wheel-"))
    try:
        dist = root / "dist"
        _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist),
             str(REPO), cwd=root)  # fmt: skip
        wheel = next(dist.glob("bordermark-*.whl"))
        venv = root / "venv"
        _run(sys.executable, "-m", "venv", str(venv), cwd=root)
        _run(str(venv / "bin/pip"), "install", "--quiet", "-c", str(REPO / "constraints.txt"),
             str(wheel), cwd=root)  # fmt: skip
        yield venv / "bin/bordermark"
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_the_installed_wheel_migrates_seeds_and_serves(
    installed: Path, pg_server: PgServer, tmp_path: Path
) -> None:
    url = pg_server.database("bordermark_wheel")
    await ensure_database(to_asyncpg_url(url), "bordermark_wheel")
    elsewhere = tmp_path / "srv"  # not the repository: nothing to find beside it
    elsewhere.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(elsewhere),
        "DATABASE_URL": url,
        "BORDERMARK_ENV": "production",
        "BORDERMARK_DATA_DIR": str(elsewhere / "data"),
    }
    cli = str(installed)
    _run(cli, "db", "upgrade", cwd=elsewhere, env=env)
    assert "head" in _run(cli, "db", "current", cwd=elsewhere, env=env)
    _run(cli, "seed", cwd=elsewhere, env=env)
    printed = _run(cli, "token", "create", "--role", "analyst", "--name", "wheel test",
                   cwd=elsewhere, env=env)  # fmt: skip
    token = re.findall(r"^bm_\S+$", printed, flags=re.MULTILINE)[-1]
    port = _free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 - a service for the whole test
        [cli, "serve", "--port", str(port)], cwd=elsewhere, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    basic = "Basic " + base64.b64encode(f"qgis:{token}".encode()).decode()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(300):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the installed service never became ready")
            for path, kind in [
                ("/map", "text/html"),
                ("/map/static/map.js", "text/javascript"),
                ("/map/vendor/maplibre-gl/maplibre-gl.mjs", "text/javascript"),
                ("/map/vendor/maplibre-gl/maplibre-gl.css", "text/css"),
                ("/docs", "text/html"),
                ("/docs/assets/swagger-ui-bundle.js", "text/javascript"),
            ]:
                r = await http.get(path)
                assert r.status_code == 200, (path, r.text[:300])
                assert r.headers["content-type"].startswith(kind), path
            page = await http.get(
                "/ogc/collections", headers={"Authorization": basic, "Accept": "text/html"}
            )
            assert page.status_code == 200 and "Boundary markers" in page.text
            markers = await http.get(
                "/ogc/collections/markers/items",
                params={"limit": 1},
                headers={"Authorization": basic},
            )
            assert markers.json()["numberMatched"] > 2000  # the demo, loaded by the wheel
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert b"Traceback" not in out, out.decode()[-3000:]
