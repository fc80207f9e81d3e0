"""The image and compose files, read as Docker would read them (there is no Docker engine
on these machines; test_wheel.py runs what the image runs). Each check is one of the
ways the earlier image would have failed."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def test_every_copied_path_exists_in_the_build_context() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    for line in DOCKERFILE.splitlines():
        if not line.startswith("COPY ") or "--from=" in line:
            continue
        *sources, _ = line.split()[1:]
        for source in sources:
            assert (REPO / source).exists(), source
            assert source.rstrip("/") not in ignored, source


def test_the_context_leaves_out_local_state() -> None:
    ignored = set((REPO / ".dockerignore").read_text(encoding="utf-8").split())
    # a 700 MB virtualenv, node_modules, the mode-700 database cluster
    assert {".venv", ".data", "web/node_modules", ".git"} <= ignored


def test_the_image_is_pinned_runs_unprivileged_and_can_back_up() -> None:
    for image in re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE):
        assert re.search(r":\d+\.\d+\.\d+-", image), f"{image}: pin an exact version"
    assert "constraints.txt" in DOCKERFILE  # dependencies pinned as in CI
    assert "postgresql-client-15" in DOCKERFILE  # pg_dump for `bordermark backup`
    assert re.search(r"^USER bordermark$", DOCKERFILE, flags=re.MULTILINE)
    assert "VOLUME /var/lib/bordermark" in DOCKERFILE
    assert "BORDERMARK_DATA_DIR=/var/lib/bordermark" in DOCKERFILE
    assert "--start-period=" in DOCKERFILE
    assert "tools/vendor-web" in DOCKERFILE  # MapLibre and Swagger UI inside the wheel


def test_compose_migrates_as_owner_and_serves_as_the_app_role() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    migrate, app = services["migrate"], services["app"]
    assert "db upgrade" in " ".join(migrate["command"])
    login = re.search(r"login-role (\w+)", " ".join(migrate["command"]))
    assert login is not None
    assert app["environment"]["DATABASE_URL"].startswith(f"postgresql://{login.group(1)}:")
    assert not migrate["environment"]["DATABASE_URL"].startswith(f"postgresql://{login.group(1)}")
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert any(v.endswith(":/var/lib/bordermark") for v in app["volumes"])
    assert "BORDERMARK_PUBLIC_BASE_URL" in app["environment"]
