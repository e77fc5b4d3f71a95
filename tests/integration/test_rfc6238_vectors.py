"""RFC 6238 Appendix B test vectors, through the secret and policy types and the TOTP libraries the
service relies on (pyotp) and is checked against (oathtool)."""

import hashlib
import subprocess

import pyotp
import pytest

from domain.policy import HashAlgorithm, TotpPolicy
from domain.secret import TotpSecret

SEEDS = {
    HashAlgorithm.SHA1: b"12345678901234567890",
    HashAlgorithm.SHA256: b"12345678901234567890123456789012",
    HashAlgorithm.SHA512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
DIGESTS = {
    HashAlgorithm.SHA1: hashlib.sha1,
    HashAlgorithm.SHA256: hashlib.sha256,
    HashAlgorithm.SHA512: hashlib.sha512,
}


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc_6238_appendix_b(unix_time: int, sha1: str, sha256: str, sha512: str) -> None:  # S3
    for algorithm, expected in zip(HashAlgorithm, (sha1, sha256, sha512), strict=True):
        secret = TotpSecret.from_bytes(SEEDS[algorithm])
        policy = TotpPolicy(algorithm, 8, 30)
        totp = pyotp.TOTP(secret.base32, digits=8, digest=DIGESTS[algorithm], interval=30)
        assert totp.generate_otp(policy.time_step(unix_time)) == expected
        oathtool = subprocess.run(
            ["oathtool", f"--totp={algorithm.value.lower()}", "--base32", "--digits=8",
             f"--now=@{unix_time}", secret.base32],
            capture_output=True, check=True, text=True, timeout=10,
        )  # fmt: skip
        assert oathtool.stdout.strip() == expected
