"""Small file helpers of the file store: a folder's fsync and one JSON file read as a model."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .base import StoreError

M = TypeVar("M", bound=BaseModel)


def fsync_dir(path: Path) -> None:
    """fsync the folder ``path`` (makes a rename or a new file in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def read_model(path: Path, model: type[M], what: str) -> M | None:
    """The JSON file at ``path`` as ``model``; None when it does not exist, StoreError when unreadable."""
    # One executor hop whether or not the file exists (open, read and close together), so a
    # missing session costs the same I/O round trip as a present one (session ids are not timeable).
    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path.name}: {exc}") from exc
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise StoreError(f"corrupt {what} {path.name}") from exc
