"""How the contract suite reaches the service. The only module of the suite that imports the service.

One suite, three ways to run it (each test is parametrized by ``target``):

- in process, on each adapter set: ``memory`` (fakes), ``embedded`` (SQLite and the local key),
  ``production`` (Postgres and Vault), through Litestar's ``AsyncTestClient`` (an ``httpx.AsyncClient``);
- ``introspection``: in process on the embedded adapter set with ``MFA_TOKEN_MODE=introspection``: the
  tokens are opaque, and the service asks the identity provider's RFC 7662 endpoint (the suite's own,
  ``IntrospectionServer``) about each, authenticated by ``private_key_jwt``. Tests that take a JWT
  apart or serve the identity provider's keys (``JWT_ONLY_FIXTURES``) are about the JWT path and are
  left out there;
- ``served``: ``mfa-service serve`` started as its own process in the production profile, on a fresh
  Postgres database with the real Vault and a JWKS file of the suite's identity provider;
- ``external``: any deployment, with ``--base-url URL --token-command 'CMD {sub}'`` (the command prints a
  bearer token for the subject); only this target runs then.

Every target trusts a test identity provider (``TokenIssuer``) except ``external``, which trusts the
deployment's. Tests that need more than HTTP are marked and deselected where it cannot be had:
``needs_control`` (token claims chosen by the test, a JWKS endpoint the suite serves, service settings)
is left out with ``--base-url``; ``needs_injection`` (an injected clock or fault) runs in process only;
``needs_idp_keys`` (the identity provider's public keys) runs with ``--base-url`` only when
``--jwks-url`` is given; ``needs_database`` (a look into the service's own database) runs on the
targets with one the suite made: all but memory (and external).

Every target but ``external`` delivers its notifications to the suite's webhook receiver.
"""

from __future__ import annotations

import itertools
import json
import logging
import shlex
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import schemathesis
import sqlalchemy as sa
from joserfc.jwk import ECKey
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis.python import asgi as schemathesis_asgi

import entrypoints.composition as composition
from adapters.memory.clock import FrozenClock
from adapters.memory.store import MemoryUnitOfWorkFactory
from adapters.sqlalchemy.engine import create_engine
from application.errors import DependencyUnavailable
from entrypoints.composition import Overrides, create_app
from entrypoints.settings import (
    CipherKind,
    IntrospectionAuthMethod,
    IntrospectionConfig,
    NotifierKind,
    Profile,
    Settings,
    TokenMode,
    VaultConfig,
)
from tests.conftest import SharedVault
from tests.contract.http.harness import KeysByUrl, MintToken
from tests.contract.http.http_server import CountingServer
from tests.contract.http.leaks import SeenValues, ServiceLogs, service_lines
from tests.contract.http.tokens import TokenIssuer, split_token
from tests.contract.http.webhook_receiver import WebhookReceiver
from tests.support.doubles import UnavailableCipher
from tests.support.introspection_server import IntrospectionServer
from tests.support.postgres import PostgresUnavailable, fresh_database
from tests.support.processes import cli, running_service
from tests.support.waiting import CEILING_SECONDS

INTROSPECTION = "introspection"
IN_PROCESS = ("memory", "embedded", "production", INTROSPECTION)
SERVED = "served"
EXTERNAL = "external"
DEFAULT_TARGETS = (*IN_PROCESS, SERVED)

JWT_ONLY_FIXTURES = frozenset(
    {"genuine", "keys_by_url", "unreachable_keys_client", "idp_public_jwks"}
)
"""Fixtures of tests about JWTs and their keys: a token taken apart, a JWKS the suite serves."""

