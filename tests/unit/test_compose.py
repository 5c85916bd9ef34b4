"""docker-compose.yml: the structure users rely on (CI also runs `docker-compose config`
for both profiles, see devstack/check-compose.sh)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_dependencies_wait_for_health_or_completion() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
            else:
                assert condition == "service_completed_successfully" and dependency.startswith(
                    "setup"
                )


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


def test_security_on_and_client_major_matches_the_server() -> None:
    import elasticsearch

    services = _compose()["services"]
    es = services["elasticsearch"]["environment"]
    assert (
        es["xpack.security.enabled"] == "true" and es["xpack.security.http.ssl.enabled"] == "true"
    )
    images = {services[n]["image"] for n in ("elasticsearch", "kibana", "certs")}
    versions = {re.search(r":-([\d.]+)\}", image).group(1) for image in images}
    assert len(versions) == 1, "Elasticsearch and Kibana must run the same version"
    assert int(versions.pop().split(".")[0]) == int(elasticsearch.__versionstr__.split(".")[0])
    for port in services["elasticsearch"]["ports"] + services["kibana"]["ports"]:
        assert port.startswith("127.0.0.1:")


def test_the_image_builds_from_files_the_build_context_has() -> None:
    """Without a Docker engine here, the Dockerfile is checked statically: every stage
    a COPY --from names exists, every local COPY source is in the repository and not
    excluded by .dockerignore, base images carry a version, and the native core is
    built in its own stage with the pinned lock file."""
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
    assert "native" in stages
    assert any("--locked" in line for line in lines)
    assert (ROOT / "native" / "Cargo.lock").is_file()
