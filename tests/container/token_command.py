"""Prints a bearer token for a subject from the key file the image test wrote: the contract suite's
``--token-command`` against the container.

    python -m tests.container.token_command IDENTITY_PROVIDER_FILE SUBJECT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from joserfc.jwk import ECKey

from tests.contract.http.tokens import SigningKey, TokenIssuer


def write_identity_provider(issuer: TokenIssuer, path: Path) -> Path:
    """Saves what ``main`` needs to mint tokens as ``issuer`` (its private key: test use only)."""
    document = {
        "issuer": issuer.issuer,
        "audience": issuer.audience,
        "scope": issuer.scope,
        "key": dict(issuer.key.private.as_dict(private=True)),
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(0o600)
    return path


def main(arguments: list[str]) -> int:
    if len(arguments) != 2:
        sys.stderr.write(__doc__ or "")
        return 2
    document = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    issuer = TokenIssuer(
        document["issuer"],
        document["audience"],
        scope=document["scope"],
        key=SigningKey(ECKey.import_key(document["key"])),
    )
    sys.stdout.write(issuer.mint(arguments[1]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
