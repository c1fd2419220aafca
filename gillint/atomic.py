"""Writing a file so that readers see the whole old content or the whole new one, never a part:
the content goes to a temporary file in the same folder, which is then renamed into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` atomically; on any failure no temporary file is left behind."""
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=str(target.parent))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, str(target))
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
