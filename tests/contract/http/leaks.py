"""What must never reach a log: every secret, otpauth URI, QR code, code, recovery code and token the
suite saw cross its HTTP clients (SECURITY.md "Logging", S5, D4)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

FORBIDDEN_MARKERS = ("otpauth://", "data:image/")
"""No log line may hold an otpauth URI or a QR code image, whoever's."""

_CODE = re.compile(r"\d{6,10}")
_WORD = re.compile(r"[A-Za-z0-9_-]{8,}")
_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d{6,10}(?![0-9A-Za-z])")
"""A run of digits that could be a code: not part of a word, a hex id or a decimal fraction."""
_STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@dataclass
class SeenValues:
    """The sensitive values that crossed the suite's clients, and a test for their presence in logs.

    Values are looked up as whole words of the log text (runs of the base64url alphabet and '-'), so
    that thousands of values are checked against megabytes of logs in one pass; tokens are looked up
    by their payload and signature segments, which any logged token contains (opaque ones whole)."""

    words: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)

    def add_word(self, value: object, *, minimum: int = 12) -> None:
        if isinstance(value, str) and len(value) >= minimum:
            self.words.add(value)

    def add_token(self, token: str) -> None:
        segments = token.split(".")
        # A JWT by its payload and signature; an opaque token (introspection) whole.
        for segment in segments[1:] or segments:
            self.add_word(segment, minimum=16)

    def add_code(self, value: object) -> None:
        if isinstance(value, str) and _CODE.fullmatch(value):
            self.codes.add(value)

    def add_recovery_code(self, value: object) -> None:
        if isinstance(value, str):
            self.add_word(value.strip(), minimum=8)
            self.add_word(re.sub(r"[\s-]", "", value), minimum=8)

    async def on_request(self, request: httpx.Request) -> None:
        """An httpx request hook: the token, a step-up code, a code or recovery code in the body."""
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            self.add_token(authorization[7:].strip())
        self.add_code(request.headers.get("x-mfa-code"))
        for value in request.url.params.get_list("access_token"):
            self.add_token(value)
        body = _json_object(request.content)
        self.add_code(body.get("code"))
        self.add_recovery_code(body.get("recoveryCode"))

    async def on_response(self, response: httpx.Response) -> None:
        """An httpx response hook: the secret and the recovery codes a response shows."""
        body = _json_object(await response.aread())
        self.add_word(body.get("secret"))
        for recovery_code in body.get("recoveryCodes") or []:
            self.add_recovery_code(recovery_code)

    def leaks_in(self, text: str) -> list[str]:
        """The seen values and forbidden markers ``text`` holds, shortened so the report leaks
        nothing whole."""
        found = [marker for marker in FORBIDDEN_MARKERS if marker in text]
        found += sorted(self.words & set(_WORD.findall(text)))
        found += sorted(self.codes & set(_NUMBER.findall(text)))
        return [f"{value[:6]}…({len(value)} chars)" for value in found]


def _json_object(content: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(content) if content else None
    except (ValueError, RecursionError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


CLIENT_SIDE_LOGGERS = ("httpx", "httpcore")
"""The suite's own HTTP client logs its request lines, query strings included: not the service's.
(The service's own httpx client, for the JWKS, is quiet below WARNING in production.)"""


def service_lines(records: Iterable[logging.LogRecord]) -> list[str]:
    """The service's log records, each as any formatter could print it: message, exception and every
    extra field."""
    return [
        _render(record) for record in records if not record.name.startswith(CLIENT_SIDE_LOGGERS)
    ]


def _render(record: logging.LogRecord) -> str:
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_FIELDS}
    exception = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    return f"{record.levelname} {record.name} {record.getMessage()} {extras} {exception}"


@dataclass
class ServiceLogs:
    """The service's log lines of the whole run: caplog's records of every test, at DEBUG, and the log
    files of every served process."""

    lines: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def text(self) -> str:
        files = [path.read_text(encoding="utf-8", errors="replace") for path in self.files]
        return "\n".join([*self.lines, *files])
