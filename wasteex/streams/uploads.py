"""Lab-report files: type sniffed from content, size-capped, stored outside the web root."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    content_type: str
    size_bytes: int
    sha256: str


class UploadRefused(ValueError):
    pass


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, suffix in SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    return None


def store(data: bytes) -> StoredFile:
    """Keep the bytes under a random name; the original name never touches the file system."""
    if not data:
        raise UploadRefused("empty")
    if len(data) > MAX_BYTES:
        raise UploadRefused("too_large")
    kind = sniff(data[:16])
    if kind is None:
        raise UploadRefused("type")
    content_type, suffix = kind
    name = secrets.token_hex(16) + suffix
    (upload_dir() / name).write_bytes(data)
    return StoredFile(name, content_type, len(data), hashlib.sha256(data).hexdigest())


def path_of(stored_name: str) -> Path:
    return upload_dir() / Path(stored_name).name
