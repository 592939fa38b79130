"""Request body limits, enforced before a multipart body is parsed or spooled to disk.

:class:`BodyLimit` is a pure ASGI middleware: a request whose ``Content-Length`` exceeds the limit
of its path is answered 413 at once; a body sent without a length (chunked) is counted as it
arrives and answered 413 as soon as it passes the limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bytes a multipart envelope (boundaries, part headers, small form fields) may add to a file.
MULTIPART_SLACK_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The request body went past the limit for its path."""


class BodyLimit:
    """Answer 413 to request bodies over a per-path limit.

    ``limits`` pairs a (method, path predicate) with a limit in bytes and the name of the thing
    limited, for the message: ``[("POST", lambda p: p == "/api/identify", 10_000_000, "clip")]``.
    """

    def __init__(self, app: ASGIApp, limits: Sequence[tuple[str, Callable[[str], bool], int, str]]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = next((r for r in self.limits if r[0] == scope["method"] and r[1](scope["path"])), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        limit = rule[2] + MULTIPART_SLACK_BYTES
        what = rule[3]
        length = _content_length(scope)
        if length is not None and length > limit:
            await _too_large(send, what, rule[2])
            return
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # the app may have turned BodyTooLarge into an answer of its own (FastAPI: 400): replace it
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await _too_large(send, what, rule[2])
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, what, rule[2])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large_detail(what: str, limit_bytes: int) -> str:
    """The message of a 413 answer, naming the limit in megabytes."""
    return f"the {what} is too large: the limit is {limit_bytes / 1e6:g} MB"


async def _too_large(send: Send, what: str, limit_bytes: int) -> None:
    body = json.dumps({"detail": too_large_detail(what, limit_bytes), "code": "too_large"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
