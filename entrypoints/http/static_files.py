"""The files of the pages the service serves (the API viewer's, the reference page's)."""

from __future__ import annotations

from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.types import PathType
from litestar.types.file_types import FileInfo


class LocalFiles(BaseLocalFileSystem):
    """Litestar's local file system, except that a path holding a NUL byte is a missing file (404):
    the OS refuses such a path with ``ValueError``, which Litestar's static files let through as a
    500 that anyone could trigger without a token."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        if "\x00" in str(path):
            raise FileNotFoundError(path)
        return await super().info(path, **kwargs)
