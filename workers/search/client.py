"""One client factory for Elasticsearch 8/9 and OpenSearch 2/3.

``connect()`` asks the engine ``GET /`` which distribution it is, then builds the
official client for it. Callers talk to ``SearchClient``: plain-dict request bodies that
both engines accept, so nothing above this module knows which engine it has.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from workers.settings import Settings, redact

# Statuses worth retrying: the engine is overloaded or a proxy in front of it is.
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})


class SearchError(Exception):
    """The engine answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None):
        super().__init__(redact(message))  # an engine URL in it may hold a password
        self.status = status
        self.body = body

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT_STATUSES


class SearchUnavailable(SearchError):
    """No answer at all (connection refused, timeout): always worth a retry."""


@dataclass(frozen=True)
class Engine:
    distribution: str  # "opensearch" or "elasticsearch"
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}"


def _auth_headers(settings: Settings) -> dict[str, str]:
    if settings.search_api_key is not None:
        return {"Authorization": "ApiKey " + settings.search_api_key.get_secret_value()}
    if settings.search_username:
        password = settings.search_password.get_secret_value() if settings.search_password else ""
        token = base64.b64encode(f"{settings.search_username}:{password}".encode()).decode()
        return {"Authorization": "Basic " + token}
    return {}


def _verify(settings: Settings) -> ssl.SSLContext | bool:
    if not settings.search_verify_certs:
        return False
    if settings.search_ca_certs:
        return ssl.create_default_context(cafile=str(settings.search_ca_certs))
    return True


def detect_engine(settings: Settings) -> Engine:
    """``GET /`` on the first URL that answers; raise SearchUnavailable if none does."""
    errors = []
    for url in settings.search_hosts:
        try:
            response = httpx.get(
                url.rstrip("/") + "/",
                headers=_auth_headers(settings),
                verify=_verify(settings),
                timeout=min(settings.search_timeout, 10.0),
            )
        except httpx.HTTPError as exc:
            errors.append(f"{redact(url)}: {exc}")
            continue
        if response.status_code in (401, 403):
            raise SearchError(
                f"{redact(url)} refused the credentials (HTTP {response.status_code}); "
                "check MEDIAMON_SEARCH_USERNAME/PASSWORD or MEDIAMON_SEARCH_API_KEY",
                status=response.status_code,
            )
        if response.status_code != 200:
            errors.append(f"{redact(url)}: HTTP {response.status_code}")
            continue
        version = response.json().get("version", {})
        distribution = version.get("distribution") or "elasticsearch"
        return Engine(distribution=distribution, version=str(version.get("number", "0")))
    raise SearchUnavailable("no search engine answered: " + "; ".join(errors))


class SearchClient:
    """The official client of the detected engine, behind a few engine-neutral calls."""

    def __init__(self, engine: Engine, raw: Any, settings: Settings):
        self.engine = engine
        self.raw = raw
        self.settings = settings

    def index_name(self, name: str) -> str:
        return self.settings.index(name)

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        ignore: Iterable[int] = (),
    ) -> dict[str, Any]:
        """One REST call. Returns the JSON body; statuses in ``ignore`` return ``{}``."""
        params = {k: _param(v) for k, v in (params or {}).items()}
        try:
            if self.engine.distribution == "opensearch":
                result = self.raw.transport.perform_request(
                    method, path, params=params or None, body=body
                )
            else:
                headers = {"accept": "application/json"}
                if body is not None:
                    headers["content-type"] = "application/json"
                result = self.raw.perform_request(
                    method, path, params=params or None, headers=headers, body=body
                ).body
        except Exception as exc:
            error = _translate(exc)
            if error.status in set(ignore):
                return {}
            raise error from exc
        return result if isinstance(result, dict) else {"result": result}

    def exists(self, path: str) -> bool:
        """``HEAD path``: whether an index, alias or template exists."""
        result = self.request("HEAD", path, ignore=(404,))
        return bool(result.get("result"))

    def bulk(self, operations: list[dict[str, Any]], *, refresh: bool = False) -> dict[str, Any]:
        """The bulk API: action and source lines alternating, as plain dicts."""
        kwargs: dict[str, Any] = {"refresh": "true"} if refresh else {}
        try:
            if self.engine.distribution == "opensearch":
                return dict(self.raw.bulk(body=operations, params=kwargs or None))
            return dict(self.raw.bulk(operations=operations, **kwargs).body)
        except Exception as exc:
            raise _translate(exc) from exc

    def close(self) -> None:
        self.raw.close()


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _translate(exc: Exception) -> SearchError:
    """Both clients' exceptions as SearchError / SearchUnavailable."""
    import elastic_transport
    import opensearchpy.exceptions as os_exc

    if isinstance(exc, SearchError):
        return exc
    if isinstance(exc, os_exc.ConnectionError | elastic_transport.TransportError):
        return SearchUnavailable(f"search engine unreachable: {exc}")
    if isinstance(exc, os_exc.TransportError):
        status = exc.status_code if isinstance(exc.status_code, int) else None
        return SearchError(_reason(exc.info) or str(exc), status=status, body=exc.info)
    status = getattr(getattr(exc, "meta", None), "status", None)
    if status is not None:
        body = getattr(exc, "body", None)
        return SearchError(_reason(body) or str(exc), status=status, body=body)
    return SearchError(f"{type(exc).__name__}: {exc}")


def _reason(body: Any) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            cause = (error.get("root_cause") or [error])[0]
            return f"{cause.get('type')}: {cause.get('reason')}"
        if isinstance(error, str):
            return error
    return None


def connect(settings: Settings) -> SearchClient:
    """Detect the engine and return its official client, configured from settings."""
    engine = detect_engine(settings)
    common: dict[str, Any] = {
        "hosts": settings.search_hosts,
        "request_timeout" if engine.distribution == "elasticsearch" else "timeout": (
            settings.search_timeout
        ),
    }
    if settings.search_ca_certs:
        common["ca_certs"] = str(settings.search_ca_certs)
    common["verify_certs"] = settings.search_verify_certs
    if engine.distribution == "opensearch":
        from opensearchpy import OpenSearch

        if engine.major not in (1, 2, 3):
            raise SearchError(f"OpenSearch {engine.version} is not supported (2.x and 3.x are)")
        if settings.search_username:
            password = (
                settings.search_password.get_secret_value() if settings.search_password else ""
            )
            common["http_auth"] = (settings.search_username, password)
        if settings.search_api_key is not None:
            common["headers"] = _auth_headers(settings)
        common["ssl_show_warn"] = False
        return SearchClient(engine, OpenSearch(**common), settings)

    import elasticsearch

    client_major = int(elasticsearch.__versionstr__.split(".")[0])
    if engine.major != client_major:
        raise SearchError(
            f"Elasticsearch {engine.version} needs the elasticsearch Python client "
            f"{engine.major}.x; {elasticsearch.__versionstr__} is installed "
            f"(pip install 'elasticsearch>={engine.major},<{engine.major + 1}')"
        )
    if settings.search_api_key is not None:
        common["api_key"] = settings.search_api_key.get_secret_value()
    elif settings.search_username:
        password = settings.search_password.get_secret_value() if settings.search_password else ""
        common["basic_auth"] = (settings.search_username, password)
    return SearchClient(engine, elasticsearch.Elasticsearch(**common), settings)
