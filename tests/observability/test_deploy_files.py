"""The dashboard and alerting rules under deploy/observability are valid, their alerts fire when
they should (promtool's rule tests), and every metric they query is one the service exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.store import MemoryUnitOfWorkFactory
from entrypoints.composition import Overrides, create_app
from entrypoints.settings import Settings
from tests.support.in_process import serve_in_process

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
RULES = DEPLOY / "alerts.yml"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
_METRIC = re.compile(r"\bmfa_[a-z_]+\b")
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def _promtool(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: scripts/system-deps.sh installs it (Debian prometheus)")
    return subprocess.run(
        [promtool, *map(str, arguments)], capture_output=True, text=True, timeout=120, check=False
    )


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _dashboard_queries() -> list[str]:
    return [target["expr"] for panel in _dashboard()["panels"] for target in panel["targets"]]


def test_the_alerting_rules_are_valid() -> None:
    checked = _promtool("check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerts_fire_when_they_should_and_not_before() -> None:
    tested = _promtool("test", "rules", DEPLOY / "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_runbook_section_in_the_readme() -> None:
    readme = (DEPLOY.parents[1] / "README.md").read_text().lower()
    for alert in re.findall(r"- alert: (\w+)", RULES.read_text()):
        assert f"runbook-{alert.lower()}" in RULES.read_text()
        assert f"#### runbook: {alert.lower()}" in readme, f"no runbook for {alert}"


def test_the_dashboard_is_grafana_json_whose_queries_parse(tmp_path: Path) -> None:
    dashboard = _dashboard()
    panels = dashboard["panels"]
    assert dashboard["uid"] and dashboard["title"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
    # promtool parses PromQL only in rule files: each query becomes a recording rule.
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": query}
                    for n, query in enumerate(_dashboard_queries())
                ],
            }
        ]
    }
    queries = tmp_path / "dashboard-queries.yml"
    queries.write_text(json.dumps(rules))
    checked = _promtool("check", "rules", queries)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_every_metric_queried_is_one_the_service_exports(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, local_key_file=tmp_path / "key")
    app = create_app(settings, Overrides(unit_of_work=MemoryUnitOfWorkFactory()))
    async with serve_in_process(app) as client:
        scrape = (await client.get("/metrics")).text
    exported = dict(re.findall(r"^# TYPE (\S+) (\S+)$", scrape, re.MULTILINE))

    def is_exported(name: str) -> bool:
        if name in exported:
            return True
        for suffix in _HISTOGRAM_SERIES:
            base = name.removesuffix(suffix)
            if base != name and exported.get(base) == "histogram":
                return True
        return False

    queried = set(_METRIC.findall(RULES.read_text())) | {
        name for query in _dashboard_queries() for name in _METRIC.findall(query)
    }
    assert queried
    assert sorted(name for name in queried if not is_exported(name)) == []
