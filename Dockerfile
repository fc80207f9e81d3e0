# Multi-stage image of the service. Untested here (no Docker engine on these machines);
# kept correct by reading. The database comes from DATABASE_URL (see docker-compose.yml).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY seed ./seed
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bordermark
COPY --from=build /install /usr/local
WORKDIR /srv/bordermark
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY seed ./seed
USER bordermark
ENV HOST=0.0.0.0 PORT=8000 BORDERMARK_ENV=production
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz'); sys.exit(0)"
# Migrate, then serve. Load the demo data once with: docker compose run app bordermark seed
CMD ["sh", "-c", "bordermark db upgrade && bordermark serve"]
