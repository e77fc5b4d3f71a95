"""Whether Vault is up and unsealed, for the readiness endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import hvac

from adapters.vault.errors import UnexpectedAnswer, unavailable
from adapters.vault.gateway import VaultGateway

_HEALTH_STATUSES: Final[Mapping[int, str]] = {
    472: "disaster-recovery secondary (472)",
    473: "performance standby (473)",
    501: "not initialized (501)",
    503: "sealed (503)",
}


class VaultProbe:
    """Implements ReadinessProbe with ``GET sys/health`` (unauthenticated), through the cipher's
    gateway: same worker-thread limit, same deadline.

    A standby counts as ready: it forwards requests to the active node. The token is not checked.
    """

    name = "vault"

    def __init__(self, gateway: VaultGateway) -> None:
        self._gateway = gateway

    async def check(self) -> None:
        """Returns when Vault answers initialized and unsealed.

        Raises:
            DependencyUnavailable: sealed, uninitialized, unreachable, or no answer within the deadline.
        """
        await self._gateway.call("health check", _check_health)


def _check_health(client: hvac.Client) -> None:
    status = client.sys.read_health_status(method="GET", standby_ok=True)
    if not isinstance(status, Mapping):  # hvac returns the raw response for any status but 200
        code = getattr(status, "status_code", 0)
        raise unavailable("health check", _HEALTH_STATUSES.get(code, f"health status {code}"))
    if status.get("initialized") is not True or status.get("sealed") is not False:
        raise UnexpectedAnswer("health answer says not ready")