TOKEN_ISSUER = "https://idp.contract.test/"
TOKEN_AUDIENCE = "mfa-service-contract"
REQUIRED_SCOPE = "mfa"
SERVICE_ISSUER = "Contract Bank"
ADMIN_SCOPE = "mfa-admin"
PSEUDONYM_KEY = "contract-suite pseudonym key: not a secret, 32 bytes and more"
WEBHOOK_KEY = "contract-suite webhook key"
NOTIFY_INTERVAL_SECONDS = 0.2
REQUEST_TIMEOUT_SECONDS = 30.0

MARKERS = (
    "needs_control: needs to configure the service or its identity provider (claims chosen by the "
    "test, a JWKS endpoint the suite serves, service settings); left out with --base-url",
    "needs_injection: needs an injected clock or fault inside the service; runs in process only",
    "needs_idp_keys: needs the identity provider's public keys; with --base-url only if --jwks-url",
    "after_suite: runs after every other contract test, to check what the whole suite left behind",
    "jwt_only: about the JWT path only (the token's own size or structure); left out for the "
    "introspection target, like tests that use JWT_ONLY_FIXTURES",
    "needs_database: looks into the service's database; not on memory or external",
)

# --- options, markers, parametrization -----------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "MFA service HTTP contract suite (tests/contract/http)")
    group.addoption(
        "--base-url",
        default=None,
        help="run the contract suite against the deployment at this URL (only that target)",
    )
    group.addoption(
        "--token-command",
        default=None,
        help="with --base-url: a command that prints a bearer token for a subject; '{sub}' in it is "
        "replaced by the subject (else the subject is its last argument)",
    )
    group.addoption(
        "--jwks-url",
        default=None,
        help="with --base-url: the identity provider's public JWKS, for the algorithm-confusion tests",
    )
    group.addoption(
        "--contract-targets",
        default=",".join(DEFAULT_TARGETS),
        help=f"without --base-url: which of {', '.join(DEFAULT_TARGETS)} to run (comma-separated)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if config.getoption("base_url") and not config.getoption("token_command"):
        raise pytest.UsageError("--base-url needs --token-command 'CMD {sub}'")
    unknown = set(_chosen_targets(config)) - {*DEFAULT_TARGETS, EXTERNAL}
    if unknown:
        raise pytest.UsageError(f"unknown --contract-targets: {', '.join(sorted(unknown))}")


def _chosen_targets(config: pytest.Config) -> list[str]:
    if config.getoption("base_url"):
        return [EXTERNAL]
    return [name.strip() for name in config.getoption("contract_targets").split(",") if name]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        metafunc.parametrize("target", _chosen_targets(metafunc.config))


def _left_out(item: pytest.Item, target: str, config: pytest.Config) -> bool:
    """Whether ``item`` needs something ``target`` cannot give (see the module's docstring)."""
    if target == INTROSPECTION and (
        item.get_closest_marker("jwt_only")
        or JWT_ONLY_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    ):
        return True
    if item.get_closest_marker("needs_injection") and target not in IN_PROCESS:
        return True
    if item.get_closest_marker("needs_database") and target in ("memory", EXTERNAL):
        return True
    if target != EXTERNAL:
        return False
    if item.get_closest_marker("needs_control"):
        return True
    return bool(item.get_closest_marker("needs_idp_keys")) and not config.getoption("jwks_url")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        target = callspec.params.get("target") if callspec is not None else None
        if isinstance(target, str) and _left_out(item, target, config):
            left_out.append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
    # Stable sort: the leakage checks see the logs of every other test of the run.
    kept.sort(key=lambda item: item.get_closest_marker("after_suite") is not None)
    items[:] = kept


# --- what the suite saw, and what the service logged ---------------------------------------------


@pytest.fixture(scope="session")
def seen() -> SeenValues:
    return SeenValues()


@pytest.fixture(scope="session")
def service_logs() -> ServiceLogs:
    return ServiceLogs()


@pytest.fixture(autouse=True)
def _capture_service_logs(
    caplog: pytest.LogCaptureFixture, service_logs: ServiceLogs
) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    service_logs.lines.extend(service_lines(caplog.records))


def _hooked(client: httpx.AsyncClient, seen: SeenValues) -> httpx.AsyncClient:
    client.event_hooks = {"request": [seen.on_request], "response": [seen.on_response]}
    return client


# --- the identity provider -------------------------------------------------------------------


@pytest.fixture(scope="session")
def contract_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(scope="session")
def identity_provider() -> TokenIssuer:
    """The identity provider every target but ``external`` trusts, through a JWKS file."""
    return TokenIssuer(TOKEN_ISSUER, TOKEN_AUDIENCE, scope=f"openid {REQUIRED_SCOPE}")


@pytest.fixture(scope="session")
def jwks_file(identity_provider: TokenIssuer, contract_dir: Path) -> Path:
    return identity_provider.write_jwks(contract_dir / "identity-provider-jwks.json")


INTROSPECTION_CLIENT_ID = "mfa-service-contract"


@pytest.fixture(scope="session")
def introspection_client_key(contract_dir: Path) -> tuple[Path, ECKey]:
    """The service's private_key_jwt key at the identity provider: the file and the key."""
    key = ECKey.generate_key("P-256", auto_kid=True)
    path = contract_dir / "introspection-client-key.json"
    path.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    return path, key


@pytest.fixture(scope="session")
def introspection_endpoint(
    introspection_client_key: tuple[Path, ECKey],
) -> Iterator[IntrospectionServer]:
    """The identity provider's introspection endpoint, which the ``introspection`` target asks."""
    _, key = introspection_client_key
    server = IntrospectionServer(
        client_id=INTROSPECTION_CLIENT_ID,
        client_public_key=ECKey.import_key(key.as_dict(private=False)),
        method="private_key_jwt",
    )
    with server.running():
        yield server


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Where every target but ``external`` delivers its notifications."""
    with WebhookReceiver(WEBHOOK_KEY.encode()).running() as receiver:
        yield receiver


# --- time --------------------------------------------------------------------------------------


@dataclass
class InjectedClock:
    """A FrozenClock given to the app in process; the service, token checks included, runs on it."""

    frozen: FrozenClock

    def now(self) -> float:
        return self.frozen.now().timestamp()

    def advance(self, seconds: float) -> None:
        self.frozen.advance(timedelta(seconds=seconds))


@pytest.fixture
def clock(target: str) -> InjectedClock:
    if target not in IN_PROCESS:
        pytest.fail(
            f"the clock is injected in process only; mark the test needs_injection ({target})"
        )
    return InjectedClock(FrozenClock(datetime.now(UTC)))


def _injected_clock(request: pytest.FixtureRequest) -> InjectedClock | None:
    if "clock" not in request.fixturenames:
        return None
    found: InjectedClock = request.getfixturevalue("clock")
    return found


def _now(request: pytest.FixtureRequest) -> Callable[[], float]:
    injected = _injected_clock(request)
    return injected.now if injected is not None else time.time


# --- in process ------------------------------------------------------------------------------


def _settings(target: str, request: pytest.FixtureRequest) -> Settings:
    """The in-process service's settings. One database and key per adapter set for the whole run,
    as a deployment has: tests keep apart by their subjects, and SQLite is migrated once."""
    directory: Path = request.getfixturevalue("contract_dir") / target
    directory.mkdir(exist_ok=True)
    common: dict[str, Any] = {
        "data_dir": directory,
        "local_key_file": directory / "secret-encryption.key",
        "jwks_file": request.getfixturevalue("jwks_file"),
        "token_issuer": TOKEN_ISSUER,
        "token_audience": TOKEN_AUDIENCE,
        "required_scope": REQUIRED_SCOPE,
        "issuer": SERVICE_ISSUER,
        "admin_scope": ADMIN_SCOPE,
        "notifier": NotifierKind.WEBHOOK,
        "notify_webhook_url": request.getfixturevalue("webhook_receiver").url,
        "notify_webhook_key": WEBHOOK_KEY,
        "notify_interval_seconds": NOTIFY_INTERVAL_SECONDS,
    }
    if target == INTROSPECTION:
        endpoint: IntrospectionServer = request.getfixturevalue("introspection_endpoint")
        key_file, _ = request.getfixturevalue("introspection_client_key")
        return Settings(
            database_url=f"sqlite+aiosqlite:///{directory / 'mfa.sqlite3'}",
            token_mode=TokenMode.INTROSPECTION,
            introspection=IntrospectionConfig(
                url=endpoint.url,
                client_id=INTROSPECTION_CLIENT_ID,
                auth_method=IntrospectionAuthMethod.PRIVATE_KEY_JWT,
                private_key_file=key_file,
                timeout_seconds=10.0,  # a loaded machine; the timeout is tested elsewhere
            ),
            **common,
        )
    if target == "production":
        vault: SharedVault = request.getfixturevalue("shared_vault")
        return Settings(
            profile=Profile.PRODUCTION,
            database_url=str(request.getfixturevalue("postgres_url")),
            cipher=CipherKind.VAULT,
            vault=VaultConfig(addr=vault.server.addr, token=vault.service_token),
            pseudonym_key=PSEUDONYM_KEY,
            **common,
        )
    return Settings(database_url=f"sqlite+aiosqlite:///{directory / 'mfa.sqlite3'}", **common)


def _in_process_app(
    target: str,
    settings: Settings,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: Any,
) -> Litestar:
    injected = _injected_clock(request)
    if injected is not None:
        # The composition gives the token verifier the system time, not Overrides.clock: patched so
        # that token lifetimes and the JWKS cool-down follow the injected clock too.
        monkeypatch.setattr(composition, "time", SimpleNamespace(time=injected.now))
        overrides["clock"] = injected.frozen
    if target == "memory":
        overrides["unit_of_work"] = request.getfixturevalue("memory_stores")
    return create_app(settings, Overrides(**overrides))


@pytest.fixture
def memory_stores() -> MemoryUnitOfWorkFactory:
    """The memory target's stores, one set a test: every app the test starts shares them, as the
    apps of the other targets share their database."""
    return MemoryUnitOfWorkFactory()


@asynccontextmanager
async def _in_process_client(app: Litestar, seen: SeenValues) -> AsyncIterator[httpx.AsyncClient]:
    async with AsyncTestClient(
        app=app, raise_server_exceptions=False, timeout=REQUEST_TIMEOUT_SECONDS
    ) as client:
        yield _hooked(client, seen)


@asynccontextmanager
async def _remote_client(base_url: str, seen: SeenValues) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        yield _hooked(client, seen)


# --- served ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedService:
    base_url: str
    environment: dict[str, str]
    directory: Path


def _production_environment(
    database_url: str, vault: SharedVault, directory: Path, webhook: WebhookReceiver
) -> dict[str, str]:
    """The environment of a production deployment (README "Configuration")."""
    return {
        "MFA_ENV": "production",
        "MFA_DATA_DIR": str(directory),
        "MFA_DATABASE_URL": database_url,
        "MFA_CIPHER": "vault",
        "MFA_VAULT_ADDR": vault.server.addr,
        "MFA_VAULT_TOKEN": vault.service_token,
        "MFA_TOKEN_ISSUER": TOKEN_ISSUER,
        "MFA_TOKEN_AUDIENCE": TOKEN_AUDIENCE,
        "MFA_REQUIRED_SCOPE": REQUIRED_SCOPE,
        "MFA_ISSUER": SERVICE_ISSUER,
        "MFA_ADMIN_SCOPE": ADMIN_SCOPE,
        "MFA_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "MFA_NOTIFIER": "webhook",
        "MFA_NOTIFY_WEBHOOK_URL": webhook.url,
        "MFA_NOTIFY_WEBHOOK_KEY": WEBHOOK_KEY,
        "MFA_NOTIFY_INTERVAL_SECONDS": str(NOTIFY_INTERVAL_SECONDS),
        "MFA_LOG_LEVEL": "DEBUG",
    }


@pytest.fixture(scope="session")
def served_service(
    tmp_path_factory: pytest.TempPathFactory,
    shared_vault: SharedVault,
    jwks_file: Path,
    service_logs: ServiceLogs,
    webhook_receiver: WebhookReceiver,
) -> Iterator[ServedService]:
    """``mfa-service serve`` in the production profile, on a fresh database migrated with
    ``mfa-service migrate``, as an operator would run it. One worker: with ``--workers 2`` uvicorn
    kills workers whose start-up outlasts its 5 s health check, over and over on a loaded machine."""
    directory = tmp_path_factory.mktemp("served")
    with ExitStack() as stack:
        try:
            database_url = stack.enter_context(fresh_database())
        except PostgresUnavailable as error:
            pytest.fail(str(error), pytrace=False)
        environment = {
            **_production_environment(database_url, shared_vault, directory, webhook_receiver),
            "MFA_JWKS_FILE": str(jwks_file),
        }
        migrated = cli(["migrate"], environment)
        assert migrated.returncode == 0, migrated.stderr
        log_file = directory / "service.log"
        service_logs.files.append(log_file)
        with running_service(environment, log_file=log_file) as base_url:
            yield ServedService(base_url, environment, directory)


@asynccontextmanager
async def _served_variant(
    served: ServedService, service_logs: ServiceLogs, seen: SeenValues, **environment: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Another ``mfa-service serve`` process on the served database, with ``environment`` changed."""
    log_file = served.directory / f"variant-{uuid.uuid4().hex[:8]}.log"
    service_logs.files.append(log_file)
    with running_service({**served.environment, **environment}, log_file=log_file) as base_url:
        async with _remote_client(base_url, seen) as client:
            yield client


# --- what the tests use ----------------------------------------------------------------------


@pytest.fixture
def subject() -> str:
    """A user of their own for each test: rate limits and lockouts never cross tests."""
    return f"contract-{uuid.uuid4()}"


@pytest.fixture
async def client(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the service under test, whichever way it runs."""
    if target == EXTERNAL:
        async with _remote_client(request.config.getoption("base_url"), seen) as remote:
            yield remote
    elif target == SERVED:
        served: ServedService = request.getfixturevalue("served_service")
        async with _remote_client(served.base_url, seen) as remote:
            yield remote
    else:
        settings = _settings(target, request)
        app = _in_process_app(target, settings, request, monkeypatch)
        async with _in_process_client(app, seen) as local:
            yield local


@pytest.fixture
def find_in_database(
    target: str, request: pytest.FixtureRequest
) -> Callable[[str], Awaitable[list[str]]]:
    """``find_in_database(text)``: every ``table.column`` of the service's database (every table,
    every column read as text) where a value contains ``text``."""
    if target == SERVED:
        url = request.getfixturevalue("served_service").environment["MFA_DATABASE_URL"]
    elif target in IN_PROCESS and target != "memory":
        url = _settings(target, request).database_url
    else:
        pytest.fail(f"no database to look into; mark the test needs_database ({target})")

    async def find(text: str) -> list[str]:
        return await _columns_holding(url, text)

    return find


async def _columns_holding(url: str, text: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {
                    table: [column["name"] for column in sa.inspect(sync).get_columns(table)]
                    for table in sa.inspect(sync).get_table_names()
                }
            )
            found = []
            for table, names in columns.items():
                for name in names:
                    hits = await connection.execute(
                        sa.select(sa.func.count())
                        .select_from(sa.table(table))
                        .where(sa.cast(sa.column(name), sa.Text).contains(text, autoescape=True))
                    )
                    if hits.scalar_one():
                        found.append(f"{table}.{name}")
            return found
    finally:
        await engine.dispose()


@pytest.fixture
def mint_token(
    target: str, request: pytest.FixtureRequest, identity_provider: TokenIssuer, seen: SeenValues
) -> MintToken:
    """``mint_token(sub, **claims)``: a bearer token for ``sub`` that the service trusts. Claims replace
    the identity provider's defaults; a claim given as None is left out. With ``--base-url`` the
    token comes from ``--token-command`` and claims cannot be chosen."""
    if target == EXTERNAL:
        command = request.config.getoption("token_command")

        def from_command(sub: str, /, **claims: object) -> str:
            if claims:
                pytest.fail("a test that chooses token claims must be marked needs_control")
            token = _run_token_command(command, sub)
            seen.add_token(token)
            return token

        return from_command

    now = _now(request)
    endpoint: IntrospectionServer | None = (
        request.getfixturevalue("introspection_endpoint") if target == INTROSPECTION else None
    )

    def mint(sub: str, /, **claims: object) -> str:
        if endpoint is not None:
            token = endpoint.issue(identity_provider.claims(sub, now(), **claims))
        else:
            token = identity_provider.mint(sub, now(), **claims)
        seen.add_token(token)
        return token

    return mint


def _run_token_command(template: str, subject: str) -> str:
    arguments = shlex.split(template)
    if any("{sub}" in argument for argument in arguments):
        arguments = [argument.replace("{sub}", subject) for argument in arguments]
    else:
        arguments.append(subject)
    result = subprocess.run(
        arguments, capture_output=True, text=True, timeout=CEILING_SECONDS, check=False
    )
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        pytest.fail(f"--token-command failed ({result.returncode}): {result.stderr.strip()[:500]}")
    try:
        split_token(token)
    except ValueError:
        pytest.fail("--token-command did not print a compact JWT")
    return token


@pytest.fixture
def idp_public_jwks(
    target: str, request: pytest.FixtureRequest, identity_provider: TokenIssuer
) -> dict[str, Any]:
    """The public keys of the identity provider the service trusts."""
    if target != EXTERNAL:
        return identity_provider.public_jwks()
    jwks: dict[str, Any] = httpx.get(request.config.getoption("jwks_url"), timeout=30).json()
    return jwks


@pytest.fixture
def outside_server() -> Iterator[CountingServer]:
    """A server the service must never contact (where forged ``jku``/``x5u`` headers point)."""
    with CountingServer().running() as server:
        yield server


def _service_with_jwks_url(
    target: str,
    url: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    if target == SERVED:
        served: ServedService = request.getfixturevalue("served_service")
        logs: ServiceLogs = request.getfixturevalue("service_logs")
        return _served_variant(served, logs, seen, MFA_JWKS_URL=url, MFA_JWKS_FILE="")
    if target not in IN_PROCESS:
        pytest.fail(
            f"a JWKS URL needs control of the service; mark the test needs_control ({target})"
        )
    settings = replace(_settings(target, request), jwks_file=None, jwks_url=url)
    return _in_process_client(_in_process_app(target, settings, request, monkeypatch), seen)


@pytest.fixture
async def keys_by_url(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[KeysByUrl]:
    issuer = TokenIssuer(TOKEN_ISSUER, TOKEN_AUDIENCE, scope=f"openid {REQUIRED_SCOPE}")
    with CountingServer(issuer.public_jwks()).running() as jwks:
        service = _service_with_jwks_url(
            target, f"{jwks.url}/jwks.json", request, seen, monkeypatch
        )
        async with service as service_client:
            yield KeysByUrl(service_client, jwks, issuer)


@pytest.fixture
async def unreachable_keys_client(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """A service that has never read its keys, configured with a JWKS URL where nothing listens."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/jwks.json"
        service = _service_with_jwks_url(target, url, request, seen, monkeypatch)
        async with service as service_client:
            yield service_client


class _DownDependency:
    name = "database"

    async def check(self) -> None:
        raise DependencyUnavailable("database")


class _CrashingQrRenderer:
    def render(self, text: str, image_format: object, scale: int) -> str:
        raise RuntimeError("QR renderer crashed (injected by the contract suite)")


@asynccontextmanager
async def _faulty_client(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
    **fault: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """The service in process with ``fault`` injected, on the stores of the test's ``client``."""
    if target not in IN_PROCESS:
        pytest.fail(
            f"faults are injected in process only; mark the test needs_injection ({target})"
        )
    app = _in_process_app(target, _settings(target, request), request, monkeypatch, **fault)
    async with _in_process_client(app, seen) as local:
        yield local


@pytest.fixture
async def unready_client(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """A service whose readiness probe finds its database down."""
    fault = {"readiness_probes": (_DownDependency(),)}
    async with _faulty_client(target, request, seen, monkeypatch, **fault) as faulty:
        yield faulty


@pytest.fixture
async def crashing_client(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """A service whose QR renderer fails unexpectedly: every enrollment is a 500."""
    fault = {"qr_renderer": _CrashingQrRenderer()}
    async with _faulty_client(target, request, seen, monkeypatch, **fault) as faulty:
        yield faulty


@pytest.fixture
async def key_service_down_client(
    target: str,
    request: pytest.FixtureRequest,
    seen: SeenValues,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[httpx.AsyncClient]:
    """A service whose key service (the secret cipher) is down, on the stores of ``client``."""
    fault = {"cipher": UnavailableCipher()}
    async with _faulty_client(target, request, seen, monkeypatch, **fault) as faulty:
        yield faulty


# --- fuzzing -----------------------------------------------------------------------------------

FUZZING = {
    "seed": 20261127,
    "generation": {"max-examples": 40, "deterministic": True, "database": "none"},
    "suppress-health-check": [
        "too_slow",
        "filter_too_much",
        "data_too_large",
        "large_base_example",
    ],
    "checks": {
        # The schema cannot say all: a code has exactly the policy's number of digits (6 to 8
        # allowed), and a deviceName must be printable in Python's sense (the schema leaves out
        # control characters only).
        "positive_data_acceptance": {"enabled": False},
    },
}
"""schemathesis' configuration (its schemathesis.toml keys): a bounded, deterministic run."""


@pytest.fixture
def api_schema(request: pytest.FixtureRequest) -> Iterator[schemathesis.BaseSchema]:
    """The OpenAPI document the service serves, loaded by schemathesis: from the deployment with
    ``--base-url``, else from the app in process on the embedded adapter set."""
    config = schemathesis.Config.from_dict(FUZZING)
    base_url = request.config.getoption("base_url")
    if base_url:
        yield schemathesis.openapi.from_url(
            f"{base_url.rstrip('/')}/schema/openapi.json", config=config
        )
        return
    app = create_app(_settings("embedded", request))
    try:
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=config)
    finally:
        schemathesis_asgi.shutdown_lifespans()


EXTERNAL_FUZZ_USERS = 8
"""With --base-url, tokens come from a command that may take a second: the fuzzer takes turns with a
few users instead of one per request (their rate limits and lockouts give documented 429s)."""


@pytest.fixture
def fuzz_token(request: pytest.FixtureRequest, identity_provider: TokenIssuer) -> Callable[[], str]:
    """A token for the fuzzer's next request: a fresh user every time (in process)."""
    if not request.config.getoption("base_url"):
        return lambda: identity_provider.mint(f"contract-fuzz-{uuid.uuid4()}")
    command = request.config.getoption("token_command")
    tokens: list[str] = []
    turns = itertools.count()

    def next_token() -> str:
        turn = next(turns) % EXTERNAL_FUZZ_USERS
        if turn == len(tokens):
            tokens.append(_run_token_command(command, f"contract-fuzz-{uuid.uuid4()}"))
        return tokens[turn]

    return next_token
