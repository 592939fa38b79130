"""Errors at the HTTP edge: every answer that is not 2xx is JSON ``{"detail": str, "code": str}``.

``code`` is a stable machine-readable name (``not_found``, ``too_large``, ``clip_too_long``,
``unreadable_audio``, ``token_required``, ``token_invalid``, ...); ``detail`` is one sentence for
a person. soundtrack's own exceptions map to 4xx here, never to 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..errors import AudioError, CatalogUnavailableError, LibraryLockedError, NotFoundError, SoundtrackError


class ApiError(Exception):
    """An answer with HTTP ``status``, a ``code`` and a ``detail`` sentence (and optional headers)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Translate :class:`ApiError` and soundtrack's exceptions into JSON answers."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(NotFoundError)
    async def _not_found(_request: Request, exc: NotFoundError) -> JSONResponse:
        return error_response(404, "not_found", str(exc))

    @app.exception_handler(AudioError)
    async def _audio(_request: Request, exc: AudioError) -> JSONResponse:
        return error_response(422, "unreadable_audio", exc.reason)

    @app.exception_handler(LibraryLockedError)
    async def _locked(_request: Request, exc: LibraryLockedError) -> JSONResponse:
        return error_response(503, "busy", str(exc), {"Retry-After": "5"})

    @app.exception_handler(CatalogUnavailableError)
    async def _catalog_down(_request: Request, exc: CatalogUnavailableError) -> JSONResponse:
        return error_response(503, "catalog_unavailable", str(exc), {"Retry-After": "5"})

    @app.exception_handler(SoundtrackError)
    async def _soundtrack(_request: Request, exc: SoundtrackError) -> JSONResponse:
        return error_response(400, "bad_request", str(exc))
