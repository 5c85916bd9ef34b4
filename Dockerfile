# mediamon worker, beat and CLI image (docker-compose.yml builds it).
#
# Stage 1 builds the pipeline's native core (native/, Rust) into a wheel; stage 2 is the
# runtime, without a Rust toolchain. Both stages are on the same Debian release, so the
# wheel's glibc is the runtime's.
FROM rust:1.95-slim-trixie AS native
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY native ./native
RUN python3 -m venv /build/venv \
 && MATURIN_PEP517_ARGS=--locked /build/venv/bin/pip wheel --no-cache-dir --no-deps \
      --wheel-dir /wheels ./native

FROM python:3.11-slim-trixie
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --create-home --uid 1000 mediamon

COPY --from=native /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY pyproject.toml constraints.txt README.md ./
COPY pipelines ./pipelines
COPY workers ./workers
RUN pip install --no-cache-dir -c constraints.txt .

COPY config ./config
COPY dashboards ./dashboards
ENV MEDIAMON_CONFIG_DIR=/app/config MEDIAMON_STATE_DIR=/tmp/mediamon
USER mediamon
ENTRYPOINT ["mediamon"]
CMD ["--help"]
