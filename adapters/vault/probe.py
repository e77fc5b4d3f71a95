"""Whether Vault is up and unsealed, for the readiness endpoint."""

from __future__ import annotations

from adapters.vault.client import VaultClient
from adapters.vault.errors import unavailable


class VaultProbe:
    """Implements ReadinessProbe with ``GET sys/health`` (unauthenticated), through the cipher's
    client: same connection pool, same deadline.

    A standby counts as ready (``standbyok``): it forwards requests to the active node. The token is
    not checked. Sealed (503), uninitialized (501), a disaster-recovery secondary (472) and a
    performance standby (473) are not ready.
    """

    name = "vault"

    def __init__(self, client: VaultClient) -> None:
        self._client = client

    async def check(self) -> None:
        """Returns when Vault answers initialized and unsealed.

        Raises:
            DependencyUnavailable: sealed, uninitialized, unreachable, or no answer within the deadline.
        """
        status = await self._client.request(
            "health check", "GET", "sys/health?standbyok=true", authenticated=False
        )
        if status.get("initialized") is not True or status.get("sealed") is not False:
            raise unavailable(
                "health check", "unexpected answer: health answer says not ready"
            ) from None
