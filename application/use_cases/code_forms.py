"""The forms a code sent for a check can take: an authenticator's N digits, or a recovery code."""

from __future__ import annotations

import contextlib

from domain.enrollment import Enrollment
from domain.errors import InvalidCodeFormat
from domain.otp_code import parse_code
from domain.recovery_codes import hash_recovery_code


def checkable_lengths(
    user_id: str, code: str | None, recovery_code: str | None
) -> frozenset[int] | None:
    """The lengths of authenticator codes the request can be checked against: the code's own
    length; any (None) for a well-formed recovery code; none for a malformed code of either kind."""
    try:
        if recovery_code is not None:
            hash_recovery_code(user_id, recovery_code)
            return None
        code = code or ""
        return frozenset({len(parse_code(code, len(code)))})
    except InvalidCodeFormat:
        return frozenset()


def parse_for_any(code: str, authenticators: list[Enrollment]) -> str:
    """``code`` in the form of one of the ``authenticators``' code lengths.

    Raises:
        InvalidCodeFormat: it fits none of them.
    """
    lengths = sorted({a.policy.digits for a in authenticators})
    for digits in lengths:
        with contextlib.suppress(InvalidCodeFormat):
            return parse_code(code, digits)
    raise InvalidCodeFormat(f"the code must be {' or '.join(map(str, lengths))} digits 0-9")
