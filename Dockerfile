# mediamon worker, beat and CLI image (docker-compose.yml builds it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --create-home --uid 1000 mediamon

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
