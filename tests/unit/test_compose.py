"""docker-compose.yml: the structure users rely on (CI also runs `docker-compose config`
for both profiles, see devstack/check-compose.sh)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _one_shot(service: dict) -> bool:
    """A container that does its work and exits (restart "no"); the others keep running."""
    return service.get("restart") == "no"


def _profile(service: dict) -> str:
    return (service.get("profiles") or ["(always)"])[0]


def test_each_wait_matches_what_the_dependency_does() -> None:
    """Compose reports an exited dependency as failed when it is awaited as healthy: a
    one-shot service is awaited with service_completed_successfully, a long-running one
    with service_healthy, and only if it has a healthcheck."""
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            assert _profile(services[dependency]) in ("(always)", _profile(service)), (
                name,
                dependency,
            )
            if _one_shot(services[dependency]):
                assert spec["condition"] == "service_completed_successfully", (name, dependency)
            else:
                assert spec["condition"] == "service_healthy", (name, dependency)
                assert "healthcheck" in services[dependency], (name, dependency)
        if not _one_shot(service):
            assert service.get("restart") == "unless-stopped", name


def _waits_for(services: dict, name: str) -> set[str]:
    """Every service that ``name`` waits for, directly or through another."""
    seen: set[str] = set()
    todo = list(services[name].get("depends_on") or {})
    while todo:
        dependency = todo.pop()
        if dependency not in seen:
            seen.add(dependency)
            todo += list(services[dependency].get("depends_on") or {})
    return seen


@pytest.mark.parametrize(
    ("suffix", "engine", "app", "first"),
    [
        ("", "elasticsearch", "kibana", {"certs", "kibana-password"}),
        ("-opensearch", "opensearch", "opensearch-dashboards", set()),
    ],
)
def test_everything_the_app_needs_is_waited_for(
    suffix: str, engine: str, app: str, first: set[str]
) -> None:
    services = _compose()["services"]
    assert _waits_for(services, f"setup{suffix}") == {engine, app, "redis", *first}
    for name in (f"worker{suffix}", f"beat{suffix}"):
        assert services[name]["depends_on"][f"setup{suffix}"] == {
            "condition": "service_completed_successfully"
        }
        assert {engine, "redis"} <= _waits_for(services, name)
    assert engine in _waits_for(services, app)


def test_the_engine_waits_for_its_certificates_and_kibana_for_its_password() -> None:
    services = _compose()["services"]
    assert _waits_for(services, "elasticsearch") == {"certs"}
    assert set(services["kibana"]["depends_on"]) == {"elasticsearch", "kibana-password"}
    assert _one_shot(services["certs"]) and _one_shot(services["kibana-password"])
    assert "healthcheck" not in services["certs"]


def test_no_variable_is_required_at_interpolation_and_opensearch_needs_no_elastic_secret() -> None:
    """Compose interpolates every service whatever the profile: one ${VAR:?} for an
    Elastic password would stop the opensearch profile too."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any(":?" in line for line in code)
    services = _compose()["services"]
    for name, service in services.items():
        if _profile(service) == "opensearch":
            assert not re.search(
                r"ELASTIC_PASSWORD|KIBANA_PASSWORD|KIBANA_ENCRYPTION_KEY", json.dumps(service)
            ), name
    certs = services["certs"]["command"]
    for variable in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "KIBANA_ENCRYPTION_KEY"):
        assert f"set {variable}" in certs  # refused, with what to do, before anything starts


def test_the_ca_key_is_root_only_and_services_have_memory_limits() -> None:
    services = _compose()["services"]
    certs = services["certs"]["command"]
    assert "chmod 0600 config/certs/ca/ca.key" in certs
    assert "chown root:root" in certs and "ca/ca.key" in certs.split("chown root:root", 1)[1]
    assert "chown -R 1000:0 config/certs;" not in certs  # the node's user must not own the CA
    assert "chown -R 1000:0 config/certs/elasticsearch" in certs
    for name, service in services.items():
        if not _one_shot(service):
            assert "mem_limit" in service, name
    for name in ("setup", "worker", "beat"):
        assert services[name]["volumes"] == ["ca:/certs:ro"]  # the CA certificate alone
    assert re.findall(r"\bcp (\S+) (\S+)", certs) == [("config/certs/ca/ca.crt", "/ca/ca.crt;")]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--uid 1001" in dockerfile  # not the engine's 1000, which owns the node key


def test_the_build_context_leaves_out_secrets() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".state" in ignored


