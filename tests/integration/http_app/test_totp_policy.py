"""The service's TOTP policy (MFA_TOTP_ALGORITHM, _DIGITS, _PERIOD) through HTTP: the apps it names,
the diagnosis of an app that ignored the parameters, and oathtool's codes under a non-default policy.
The contract suite cannot choose the policy; embedded only, since no adapter takes part in it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pyotp
import pytest
from litestar import Litestar

from domain.policy import HashAlgorithm, TotpPolicy
from entrypoints.composition import Overrides
from tests.contract.http.api import assert_problem, confirm, enroll, verify
from tests.integration.http_app.conftest import START
from tests.support.in_process import serve_in_process


@pytest.fixture
def adapter_set() -> str:
    """Embedded only: the policy is the same on every adapter set."""
    return "embedded"


async def test_the_default_policy_names_the_common_apps(
    app_with: Callable[..., Litestar], overrides: Overrides, token_for: Callable[..., str]
) -> None:
    async with serve_in_process(app_with(overrides)) as client:
        enrollment = await enroll(client, token_for("alice"))

    assert {"Google Authenticator", "Microsoft Authenticator", "Authy"} <= set(
        enrollment["supportedApps"]
    )


async def test_an_app_that_ignored_the_parameters_is_named(
    app_with: Callable[..., Litestar], overrides: Overrides, token_for: Callable[..., str]
) -> None:
    token = token_for("alice")
    app = app_with(overrides, totp_policy=TotpPolicy(HashAlgorithm.SHA256, 8, 60))
    async with serve_in_process(app) as client:
        enrollment = await enroll(client, token)
        ignoring_app = pyotp.TOTP(enrollment["secret"])  # SHA1 / 6 / 30, as such apps do
        response = await confirm(client, token, enrollment["enrollmentId"], ignoring_app.at(START))

    assert "Google Authenticator" not in enrollment["supportedApps"]
    assert_problem(response, 400, "authenticator-parameters-ignored")


async def test_a_sha256_eight_digit_policy_verifies_oathtool_codes(
    app_with: Callable[..., Litestar], overrides: Overrides, token_for: Callable[..., str]
) -> None:
    token = token_for("alice")
    app = app_with(overrides, totp_policy=TotpPolicy(HashAlgorithm.SHA256, 8, 30))
    async with serve_in_process(app) as client:
        enrollment = await enroll(client, token)
        assert enrollment["otpauthUri"].endswith("algorithm=SHA256&digits=8&period=30")

        def oathtool(at: int) -> str:
            return subprocess.run(
                ["oathtool", "--totp=sha256", "--digits=8", "--base32", f"--now=@{at}",
                 enrollment["secret"]],
                capture_output=True, text=True, check=True, timeout=10,
            ).stdout.strip()  # fmt: skip

        start = int(START.timestamp())
        confirmed = await confirm(client, token, enrollment["enrollmentId"], oathtool(start))
        assert confirmed.status_code == 200, confirmed.text
        assert (await verify(client, token, code=oathtool(start + 30))).status_code == 200
        assert (await verify(client, token, code="123456")).status_code == 400
