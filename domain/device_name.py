"""The name a customer gives an authenticator, to tell several apart."""

from domain.errors import InvalidDeviceName
from domain.visible_text import prints, shows_something

MAX_DEVICE_NAME = 64


def validate_device_name(name: str) -> str:
    """``name`` if it is 1 to 64 printable characters, at least one of them visible (not only spaces
    or blank fillers).

    Raises:
        InvalidDeviceName: otherwise.
    """
    if not 1 <= len(name) <= MAX_DEVICE_NAME:
        raise InvalidDeviceName(f"deviceName must be 1 to {MAX_DEVICE_NAME} characters")
    if not all(map(prints, name)):
        raise InvalidDeviceName("deviceName must contain printable characters only")
    if not shows_something(name):
        raise InvalidDeviceName("deviceName must show at least one visible character")
    return name
