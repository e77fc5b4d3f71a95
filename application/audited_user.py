"""Who an agent's read or retry is audited about, without bringing an erased id back."""

from __future__ import annotations

from application.ports.audit import EVERY_USER
from application.ports.unit_of_work import UnitOfWork
from domain.pseudonym import is_pseudonym, pseudonym_of


async def audited_user(uow: UnitOfWork, user_id: str | None, pseudonym_key: bytes) -> str:
    """Every user (``user_id`` None), the user, or, when the service holds nothing of them (erased,
    or never seen), their pseudonym: an audit row about an erased user must not name them again.
    A pseudonym (what an erased user's events are found by) is kept as it is; text that only
    begins like one is pseudonymised like any other id."""
    if user_id is None:
        return EVERY_USER
    if is_pseudonym(user_id) or await uow.users.is_known(user_id):
        return user_id
    return pseudonym_of(pseudonym_key, user_id)
