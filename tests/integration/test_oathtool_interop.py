"""An independent TOTP implementation (oathtool, Debian oathtool) agrees with ours."""

import subprocess
import time

import pyotp
import pytest

from adapters.local_cipher.cipher import LocalAesGcmCipher
from domain.otpauth import OtpauthLabel, build_otpauth_uri
from domain.policy import HashAlgorithm, TotpPolicy
from domain.secret import TotpSecret


def _oathtool(secret: TotpSecret, policy: TotpPolicy, at: int) -> str:
    result = subprocess.run(
        [
            "oathtool",
            "--totp=" + policy.algorithm.value.lower(),
            "--base32",
            f"--digits={policy.digits}",
            f"--time-step-size={policy.period}s",
            f"--now=@{at}",
            secret.base32,
        ],
        capture_output=True,
        check=True,
        text=True,
        timeout=10,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    "policy",
    [
        TotpPolicy(),
        TotpPolicy(HashAlgorithm.SHA256, 8, 30),
        TotpPolicy(HashAlgorithm.SHA512, 8, 60),
    ],
)
def test_code_from_oathtool_is_accepted_by_the_uri_the_service_returns(policy: TotpPolicy) -> None:
    secret = TotpSecret.from_entropy(bytes(range(20)))
    uri = build_otpauth_uri(secret, policy, OtpauthLabel("Bank", "alice"))
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    now = int(time.time())
    assert totp.verify(_oathtool(secret, policy, now), for_time=now)


def test_oathtool_agrees_beyond_2_to_the_32_seconds() -> None:  # S3
    secret = TotpSecret.from_bytes(b"12345678901234567890")
    policy = TotpPolicy(HashAlgorithm.SHA1, 8, 30)
    assert _oathtool(secret, policy, 20000000000) == "65353130"
    assert pyotp.TOTP(secret.base32, digits=8).at(20000000000) == "65353130"


async def test_secret_survives_encryption_and_still_matches_oathtool() -> None:
    import os
    import uuid

    from application.ports.secret_cipher import SecretOwner

    cipher = LocalAesGcmCipher({1: os.urandom(32)})
    secret = TotpSecret.from_entropy(os.urandom(20))
    owner = SecretOwner("alice", uuid.uuid4())
    recovered = await cipher.decrypt(await cipher.encrypt(secret, owner), owner)
    now = int(time.time())
    assert pyotp.TOTP(recovered.base32).at(now) == _oathtool(secret, TotpPolicy(), now)
