"""The one table from errors to RFC 9457 problems, and the Litestar handlers that apply it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from application.errors import (
    ActivatedMeanwhile,
    AnswerNotRepeatable,
    ApplicationError,
    AuthenticatorParametersIgnored,
    CodeRejected,
    ConcurrentUpdate,
    DependencyUnavailable,
    DeviceClockSkew,
    EnrollmentNotFound,
    EnrollmentRateLimited,
    InsufficientScope,
    InvalidAdminRequest,
    InvalidToken,
    MissingToken,
    NoActiveAuthenticator,
    SecondFactorSignInRequired,
    SecretUnreadable,
    StepUpRequired,
    StoreRefusedValue,
    ThrottleBusy,
    TooManyAuthenticators,
    UserNotFound,
)
from application.idempotency import IdempotencyKeyReused, IdempotentRequestInFlight
from domain.errors import (
    DomainError,
    EnrollmentExpired,
    EnrollmentNotPending,
    InvalidCodeFormat,
    InvalidDeviceName,
    InvalidOtpauthLabel,
    InvalidSecret,
    InvalidTotpPolicy,
    LockedOut,
    StepAlreadyUsed,
    UnsupportedMfaMethod,
)
from entrypoints.http.client_disconnect import CLIENT_CLOSED_REQUEST, client_went_away
from entrypoints.http.request_context import request_id_of
from entrypoints.http.schemas import FieldError, Problem

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:mfa-service:problem:"
REALM = "mfa-service"

logger = logging.getLogger("mfa.http")


class MalformedBody(Exception):
    """The body is not well-formed UTF-8 JSON of a sane depth, or is missing."""

    field = "body"


class UnsupportedMediaType(Exception):
    """The body is not ``application/json``."""


class Overloaded(Exception):
    """The worker already serves as many requests as it may; retry after ``retry_after`` s.
    ``load_shedding`` answers it before routing, with ``overloaded_problem()``."""

    retry_after = 1


@dataclass(frozen=True, slots=True)
class ProblemType:
    status: HTTPStatus
    slug: str
    title: str
    public_detail: str | None = None
    """When set, replaces the exception's message, which then never reaches the client."""


INTERNAL = ProblemType(
    HTTPStatus.INTERNAL_SERVER_ERROR,
    "internal",
    "Internal server error",
    "An unexpected error occurred. Quote the correlation id when reporting it.",
)

INVALID_CODE = ProblemType(
    HTTPStatus.BAD_REQUEST,
    "invalid-code",
    "Invalid code",
    "The code is not valid. Check the time on your device and enter the newest code.",
)
"""A wrong and a replayed code get this same answer (SECURITY.md V4)."""

TOO_MANY_ATTEMPTS = ProblemType(
    HTTPStatus.TOO_MANY_REQUESTS,
    "too-many-attempts",
    "Too many attempts",
    "Too many failed attempts. Wait for the time in Retry-After, then try again.",
)

STEP_UP_REQUIRED = ProblemType(
    HTTPStatus.UNAUTHORIZED,
    "step-up-required",
    "Recent authentication required",
    "Sign in again with your second factor, or send a current code in X-MFA-Code.",
)

CONFLICT = ProblemType(
    HTTPStatus.CONFLICT,
    "conflict",
    "Conflict",
    "Another request changed the same data at the same time. Retry.",
)

