"""starlette's TestClient reads `anyio.abc.BlockingPortal`, an alias anyio >= 4.16 deprecates;
the warnings are raised while the module is imported, which the project's `filterwarnings =
error` would turn into a collection error. Import it once here with that one warning
silenced."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"The anyio\.abc\.\w+ alias is deprecated",
                            category=DeprecationWarning)
    import starlette.testclient  # noqa: F401
