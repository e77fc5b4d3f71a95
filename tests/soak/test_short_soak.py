"""The soak, short (about 90 s of load, 3 replicas, every fault once), as part of ``make test``:
every invariant must hold. The report it writes is in the test's temporary folder; the assertion
message quotes it."""

from __future__ import annotations

from pathlib import Path

from soak.run import Options, run

EVERY_FAULT = {
    "rolling restart",
    "IdP keys rotated",
    "Postgres restart",
    "Vault sealed",
    "Postgres stalled 3 s",
    "Vault stalled 3 s",
}


def test_three_replicas_under_load_and_faults_keep_every_invariant(tmp_path: Path) -> None:
    outcome = run(Options(duration=90, replicas=3, rate=12, customers=60, out=tmp_path))

    names = {window.name for window in outcome.windows}
    assert names >= EVERY_FAULT, names
    assert any(name.startswith("kill -9") for name in names), names
    assert outcome.findings.numbers["answers"] > 500, outcome.report.read_text()
    failed = [row.name for row in outcome.findings.rows if not row.held]
    assert not failed, outcome.report.read_text()
