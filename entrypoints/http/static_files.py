"""The files of the pages the service serves (the API viewer's, the reference page's)."""

from __future__ import annotations

from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.types import PathType
from litestar.types.file_types import FileInfo


class LocalFiles(BaseLocalFileSystem):
    """Litestar's local file system, except that a path the OS cannot look up is a missing file
    (404): a NUL byte (``ValueError``), a file taken for a directory (``NotADirectoryError``), a
    name too long (``ENAMETOOLONG``). Litestar's static files let those through as 500s that anyone
    could trigger without a token. A file that exists but cannot be read stays an error."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except PermissionError:
            raise
        except (OSError, ValueError) as unreadable:
            raise FileNotFoundError(path) from unreadable
