"""The suite's own TOTP implementation, which computes every code the suite sends, against the test
vectors of RFC 6238 appendix B: the oracle is checked before it judges the service."""

from __future__ import annotations

import base64

import pytest

from tests.contract.http.totp import Authenticator, totp

SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_the_suites_totp_gives_the_rfc_6238_values(
    at: int, sha1: str, sha256: str, sha512: str
) -> None:
    for algorithm, expected in (("SHA1", sha1), ("SHA256", sha256), ("SHA512", sha512)):
        secret = base64.b32encode(SEEDS[algorithm]).decode().rstrip("=")

        assert totp(secret, at, digits=8, algorithm=algorithm) == expected


def test_an_app_reads_its_parameters_from_the_otpauth_uri() -> None:
    secret = base64.b32encode(SEEDS["SHA1"]).decode().rstrip("=")
    enrollment = {
        "secret": secret,
        "algorithm": "SHA1",
        "digits": 8,
        "period": 30,
        "otpauthUri": f"otpauth://totp/Bank%20X:alice%40example.com?secret={secret}"
        "&issuer=Bank%20X&algorithm=SHA1&digits=8&period=30",
    }

    app = Authenticator.from_enrollment(enrollment)

    assert app.code(59) == "94287082"
    assert app.code(29, steps=1) == "94287082"
    assert app.wrong_code(1234567890) not in {app.code(1234567890, s) for s in range(-11, 12)}
