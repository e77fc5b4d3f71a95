"""OpenTelemetry tracing of the served service (Postgres, Vault), exported over OTLP to a collector
in the test process: spans per request, statement, Vault call, token check and QR drawing; the
caller's traceparent continued and passed on to Vault; nothing secret in any span; and a collector
that is down neither fails nor holds a request."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pyotp
import pytest

from tests.conftest import SharedVault
from tests.support.otlp_collector import InProcessCollector, ReceivedSpan, run_collector
from tests.support.postgres import PostgresUnavailable, fresh_database
from tests.support.processes import cli, free_port, running_service
from tests.support.waiting import wait_until

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
SERVER = 2
CLIENT = 3


def _environment(tmp_path: Path, vault: SharedVault, database_url: str) -> dict[str, str]:
    return {
        "MFA_DATA_DIR": str(tmp_path / "var"),
        "MFA_ISSUER": "Example Bank",
        "MFA_DATABASE_URL": database_url,
        "MFA_CIPHER": "vault",
        "MFA_VAULT_ADDR": vault.server.addr,
        "MFA_VAULT_TOKEN": vault.service_token,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


@pytest.fixture
def database_url() -> Iterator[str]:
    try:
        with fresh_database() as url:
            yield url
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)


def _eventually(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, f"the collector received {what}", interval=0.2)


def test_a_journey_is_traced_and_no_span_holds_a_secret(
    tmp_path: Path, shared_vault: SharedVault, database_url: str
) -> None:
    collector, server = run_collector()
    environment = {
        **_environment(tmp_path, shared_vault, database_url),
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
    }
    secrets: list[str] = []
    with ExitStack() as stack:
        stack.callback(server.shutdown)
        base_url = stack.enter_context(
            running_service(environment, log_file=tmp_path / "service.log")
        )
        token = cli(["dev-token", "--sub", "alice"], environment).stdout.strip()
        secrets += token.split(".")[1:]
        client = stack.enter_context(
            httpx.Client(
                base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            )
        )
        started = client.post(
            "/settings/MfaSecret",
            json={"mfaMethod": "totp"},
            headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
        )
        assert started.status_code == 200, started.text
        enrollment = started.json()
        secrets += [enrollment["secret"], enrollment["otpauthUri"], enrollment["qrCodeUrl"]]
        code = pyotp.TOTP(enrollment["secret"]).now()
        confirmed = client.post(
            f"/settings/MfaSecret/{enrollment['enrollmentId']}/verification", json={"code": code}
        )
        assert confirmed.status_code == 200, confirmed.text
        recovery = confirmed.json()["recoveryCodes"]
        secrets += [code, *recovery]
        assert client.post("/mfa/verify", json={"recoveryCode": recovery[0]}).status_code == 200
        assert client.post("/mfa/verify", json={"code": "000000"}).status_code == 400
        queried = client.get(f"/settings/MfaSecret?access_token={token}")
        assert queried.status_code == 400  # a token in the query string is never read

        _eventually(
            lambda: {"POST /mfa/verify", "GET /settings/MfaSecret"} <= _names(collector),
            "span of the last requests",
        )
    spans = collector.received()

    caller = [s for s in spans if s.trace_id == TRACE_ID]
    server_span = next(s for s in caller if s.kind == SERVER)
    assert server_span.name == "POST /settings/MfaSecret"
    assert server_span.parent_span_id == CALLER_SPAN
    assert server_span.attributes["http.route"] == "/settings/MfaSecret"
    inside = {s.name for s in caller}
    statements = {"select audit_events", "with delete enrollments"}  # the room, the start stored
    assert {"token check", "qr render", "vault encrypt", *statements} <= inside
    vault_calls = [s for s in caller if s.kind == CLIENT and _is_vault_request(s, shared_vault)]
    assert vault_calls, (
        "the Vault request is a client span of the caller's trace (traceparent sent)"
    )
    assert "vault decrypt" in _names(collector), "the confirmation decrypts"
    assert any(s.name.startswith("select ") for s in spans)

    texts = [text for span in spans for text in span.texts]
    assert texts
    for secret in secrets:
        assert not [t for t in texts if secret in t], f"a span holds {secret[:4]}…"
    for marker in ("otpauth://", "data:image/", "vault:v", "access_token"):
        assert not [t for t in texts if marker in t], f"a span holds {marker}"
    digits = re.compile(rf"(?<![0-9]){re.escape(code)}(?![0-9])")
    assert not [t for t in texts if digits.search(t)]


def test_a_collector_that_is_down_fails_no_request_and_dropped_spans_are_counted(
    tmp_path: Path, shared_vault: SharedVault, database_url: str
) -> None:
    environment = {
        **_environment(tmp_path, shared_vault, database_url),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "1",
        "OTEL_BSP_MAX_QUEUE_SIZE": "4",
    }
    with running_service(environment, log_file=tmp_path / "service.log") as base_url:
        token = cli(["dev-token", "--sub", "bob"], environment).stdout.strip()
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for _ in range(10):
                response = client.post(
                    "/settings/MfaSecret",
                    json={"mfaMethod": "totp"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200, response.text
            _eventually(lambda: _dropped(client) > 0, "dropped span in /metrics")


def _dropped(client: httpx.Client) -> float:
    found = re.search(r"^mfa_trace_spans_dropped_total (\S+)$", client.get("/metrics").text, re.M)
    return float(found.group(1)) if found else 0.0


def _names(collector: InProcessCollector) -> set[str]:
    return {span.name for span in collector.received()}


def _is_vault_request(span: ReceivedSpan, vault: SharedVault) -> bool:
    port = vault.server.addr.rsplit(":", 1)[1]
    return any(port in str(value) for value in span.attributes.values())
