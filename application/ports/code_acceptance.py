from typing import Protocol

from application.ports.audit import RequestContext
from domain.enrollment import Enrollment


class CodeAcceptance(Protocol):
    """Stores what an accepted code changes, as one unit: the step used up, the user's attempt
    throttle reset, the authenticator's new events recorded."""

    async def accept(self, authenticator: Enrollment, context: RequestContext) -> int:
        """Stores ``authenticator``'s step, drift and time of use (``Enrollment.record_use`` was
        applied) only if no code of the same or a later step was accepted meanwhile and it is still
        active; then resets the user's throttle (``AttemptThrottle.succeed``) and records the
        authenticator's new events for ``context`` (``EventRecords``). Raises ``version`` by one.
        Returns how many unused recovery codes the user has.

        Raises:
            ConcurrentUpdate: the step was used meanwhile, or the authenticator is no longer
                active; nothing was written.
            DependencyUnavailable: the store is unreachable or too slow; nothing was written.
        """
        ...