ERROR_TABLE: dict[type[Exception], ProblemType] = {
    MalformedBody: ProblemType(HTTPStatus.BAD_REQUEST, "malformed-body", "Malformed request body"),
    ValidationException: ProblemType(
        HTTPStatus.BAD_REQUEST, "invalid-request", "Invalid request", "The request is invalid."
    ),
    UnsupportedMfaMethod: ProblemType(HTTPStatus.BAD_REQUEST, "invalid-request", "Invalid request"),
    InvalidDeviceName: ProblemType(HTTPStatus.BAD_REQUEST, "invalid-request", "Invalid request"),
    InvalidOtpauthLabel: ProblemType(HTTPStatus.BAD_REQUEST, "invalid-request", "Invalid request"),
    InvalidCodeFormat: ProblemType(HTTPStatus.BAD_REQUEST, "invalid-request", "Invalid request"),
    CodeRejected: INVALID_CODE,
    DeviceClockSkew: ProblemType(
        HTTPStatus.BAD_REQUEST,
        "device-clock-skew",
        "Device clock is off",
        "The code belongs to another time: set your phone's clock to automatic and try again.",
    ),
    AuthenticatorParametersIgnored: ProblemType(
        HTTPStatus.BAD_REQUEST,
        "authenticator-parameters-ignored",
        "Authenticator app not supported",
        "Your app ignored this service's code settings. Use one of the supported apps.",
    ),
    IdempotencyKeyReused: ProblemType(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "Idempotency key reused",
        "This Idempotency-Key was used with another request. Use a new key.",
    ),
    IdempotentRequestInFlight: ProblemType(
        HTTPStatus.CONFLICT,
        "request-in-progress",
        "Request in progress",
        "The first request with this Idempotency-Key is still running. Retry shortly.",
    ),
    AnswerNotRepeatable: ProblemType(
        HTTPStatus.CONFLICT,
        "answer-shown-once",
        "Answer shown once",
        "The first request with this key succeeded and its answer was shown once.",
    ),
    EnrollmentRateLimited: ProblemType(
        HTTPStatus.TOO_MANY_REQUESTS,
        "too-many-enrollments",
        "Too many enrollments",
        "Too many authenticators were set up recently. Wait for the time in Retry-After.",
    ),
    StepAlreadyUsed: INVALID_CODE,
    InvalidAdminRequest: ProblemType(HTTPStatus.BAD_REQUEST, "invalid-request", "Invalid request"),
    UserNotFound: ProblemType(
        HTTPStatus.NOT_FOUND,
        "user-not-found",
        "Not found",
        "The service holds nothing of this user.",
    ),
    EnrollmentNotFound: ProblemType(
        HTTPStatus.NOT_FOUND, "enrollment-not-found", "Not found", "No such authenticator."
    ),
    NoActiveAuthenticator: ProblemType(
        HTTPStatus.NOT_FOUND,
        "no-active-authenticator",
        "No active authenticator",
        "Set up an authenticator app first.",
    ),
    EnrollmentNotPending: ProblemType(
        HTTPStatus.CONFLICT,
        "already-active",
        "Already active",
        "This authenticator is active already.",
    ),
    EnrollmentExpired: ProblemType(
        HTTPStatus.GONE,
        "enrollment-expired",
        "Enrollment expired",
        "This enrollment expired before it was confirmed. Start a new one.",
    ),
    StepUpRequired: STEP_UP_REQUIRED,
    SecondFactorSignInRequired: replace(
        STEP_UP_REQUIRED, public_detail="Sign in again with your second factor."
    ),
    TooManyAuthenticators: ProblemType(
        HTTPStatus.CONFLICT,
        "too-many-authenticators",
        "Too many authenticators",
        "Remove an authenticator before adding another.",
    ),
    LockedOut: TOO_MANY_ATTEMPTS,
    ThrottleBusy: TOO_MANY_ATTEMPTS,
    UnsupportedMediaType: ProblemType(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        "Send the body as application/json, without a content coding.",
    ),
    MissingToken: ProblemType(
        HTTPStatus.UNAUTHORIZED,
        "unauthenticated",
        "Authentication required",
        "Send an access token as 'Authorization: Bearer <token>'.",
    ),
    InvalidToken: ProblemType(
        HTTPStatus.UNAUTHORIZED,
        "invalid-token",
        "Invalid access token",
        "The access token is invalid, expired or not meant for this service.",
    ),
    InsufficientScope: ProblemType(
        HTTPStatus.FORBIDDEN,
        "insufficient-scope",
        "Insufficient scope",
        "The access token lacks the scope this service requires.",
    ),
    ActivatedMeanwhile: CONFLICT,
    ConcurrentUpdate: CONFLICT,
    DependencyUnavailable: ProblemType(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "service-unavailable",
        "Service unavailable",
        "A dependency of the service is unavailable. Nothing was changed; retry later.",
    ),
    Overloaded: ProblemType(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "overloaded",
        "Service busy",
        "The service is serving as many requests as it can. Nothing was done; retry later.",
    ),
    SecretUnreadable: INTERNAL,
    StoreRefusedValue: INTERNAL,
    InvalidSecret: INTERNAL,
    InvalidTotpPolicy: INTERNAL,
    DomainError: INTERNAL,
    ApplicationError: INTERNAL,
    Exception: INTERNAL,
}


def problem_type_for(error: Exception) -> ProblemType:
    """The entry of the nearest class in ``error``'s hierarchy."""
    for cls in type(error).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return INTERNAL


