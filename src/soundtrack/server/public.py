"""What the API shows of an object: everything but where files lie on the server.

Recordings, cues and episodes carry file paths (``path``, ``media_path``, ``timeline_png``); a
public server should not tell the world its directory layout, so every JSON answer goes through
:class:`PublicJSONResponse`, which drops those keys at any depth. The timeline picture has its own
URL (``timeline_url``).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

#: Keys holding server file paths.
PRIVATE_KEYS = frozenset({"path", "media_path", "timeline_png"})


def redact(value: Any) -> Any:
    """``value`` without :data:`PRIVATE_KEYS` in any of its (nested) dicts."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if k not in PRIVATE_KEYS}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class PublicJSONResponse(JSONResponse):
    """The app's default response class: JSON with server paths removed."""

    def render(self, content: Any) -> bytes:
        return super().render(redact(content))
