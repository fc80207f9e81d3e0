# The service's image. There is no Docker engine on the machines this is developed on, so
# the image itself is not built in CI; what it runs is: tests/release/test_wheel.py builds
# the same wheel, installs it into a fresh virtualenv outside the repository and, from
# another directory, migrates, loads the demo and serves /map, /docs and /ogc from it.
# Base images are pinned to exact versions; pin them by digest in your registry too.

# 1. The browser libraries (MapLibre for /map, Swagger UI for /docs), from npm, pinned by
#    web/package-lock.json, copied into the package tree by tools/vendor-web.
FROM node:20.18.1-bookworm-slim AS web
WORKDIR /src
COPY web/package.json web/package-lock.json web/
RUN cd web && npm ci --no-audit --no-fund --loglevel=error
COPY tools/vendor-web tools/
RUN mkdir -p app/web && tools/vendor-web

# 2. The wheel: code, migrations, templates, the demo data and those libraries.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY seed ./seed
COPY --from=web /src/app/web/vendor ./app/web/vendor
RUN pip wheel --no-cache-dir --no-deps -w /dist .

# 3. The service: the wheel and its dependencies pinned by constraints.txt, pg_dump and
#    pg_restore 15 for `bordermark backup`, a non-root user and a data volume.
FROM python:3.11.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
COPY constraints.txt /tmp/constraints.txt
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl && rm -rf /tmp/dist
RUN useradd --system --uid 10001 --home-dir /var/lib/bordermark bordermark \
 && mkdir -p /var/lib/bordermark && chown bordermark /var/lib/bordermark
# Attachments and exports' scratch files live here: mount a volume so that re-creating
# the container loses nothing.
ENV BORDERMARK_ENV=production BORDERMARK_DATA_DIR=/var/lib/bordermark HOST=0.0.0.0 PORT=8000
VOLUME /var/lib/bordermark
WORKDIR /var/lib/bordermark
USER bordermark
EXPOSE 8000
HEALTHCHECK --start-period=60s --interval=15s --timeout=5s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"
# Migrations run as the database owner before this starts (docker-compose.yml's
# `migrate`); the service itself logs in as a member of bordermark_app.
CMD ["bordermark", "serve"]
