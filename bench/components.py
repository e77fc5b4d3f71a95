"""What the parts of the hot paths cost one at a time, measured with the product's own adapters
in this process against the bench's Vault and Postgres: CPU and wall time per call, sequentially.

The CPU time is this process's (``time.process_time``, all threads), so it is the service's share of
the work; Vault's and Postgres' own CPU are in the load runs' columns. The last database line is
not the product: it is the same work written on bare asyncpg in two transactions, as a bound for
what the repositories could cost.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Final

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.jwt.jwks_source import JwksFileSource
from adapters.jwt.verifier import JwtTokenVerifier
from adapters.segno.renderer import SegnoQrRenderer
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWorkFactory
from adapters.vault.client import VaultClient
from adapters.vault.settings import TokenAuth, VaultSettings
from adapters.vault.transit_cipher import VaultTransitCipher
from application.ports.audit import AuditAction, AuditEvent, RequestContext
from application.ports.qr_renderer import DEFAULT_QR_SCALE, QrFormat
from application.ports.secret_cipher import SecretOwner
from bench import stack
from domain.secret import TotpSecret

URI: Final = (
    "otpauth://totp/Bench%20Bank:bench-enroll-0001234%40bench.invalid?secret="
    "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bench%20Bank&algorithm=SHA1&digits=6&period=30"
)
USER: Final = "bench-components"
BURST: Final = 16


@dataclass(frozen=True, slots=True)
class Cost:
    part: str
    wall_ms: float
    cpu_ms: float


async def _measure(part: str, calls: int, call: Callable[[], Awaitable[object]]) -> Cost:
    for _ in range(5):
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    return Cost(
        part,
        (time.perf_counter() - wall) * 1000 / calls,
        (time.process_time() - cpu) * 1000 / calls,
    )


async def _qr() -> list[Cost]:
    renderer = SegnoQrRenderer()

    async def svg() -> None:
        renderer.render(URI, QrFormat.SVG, DEFAULT_QR_SCALE)

    async def png() -> None:
        renderer.render(URI, QrFormat.PNG, DEFAULT_QR_SCALE)

    return [
        await _measure("QR code, SVG (SegnoQrRenderer.render)", 200, svg),
        await _measure("QR code, PNG (SegnoQrRenderer.render)", 200, png),
    ]


async def _vault(addr: str, token: str) -> list[Cost]:
    client = VaultClient(VaultSettings(addr=addr, auth=TokenAuth(token)))
    try:
        cipher = VaultTransitCipher(client)
        secret = TotpSecret.from_entropy(secrets.token_bytes(20))
        owner = SecretOwner(USER, uuid.uuid4())
        sealed = await cipher.encrypt(secret, owner)
        context = base64.b64encode(owner.binding()).decode()

        async def burst() -> None:
            await asyncio.gather(*(cipher.decrypt(sealed, owner) for _ in range(BURST)))

        async with httpx.AsyncClient(base_url=addr, headers={"X-Vault-Token": token}) as direct:
            body = {"batch_input": [{"ciphertext": sealed, "context": context}]}

            async def bare() -> None:
                answer = await direct.post("/v1/transit/decrypt/mfa-totp", json=body)
                answer.raise_for_status()

            costs = [
                await _measure(
                    "Vault encrypt (VaultClient, httpx)", 200, lambda: cipher.encrypt(secret, owner)
                ),
                await _measure(
                    "Vault decrypt (VaultClient, httpx)", 200, lambda: cipher.decrypt(sealed, owner)
                ),
                await _measure("Vault decrypt (bare httpx.AsyncClient)", 200, bare),
            ]
        cost = await _measure(f"{BURST} concurrent decrypts", 30, burst)
        costs.append(
            Cost(
                f"{cost.part} (wall per burst, CPU per decrypt)", cost.wall_ms, cost.cpu_ms / BURST
            )
        )
        return costs
    finally:
        await client.aclose()


async def _token(jwks_file: Path, token: str) -> list[Cost]:
    verifier = JwtTokenVerifier(
        source=JwksFileSource(jwks_file),
        issuer=stack.TOKEN_ISSUER,
        audience=stack.TOKEN_AUDIENCE,
    )
    return [await _measure("token verification, ES256", 300, lambda: verifier.verify(token))]


async def _verification_database_work(factory: SqlUnitOfWorkFactory) -> None:
    """The units of work of a successful verification (VerifyCode, AttemptGate), without the
    conditional update of the authenticator's step."""
    now = datetime.now(UTC)
    context = RequestContext("bench-components", "127.0.0.1", "bench")
    async with factory() as uow:
        await uow.enrollments.active_for_user(USER)
        throttle = await uow.throttles.lock(USER)
        throttle.reserve(now)
        await uow.throttles.save(throttle)
        await uow.commit()
    async with factory() as uow:
        throttle = await uow.throttles.lock(USER)
        throttle.succeed()
        await uow.throttles.save(throttle)
        await uow.recovery_codes.remaining(USER)
        event = AuditEvent(AuditAction.CODE_VERIFIED, USER, uuid.uuid4(), now, context)
        await uow.audit.append(event)
        await uow.commit()


