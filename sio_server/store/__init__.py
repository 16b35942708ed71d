"""Session stores behind one interface, chosen by settings."""

from __future__ import annotations

from ..settings import Settings
from .base import SessionStore, StoreError, Tombstone, VersionConflict
from .files import FileSessionStore


def make_store(settings: Settings) -> SessionStore:
    """The PostgreSQL store when ``DATABASE_URL`` is set, else the file store (shared by the processes of one
    machine when ``REDIS_URL`` says there are several)."""
    if settings.database_url:
        from .postgres import PostgresSessionStore

        return PostgresSessionStore(settings.database_url, schema=settings.database_schema)
    if settings.redis_url:
        from .shared_files import SharedFileSessionStore

        return SharedFileSessionStore(
            settings.data_dir,
            free_margin_bytes=settings.store_free_margin_bytes,
            tombstone_retention=settings.tombstone_retention,
        )
    return FileSessionStore(
        settings.data_dir,
        free_margin_bytes=settings.store_free_margin_bytes,
        tombstone_retention=settings.tombstone_retention,
    )


__all__ = ["FileSessionStore", "SessionStore", "StoreError", "Tombstone", "VersionConflict", "make_store"]
