# mediamon worker, beat and CLI image (docker-compose.yml builds it).
#
# Stage 1 builds both wheels: the pipeline's native core (native/, Rust) and mediamon
# itself, which carries the default config, the index templates and the dashboards as
# package data. Stage 2 is the runtime, without a Rust toolchain: it installs the two
# wheels against constraints.txt, as `make check-fresh` does in CI. Both stages are on the
# same Debian release, so the native wheel's glibc is the runtime's.
FROM rust:1.95-slim-trixie AS wheels
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY native ./native
RUN python3 -m venv /build/venv \
 && MATURIN_PEP517_ARGS=--locked /build/venv/bin/pip wheel --no-cache-dir --no-deps \
      --wheel-dir /wheels ./native
COPY pyproject.toml README.md ./
COPY pipelines ./pipelines
COPY workers ./workers
COPY config ./config
COPY dashboards ./dashboards
RUN /build/venv/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# uid 1001: the Elasticsearch image runs as 1000 and owns the node's key, which this
# image must not be able to read from the shared certificate volume.
RUN useradd --create-home --uid 1001 mediamon
COPY --from=wheels /wheels /wheels
COPY constraints.txt /wheels/
RUN pip install --no-cache-dir -c /wheels/constraints.txt /wheels/*.whl && rm -rf /wheels
USER mediamon
WORKDIR /home/mediamon
# Config, templates and dashboards come from the package; mount a folder and set
# MEDIAMON_CONFIG_DIR (or MEDIAMON_DASHBOARDS_DIR) to use your own.
ENTRYPOINT ["mediamon"]
CMD ["--help"]