async def _bare_asyncpg_work(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await connection.fetchrow(
            "INSERT INTO user_throttles (user_id, failures, lockouts, version) "
            "VALUES ($1, 0, 0, 0) ON CONFLICT (user_id) DO UPDATE "
            "SET user_id = EXCLUDED.user_id RETURNING *",
            USER,
        )
        await connection.fetch(
            "SELECT * FROM enrollments WHERE user_id = $1 AND status = 'active' "
            "ORDER BY created_at",
            USER,
        )
        await connection.execute(
            "UPDATE user_throttles SET failures = failures + 1, version = version + 1 "
            "WHERE user_id = $1",
            USER,
        )
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "UPDATE user_throttles SET failures = 0, lockouts = 0, locked_until = NULL, "
            "version = version + 1 WHERE user_id = $1",
            USER,
        )
        await connection.fetchrow(
            "SELECT count(*) FILTER (WHERE used_at IS NULL), max(generated_at) "
            "FROM recovery_codes WHERE user_id = $1",
            USER,
        )
        await connection.execute(
            "INSERT INTO audit_events (action, user_id, enrollment_id, occurred_at, request_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            "code.verified",
            USER,
            uuid.uuid4(),
            datetime.now(UTC),
            "bench-components",
        )


async def _database(database: str) -> list[Cost]:
    url = stack.database_url(database)
    costs = []
    for label, engine in (
        ("product engine", create_engine(url)),
        (
            "with pool_pre_ping as before",
            create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=5),
        ),
    ):
        factory = SqlUnitOfWorkFactory(engine)
        try:
            costs.append(
                await _measure(
                    f"database work of a verification: 2 units of work, {label}",
                    200,
                    partial(_verification_database_work, factory),
                )
            )
        finally:
            await engine.dispose()
    pool = await asyncpg.create_pool(stack.database_dsn(database), min_size=1, max_size=2)
    try:
        costs.append(
            await _measure(
                "the same work on bare asyncpg, 2 transactions (not the product)",
                200,
                lambda: _bare_asyncpg_work(pool),
            )
        )
    finally:
        await pool.close()
    return costs


async def _all(
    database: str, vault_addr: str, vault_token: str, jwks_file: Path, token: str
) -> list[Cost]:
    return [
        *(await _qr()),
        *(await _token(jwks_file, token)),
        *(await _vault(vault_addr, vault_token)),
        *(await _database(database)),
    ]


def measure_components(
    database: str, vault_addr: str, vault_token: str, jwks_file: Path, token: str
) -> list[Cost]:
    """Every part, in a fresh event loop of this process."""
    return asyncio.run(_all(database, vault_addr, vault_token, jwks_file, token))
