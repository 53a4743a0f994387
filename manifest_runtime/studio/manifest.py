"""The manifest the page shows, re-validated whenever its file changes (edit-reload): the
file's modification time and size are looked at on each poll of the page; a change compiles
it again and bumps `version`."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import CompiledManifest


class WatchedManifest:
    def __init__(self, path: str) -> None:
        self.path = path
        self.version = 0
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self.compiled: CompiledManifest = self._compile()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _compile(self) -> CompiledManifest:
        from ..compile import load_and_compile

        self._stamp = self._stat()
        self.version += 1
        return load_and_compile(self.path)

    def refresh(self) -> bool:
        """Compile again if the file changed since; True when it did."""
        with self._lock:
            if self._stat() == self._stamp:
                return False
            self.compiled = self._compile()
            return True
