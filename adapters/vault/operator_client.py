"""The operator's Vault client for ``vault-setup``: hvac, blocking, configured from the settings only."""

from __future__ import annotations

import ssl
from pathlib import Path

import hvac

from adapters.vault.settings import TokenAuth, TokenFileAuth, VaultSettings


def build_operator_client(settings: VaultSettings) -> hvac.Client:
    """An hvac client with the operator's token (a plain token or a token file) and the TLS and
    timeout settings of ``settings``. No network call is made here.

    hvac would otherwise take ``VAULT_TOKEN``, ``~/.vault-token``, ``VAULT_CACERT`` or
    ``VAULT_CAPATH``, and requests proxy variables, ``.netrc`` and ``REQUESTS_CA_BUNDLE``: none of
    them applies. Redirects are not followed, so the token never travels to another host.
    """
    if isinstance(settings.auth, TokenAuth):
        token = settings.auth.token
    elif isinstance(settings.auth, TokenFileAuth):
        token = settings.auth.path.read_text(encoding="utf-8").strip()
    else:
        token = ""
    client = hvac.Client(
        url=settings.addr,
        token=token,
        verify=_verify(settings),
        timeout=settings.timeout,
        namespace=settings.namespace,
        allow_redirects=False,
    )
    client.adapter.session.trust_env = False
    return client


def _verify(settings: VaultSettings) -> bool | str:
    """requests' ``verify``: the configured CA, else the system's store (not certifi's)."""
    if settings.ca_cert is not None:
        return str(settings.ca_cert)
    if not settings.tls_verify:
        return False
    defaults = ssl.get_default_verify_paths()
    for candidate in (defaults.cafile, defaults.capath):
        if candidate and Path(candidate).exists():
            return candidate
    return True