def _headers_for(error: Exception, status: int) -> dict[str, str]:
    if isinstance(error, MissingToken):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}"'}
    if isinstance(error, InvalidToken):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'}
    if isinstance(error, StepUpRequired):
        return {
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_user_authentication", '
            f'error_description="A recent authentication with a second factor is required", '
            f"max_age={error.max_age}"
        }
    if isinstance(error, InsufficientScope):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'}
    if isinstance(
        error, DependencyUnavailable | LockedOut | ThrottleBusy | EnrollmentRateLimited | Overloaded
    ):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, HTTPException) and error.headers:
        return dict(error.headers)
    return {}


_NAMED_FIELD = re.compile(r"field `([^`]{1,64})`")
"""msgspec names a missing or unknown field in its message, while Litestar's key is the parameter."""


def _field_name(item: dict[str, Any]) -> str:
    """The name the client sent: Litestar reports a query parameter or a header by its Python
    name (``user_id``, ``idempotency_key``)."""
    key = str(item.get("key", "body"))  # "" is a query parameter without a name
    if key == "data":
        named = _NAMED_FIELD.search(str(item.get("message", "")))
        return named.group(1) if named else "body"
    first, *rest = key.split("_")
    if item.get("source") == "query":
        return first + "".join(part.capitalize() for part in rest)
    if item.get("source") == "header":
        return "-".join(part[:1].upper() + part[1:] for part in (first, *rest))
    return key


def _field_errors(error: Exception) -> list[FieldError] | None:
    named = getattr(error, "field", None)
    if isinstance(named, str):
        return [FieldError(field=named, message=str(error))]
    if not isinstance(error, ValidationException) or not isinstance(error.extra, list):
        return None
    return [
        FieldError(field=_field_name(item), message=str(item.get("message", ""))[:200])
        for item in error.extra
        if isinstance(item, dict)
    ]


def problem_response(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    """The problem+json response for ``error``. Unexpected errors are logged with a correlation id
    and answered with that id only; a client that went away is noted and answered 499."""
    if client_went_away(request.scope):
        logger.info("client disconnected before its request was read")
        return _problem_response(
            Problem(
                type=TYPE_PREFIX + "client-closed-request",
                title="Client closed request",
                status=CLIENT_CLOSED_REQUEST,
                detail="The client went away before its request was read.",
            ),
            {},
        )
    if isinstance(error, HTTPException) and not isinstance(error, ValidationException):
        status = HTTPStatus(error.status_code)
        problem_type = ProblemType(status, status.phrase.lower().replace(" ", "-"), status.phrase)
        # A 404's detail from Litestar's static files names the directory on disk and echoes the
        # path; the status says all a client needs.
        shows_detail = error.status_code < 500 and status != HTTPStatus.NOT_FOUND
        detail = error.detail if shows_detail else status.description
    else:
        problem_type = problem_type_for(error)
        status = problem_type.status
        detail = problem_type.public_detail or str(error)
    correlation_id = None
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR and status != HTTPStatus.SERVICE_UNAVAILABLE:
        correlation_id = request_id_of(request.scope)
        logger.error("unexpected error", exc_info=error, extra={"correlation_id": correlation_id})
    elif isinstance(error, DependencyUnavailable):
        logger.warning(
            "dependency unavailable: %s%s",
            error.dependency,
            f" ({error.cause})" if error.cause else "",
            exc_info=error.__cause__,
        )
    problem = Problem(
        type=TYPE_PREFIX + problem_type.slug,
        title=problem_type.title,
        status=int(status),
        detail=detail,
        errors=_field_errors(error),
        correlation_id=correlation_id,
        attempts_remaining=error.attempts_left if isinstance(error, CodeRejected) else None,
        estimated_skew_seconds=error.skew_seconds if isinstance(error, DeviceClockSkew) else None,
    )
    return _problem_response(problem, _headers_for(error, int(status)))


def overloaded_problem() -> tuple[Problem, dict[str, str]]:
    """The ``Overloaded`` entry's problem and headers, as ``problem_response`` would make them,
    for an answer built once and sent without a request object."""
    error = Overloaded()
    problem_type = problem_type_for(error)
    problem = Problem(
        type=TYPE_PREFIX + problem_type.slug,
        title=problem_type.title,
        status=int(problem_type.status),
        detail=problem_type.public_detail or str(error),
    )
    return problem, _headers_for(error, problem.status)


def _problem_response(problem: Problem, headers: dict[str, str]) -> Response[Problem]:
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


EXCEPTION_HANDLERS = {Exception: problem_response}
"""Litestar walks the exception's class hierarchy too, so one handler on Exception covers all."""
