"""The name a customer gives an authenticator, to tell several apart."""

from domain.errors import InvalidDeviceName

MAX_DEVICE_NAME = 64


def validate_device_name(name: str) -> str:
    """``name`` if it is 1 to 64 printable characters, not only spaces.

    Raises:
        InvalidDeviceName: otherwise.
    """
    if not 1 <= len(name) <= MAX_DEVICE_NAME or not name.strip():
        raise InvalidDeviceName(f"deviceName must be 1 to {MAX_DEVICE_NAME} characters")
    if not name.isprintable():
        raise InvalidDeviceName("deviceName must contain printable characters only")
    return name
