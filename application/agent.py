"""Who acts on a customer's data from the helpdesk or the console, and what they must show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.errors import InvalidAdminRequest
from application.ports.clock import Clock
from application.step_up import Authentication, StepUp
from application.storable_text import is_storable
from domain.visible_text import prints, shows_something

MAX_REASON_CHARACTERS = 500
MAX_TICKET_CHARACTERS = 64
MAX_USER_ID_CHARACTERS = 255


@dataclass(frozen=True, slots=True)
class Agent:
    """A helpdesk agent (their token's subject and authentication) or an operator at the console
    (``cli:<os user>``, no token)."""

    subject: str
    authentication: Authentication | None = None


class AgentCheck(Protocol):
    """Decides whether an agent may change a customer's factors."""

    def require(self, agent: Agent, now: datetime) -> None:
        """Returns when the agent may.

        Raises:
            StepUpRequired: the agent's own recent second factor is missing (RFC 9470).
        """
        ...


class RecentSecondFactor:
    """An agent over HTTP: their token must show a second factor used within the step-up's
    ``max_age``, the same rule as a customer's sensitive changes (RFC 9470)."""

    def __init__(self, step_up: StepUp) -> None:
        self._step_up = step_up

    def require(self, agent: Agent, now: datetime) -> None:
        shown = agent.authentication or Authentication(auth_time=None)
        self._step_up.require_second_factor(shown, now)


class OperatorAtConsole:
    """Break-glass use of the CLI: whoever runs it holds the database and Vault credentials
    already, so no token can add to that. Every action is still audited as ``cli:<os user>``."""

    def require(self, agent: Agent, now: datetime) -> None:
        return None


@dataclass(frozen=True, slots=True)
class AdminNote:
    """Why an agent acted (required) and their ticket (optional); both go to the audit trail."""

    reason: str
    ticket: str | None = None

    def __post_init__(self) -> None:
        if not _is_note(self.reason, MAX_REASON_CHARACTERS):
            raise InvalidAdminRequest(
                f"reason must be 1 to {MAX_REASON_CHARACTERS} printable characters (no control, "
                "bidi or other format character), some of them visible",
                "reason",
            )
        if self.ticket is not None and not _is_note(self.ticket, MAX_TICKET_CHARACTERS):
            raise InvalidAdminRequest(
                f"ticket must be 1 to {MAX_TICKET_CHARACTERS} printable characters (no control, "
                "bidi or other format character), some of them visible",
                "ticket",
            )


def _is_note(text: str, max_length: int) -> bool:
    """What the audit trail shows as written: no character that hides, reorders or breaks the
    line (a bidi override could make a reason read otherwise than it was typed)."""
    return is_storable(text, max_length) and all(map(prints, text)) and shows_something(text)


def check_user_id(user_id: str, name: str = "userId") -> str:
    """``user_id`` if the stores can hold it (see ``storable_text``).

    Raises:
        InvalidAdminRequest: empty, over 255 characters, or with a control character or surrogate.
    """
    if not is_storable(user_id, MAX_USER_ID_CHARACTERS):
        raise InvalidAdminRequest(
            f"{name} must be 1 to {MAX_USER_ID_CHARACTERS} characters without control characters",
            name,
        )
    return user_id


def change_allowed_at(check: AgentCheck, clock: Clock, agent: Agent, user_id: str) -> datetime:
    """The time of a change ``agent`` makes to ``user_id``'s factors, once it may be made.

    Raises:
        InvalidAdminRequest: the user id cannot be stored.
        StepUpRequired: the agent's token shows no recent second factor.
    """
    check_user_id(user_id)
    now = clock.now()
    check.require(agent, now)
    return now
