"""Reading local inputs: a file:// URL or a path, optionally gzipped."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from records.outcomes import (
    FETCH_BAD_URL,
    FETCH_ERROR,
    FETCH_NOT_FOUND,
    FETCH_TOO_LARGE,
)
from records.urls import to_path

from .content import GZIP_MAGIC, collect, inflate, type_for_name
from .errors import FetchFailure

_CHUNK = 64 * 1024


def local_path(target: str) -> Path:
    """The absolute path a local target names; FetchFailure("fetch.bad_url") if none."""
    try:
        return to_path(target).resolve()
    except (ValueError, OSError) as exc:
        raise FetchFailure(FETCH_BAD_URL, f"invalid file URL {target}: {exc}") from None


def read_file(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """(body, media type) of a local file; gzip is decompressed, both capped at max_bytes."""
    try:
        with path.open("rb") as fh:
            gzipped = path.suffix.lower() == ".gz" or fh.read(2) == GZIP_MAGIC
            fh.seek(0)
            chunks = inflate(_chunks(fh)) if gzipped else _chunks(fh)
            body, _ = collect(chunks, max_bytes)
    except FileNotFoundError:
        raise FetchFailure(FETCH_NOT_FOUND, f"no such file: {path}") from None
    except IsADirectoryError:
        raise FetchFailure(FETCH_NOT_FOUND, f"not a file but a directory: {path}") from None
    except OSError as exc:
        message = f"could not read {path}: {exc.strerror or exc}"
        raise FetchFailure(FETCH_ERROR, message) from None
    except zlib.error as exc:
        raise FetchFailure(FETCH_ERROR, f"corrupt gzip data in {path}: {exc}") from None
    if body is None:
        limit = f"{max_bytes} bytes" + (" once decompressed" if gzipped else "")
        raise FetchFailure(FETCH_TOO_LARGE, f"file {path} is larger than {limit}")
    name = path.name[: -len(".gz")] if path.name.lower().endswith(".gz") else path.name
    return body, type_for_name(name, body)


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk
