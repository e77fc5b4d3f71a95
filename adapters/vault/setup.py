"""Provisioning, run by an operator or a deploy job with an administrative token, never by the service:
the transit mount and key, checked against S4, and the least-privilege policies of S6."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import hvac
from hvac.exceptions import InvalidPath, InvalidRequest

from adapters.vault.names import DEFAULT_KEY, DEFAULT_MOUNT, check_names

KEY_TYPE: Final = "aes256-gcm96"

_REQUIRED_KEY_SETTINGS: Final[Mapping[str, object]] = {
    "type": KEY_TYPE,
    "derived": True,  # a context per owner: ciphertexts are bound to their owner
    "exportable": False,
    "allow_plaintext_backup": False,
    "convergent_encryption": False,
}


class TransitKeyMisconfigured(Exception):
    """The mount or the key exists but not as S4 requires; the message lists every difference.

    Transit key settings cannot be changed after creation: create a new key under another name
    and move the ciphertexts to it, or fix the mount.
    """


@dataclass(frozen=True, slots=True)
class TransitKeyReport:
    """What :func:`ensure_transit_key` found or did."""

    mount_created: bool
    key_created: bool
    latest_version: int


def ensure_transit_key(
    client: hvac.Client, mount: str = DEFAULT_MOUNT, key: str = DEFAULT_KEY
) -> TransitKeyReport:
    """Makes sure the transit engine is mounted at ``mount`` and ``key`` exists with the S4 settings:
    aes256-gcm96, derived, not exportable, no plaintext backup, not convergent. Idempotent; an existing
    key is checked, never changed.

    ``client`` needs ``read`` on ``sys/mounts``, ``create, update`` on ``sys/mounts/MOUNT`` (first run
    only), and ``create, read`` on ``MOUNT/keys/KEY``. Blocking.

    Raises:
        TransitKeyMisconfigured: the mount holds another engine, or the key has other settings.
        ValueError: ``mount`` or ``key`` is not a plain name.
        hvac.exceptions.VaultError, requests.RequestException: Vault refused or did not answer.
    """
    check_names(mount, key)
    mount_created = _ensure_mount(client, mount)
    key_created = False
    try:
        settings = _key_settings(client, mount, key)
    except InvalidPath:
        client.secrets.transit.create_key(
            key,
            key_type=KEY_TYPE,
            derived=True,
            exportable=False,
            allow_plaintext_backup=False,
            convergent_encryption=False,
            mount_point=mount,
        )
        key_created = True
        settings = _key_settings(client, mount, key)
    problems = [
        f"{name} is {settings.get(name)!r}, must be {required!r}"
        for name, required in _REQUIRED_KEY_SETTINGS.items()
        if settings.get(name) != required
    ]
    if problems:
        raise TransitKeyMisconfigured(f"transit key {mount}/{key}: " + "; ".join(problems))
    return TransitKeyReport(mount_created, key_created, int(settings["latest_version"]))


def service_policy(mount: str = DEFAULT_MOUNT, key: str = DEFAULT_KEY) -> str:
    """The service's HCL policy: encrypt and decrypt with ``key``, nothing else (S6).

    No ``create`` anywhere: with it, encrypting under a misspelt key name would silently create a
    new key. No ``read`` of the key either: the service never needs its metadata.
    """
    check_names(mount, key)
    return (
        f"# mfa-service: encrypt and decrypt TOTP secrets with {mount}/{key} (SECURITY.md S6).\n"
        f"{_update(f'{mount}/encrypt/{key}')}\n{_update(f'{mount}/decrypt/{key}')}"
    )


def rotation_job_policy(mount: str = DEFAULT_MOUNT, key: str = DEFAULT_KEY) -> str:
    """The rotation job's HCL policy: rewrap with ``key`` and read its versions (S4, S6).

    Rewrap never returns plaintext. Rotating the key and raising ``min_decryption_version`` stay
    operator actions, outside this policy.
    """
    check_names(mount, key)
    return (
        f"# mfa-service rotation job: move ciphertexts to the newest version of {mount}/{key}.\n"
        f"{_update(f'{mount}/rewrap/{key}')}\n"
        f'path "{mount}/keys/{key}" {{\n  capabilities = ["read"]\n}}\n'
    )


def _update(path: str) -> str:
    return f'path "{path}" {{\n  capabilities = ["update"]\n}}\n'


def _ensure_mount(client: hvac.Client, mount: str) -> bool:
    if _mounted_type(client, mount) is None:
        try:
            client.sys.enable_secrets_engine("transit", path=mount)
        except InvalidRequest:
            pass  # mounted concurrently by another run, or refused: the check below tells which
        else:
            return True
    engine = _mounted_type(client, mount)
    if engine != "transit":
        raise TransitKeyMisconfigured(f"mount {mount}/ holds {engine!r}, not the transit engine")
    return False


def _mounted_type(client: hvac.Client, mount: str) -> str | None:
    mounts: Mapping[str, Any] = client.sys.list_mounted_secrets_engines()["data"]
    entry = mounts.get(f"{mount}/")
    return None if entry is None else str(entry.get("type"))


def _key_settings(client: hvac.Client, mount: str, key: str) -> Mapping[str, Any]:
    settings: Mapping[str, Any] = client.secrets.transit.read_key(key, mount_point=mount)["data"]
    return settings