def test_each_profile_has_engine_dashboards_setup_worker_and_beat() -> None:
    services = _compose()["services"]
    by_profile: dict[str, set[str]] = {}
    for name, service in services.items():
        for profile in service.get("profiles", ["(always)"]):
            by_profile.setdefault(profile, set()).add(name)
    assert {"certs", "elasticsearch", "kibana", "setup", "worker", "beat"} <= by_profile["elastic"]
    assert {
        "opensearch",
        "opensearch-dashboards",
        "setup-opensearch",
        "worker-opensearch",
        "beat-opensearch",
    } <= by_profile["opensearch"]
    assert by_profile["(always)"] == {"redis"}
    for setup in ("setup", "setup-opensearch"):
        command = " ".join(services[setup]["entrypoint"])
        assert "search init" in command and "dashboards import" in command


def test_workers_scale_and_state_is_on_named_volumes() -> None:
    compose = _compose()
    services = compose["services"]
    for name in ("worker", "worker-opensearch"):
        assert "container_name" not in services[name] and "ports" not in services[name]
    declared = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith(("/", ".")), volume  # named volumes only
            assert source in declared
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and "noeviction" in redis


def test_security_on_and_the_client_is_not_newer_than_the_server() -> None:
    """Elastic supports a client at the server's minor or older (and the 9.x client
    refuses 8.x servers)."""
    import elasticsearch

    services = _compose()["services"]
    es = services["elasticsearch"]["environment"]
    assert (
        es["xpack.security.enabled"] == "true" and es["xpack.security.http.ssl.enabled"] == "true"
    )
    images = {services[n]["image"] for n in ("elasticsearch", "kibana", "certs")}
    versions = {re.search(r":-([\d.]+)\}", image).group(1) for image in images}
    assert len(versions) == 1, "Elasticsearch and Kibana must run the same version"
    server = tuple(int(n) for n in versions.pop().split(".")[:2])
    client = tuple(int(n) for n in elasticsearch.__versionstr__.split(".")[:2])
    assert client[0] == server[0] and client <= server, (client, server)
    for port in services["elasticsearch"]["ports"] + services["kibana"]["ports"]:
        assert port.startswith("127.0.0.1:")


def test_the_image_builds_from_files_the_build_context_has() -> None:
    """Without a Docker engine here, the Dockerfile is checked statically: every stage
    a COPY --from names exists, every local COPY source is in the repository and not
    excluded by .dockerignore, base images carry a version, and the native core is
    built in its own stage with the pinned lock file, and the runtime installs the two
    wheels against constraints.txt, as `make check-fresh` does."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stages, bases = set(), []
    for line in lines:
        words = line.split()
        if words[:1] == ["FROM"]:
            bases.append(words[1])
            if len(words) == 4 and words[2].upper() == "AS":
                stages.add(words[3])
        elif words[:1] == ["COPY"]:
            args = [w for w in words[1:] if not w.startswith("--")]
            source_stage = next((w[7:] for w in words if w.startswith("--from=")), None)
            if source_stage:
                assert source_stage in stages, line
                continue
            for source in args[:-1]:
                assert (ROOT / source).exists(), line
                assert source.rstrip("/") not in ignored, line
    assert all(":" in base for base in bases), bases
    assert {base.split(":")[1].rsplit("-", 1)[-1] for base in bases} == {"trixie"}
    assert "wheels" in stages
    assert any("--locked" in line for line in lines)
    assert any(
        "pip install" in line and "constraints.txt" in line and "/wheels/*.whl" in line
        for line in lines
    )
    for package_data in ("config", "dashboards"):
        assert f"COPY {package_data} ./{package_data}" in lines
    assert (ROOT / "native" / "Cargo.lock").is_file()


def test_the_workers_connect_as_their_own_user_not_the_superuser() -> None:
    """Least privilege: only setup holds the elastic password; it creates mediamon_app,
    whose role reads and writes mediamon's indices and nothing else."""
    from workers.search.access import role_body
    from workers.search.templates import NAMES

    services = _compose()["services"]
    for name in ("worker", "beat"):
        env = services[name]["environment"]
        assert env["MEDIAMON_SEARCH_USERNAME"] == "mediamon_app", name
        assert "ELASTIC_PASSWORD" not in json.dumps(env), name
        assert "MEDIAMON_DASHBOARDS_PASSWORD" not in env, name
    setup = services["setup"]
    assert "mediamon search app-user mediamon_app" in " ".join(setup["entrypoint"])
    assert setup["environment"]["MEDIAMON_SEARCH_USERNAME"] == "elastic"
    role = role_body("")
    assert role["cluster"] == ["monitor"]
    (grant,) = role["indices"]
    assert set(grant["privileges"]) == {"read", "write", "view_index_metadata"}
    assert sorted(grant["names"]) == sorted([*NAMES, *(f"{n}-v*" for n in NAMES)])
