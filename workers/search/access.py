"""Least privilege for the workers: a role that may read and write mediamon's indices
and nothing else, and a user holding it. ``setup`` creates both as the superuser; the
worker and beat then connect as that user (docker-compose.yml).

Elasticsearch's security API only: the OpenSearch profile of the compose file runs on
loopback without the security plugin.
"""

from __future__ import annotations

from typing import Any

from workers.search.client import SearchClient, SearchError
from workers.search.templates import NAMES

ROLE = "mediamon_writer"


def role_body(prefix: str) -> dict[str, Any]:
    """Cluster: only ``monitor`` (the version check on start and cluster health). Indices:
    read and write documents of mediamon's aliases and their versioned indices; no index
    creation, mapping or template changes, no other index."""
    return {
        "cluster": ["monitor"],
        "indices": [
            {
                "names": [f"{prefix}{name}" for name in NAMES]
                + [f"{prefix}{name}-v*" for name in NAMES],
                "privileges": ["read", "write", "view_index_metadata"],
            }
        ],
        "metadata": {"managed_by": "mediamon"},
    }


def ensure_writer(client: SearchClient, user: str, password: str) -> list[str]:
    """Create or update the role and the user (idempotent); lines for the CLI."""
    if client.engine.distribution != "elasticsearch":
        raise SearchError(
            f"{client.engine}: creating users needs Elasticsearch's security API; with "
            "OpenSearch's security plugin, map a role with the same privileges by hand"
        )
    if len(password) < 12:
        raise SearchError("the worker's password must have at least 12 characters")
    prefix = client.settings.index_prefix
    client.request("PUT", f"/_security/role/{prefix}{ROLE}", role_body(prefix))
    client.request(
        "PUT",
        f"/_security/user/{user}",
        {"password": password, "roles": [f"{prefix}{ROLE}"], "full_name": "mediamon workers"},
    )
    return [
        f"role {prefix}{ROLE}: read and write mediamon's indices",
        f"user {user}: that role only",
    ]
