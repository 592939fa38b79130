"""The HTTP server and web page of soundtrack (FastAPI): see :func:`create_app`."""

from .app import create_app, create_app_from_env
from .settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "create_app_from_env"]
