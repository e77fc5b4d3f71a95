"""Which transit key the service uses: the defaults, and the spelling a name must have.

Names end up in URL paths and in HCL policies; accepting only plain names keeps both unambiguous.
"""

from __future__ import annotations

import re
from typing import Final

DEFAULT_KEY: Final = "mfa-totp"
DEFAULT_MOUNT: Final = "transit"

_KEY_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_MOUNT_PATH: Final = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")


def check_names(mount: str, key: str) -> None:
    """Returns if ``mount`` is a path of plain segments and ``key`` a plain name.

    Raises:
        ValueError: either contains anything else (``*``, ``+``, quotes, ``..``, leading ``/``, ...).
    """
    if not _MOUNT_PATH.fullmatch(mount):
        raise ValueError(f"invalid transit mount path {mount!r}")
    if not _KEY_NAME.fullmatch(key) or ".." in key:
        raise ValueError(f"invalid transit key name {key!r}")
