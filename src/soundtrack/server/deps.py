"""FastAPI dependencies: the objects a request works with, taken from ``app.state`` (set up by the
lifespan in :mod:`soundtrack.server.app`), and the write-token check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..catalog import Catalog
from ..library import Library
from .errors import ApiError
from .settings import ServerSettings

_bearer = HTTPBearer(auto_error=False, description="An API token (create one with `soundtrack token create`).")


def get_settings(request: Request) -> ServerSettings:
    return request.app.state.settings


def get_library(request: Request) -> Library:
    return request.app.state.library


def get_catalog(request: Request) -> Catalog:
    """The catalog of this server."""
    return request.app.state.catalog


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 without a bearer token, 403 with one the catalog does not know."""
    if credentials is None:
        raise ApiError(401, "token_required",
                       "this action needs an API token: send 'Authorization: Bearer <token>'",
                       {"WWW-Authenticate": "Bearer"})
    if not request.app.state.catalog.verify_token(credentials.credentials):
        raise ApiError(403, "token_invalid", "the API token is not valid (unknown or revoked)")


Settings = Annotated[ServerSettings, Depends(get_settings)]
Lib = Annotated[Library, Depends(get_library)]
Cat = Annotated[Catalog, Depends(get_catalog)]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
SearchQuery = Annotated[str | None, Query(max_length=200, description="Only items matching this text.")]
Token = Depends(require_token)
