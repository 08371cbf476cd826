"""Settings: scoring processes follow the CPUs this process may use; the phone region must be one phonenumbers
knows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import AliasChoices, ValidationError

from app.config import Settings, available_cpus, cgroup_cpu_quota
from app.main import create_app

ROOT = Path(__file__).parents[1]


def fake_cgroup(tmp: Path, own: str, limits: dict[str, str]) -> tuple[Path, Path]:
    """A cgroup v2 tree under tmp (`cpu.max` per group) and a /proc/self/cgroup naming `own`."""
    root = tmp / "cgroup"
    for group, cpu_max in limits.items():
        (root / group).mkdir(parents=True, exist_ok=True)
        (root / group / "cpu.max").write_text(cpu_max + "\n")
    proc = tmp / "proc-self-cgroup"
    proc.write_text(f"0::{own}\n")
    return root, proc


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to pin to one")
def test_batch_processes_default_to_the_cpus_of_the_affinity_mask() -> None:
    """Under `taskset -c <one cpu>` the default was still os.cpu_count()."""
    env = {k: v for k, v in os.environ.items() if k != "CRM_DQ_BATCH_PROCESSES"}
    one_cpu = min(os.sched_getaffinity(0))
    done = subprocess.run(
        [sys.executable, "-c", "from app.config import Settings; print(Settings().batch_processes)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: os.sched_setaffinity(0, {one_cpu}))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_a_cgroup_v2_quota_caps_the_cpus(tmp_path: Path) -> None:
    """A 2-CPU pod on a big node: the container's cgroup and its pod's hold the limits; the tightest wins."""
    root, proc = fake_cgroup(tmp_path, "/kubepods/pod1/ctr", {
        "kubepods": "max 100000", "kubepods/pod1": "400000 100000", "kubepods/pod1/ctr": "200000 100000"})
    assert cgroup_cpu_quota(root, proc) == 2
    assert available_cpus(root, proc) == min(2, len(os.sched_getaffinity(0)))


def test_a_fractional_quota_rounds_up_and_a_tiny_one_is_one_cpu(tmp_path: Path) -> None:
    root, proc = fake_cgroup(tmp_path, "/", {"": "150000 100000"})
    assert cgroup_cpu_quota(root, proc) == 2
    root, proc = fake_cgroup(tmp_path / "b", "/", {"": "10000 100000"})
    assert cgroup_cpu_quota(root, proc) == 1
    assert available_cpus(root, proc) == 1


def test_no_quota_or_no_cgroup_v2_leaves_the_affinity(tmp_path: Path) -> None:
    root, proc = fake_cgroup(tmp_path, "/", {"": "max 100000"})
    assert cgroup_cpu_quota(root, proc) is None
    v1 = tmp_path / "v1-cgroup"
    v1.write_text("4:memory:/x\n1:cpu:/\n")
    assert cgroup_cpu_quota(root, v1) is None
    assert cgroup_cpu_quota(root, tmp_path / "missing") is None
    assert available_cpus(root, v1) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("written", ["gb", "GB", " gb "])
def test_the_default_region_is_read_in_any_case(written: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """'gb' turned every national phone into an invalid-number error."""
    monkeypatch.setenv("CRM_DQ_DEFAULT_REGION", written)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3")
    assert settings.default_region == "GB"
    with TestClient(create_app(settings)) as client:
        report = client.post("/v1/contacts/score", json={"id": "c1", "phone": "020 7946 0958"}).json()
    phone = {issue["rule"]: issue["suggestion"] for issue in report["issues"] if issue["field"] == "phone"}
    assert phone == {"contact.phone.no_country_code": "+442079460958"}


@pytest.mark.parametrize("written", ["ZZ", "United Kingdom", "UK", "", "001"])
def test_a_region_phonenumbers_does_not_know_stops_start_up(written: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DQ_DEFAULT_REGION", written)
    with pytest.raises(ValidationError, match=f"CRM_DQ_DEFAULT_REGION '{written}' is not a region"):
        Settings()


def test_the_launcher_refuses_an_unknown_region_before_serving(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_DQ_") and k != "DATABASE_URL"}
    env |= {"CRM_DQ_DEFAULT_REGION": "United Kingdom", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    done = subprocess.run([sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", "8349"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "CRM_DQ_DEFAULT_REGION 'United Kingdom' is not a region" in done.stderr
    assert "Traceback" not in done.stderr and "Uvicorn running" not in done.stderr


def environment_names() -> set[str]:
    """Every environment variable the settings and `app.serve` read."""
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names |= set(alias.choices) if isinstance(alias, AliasChoices) else {f"CRM_DQ_{name.upper()}"}
    return names | {"CRM_DQ_WORKERS", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR"}


def test_every_variable_read_is_in_the_readmes_configuration_table() -> None:
    """CRM_DQ_EMAIL_DNS_TIMEOUT, CRM_DQ_DATABASE_URL and WEB_CONCURRENCY were read but documented nowhere."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = " ".join(row.split(" | ")[0] for row in rows)
    missing = {name for name in environment_names() if f"`{name}`" not in named}
    assert not missing
