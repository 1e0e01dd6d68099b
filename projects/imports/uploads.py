"""Uploads reach the import on disk with their sha256, computed as the bytes stream in.

Django's own upload handlers, each also hashing what it receives (FILE_UPLOAD_HANDLERS names them), and the
same for a JSON request body, which the import spools to a temporary file instead of holding it in memory.
"""
import hashlib
from typing import BinaryIO

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

from .types import ImportError_

SPOOL_CHUNK_BYTES = 1024 * 1024


class _Hashing:
    """Mixed into an upload handler: hash every chunk on its way in and attach the digest to the file."""

    def new_file(self, *args, **kwargs):
        self.sha256 = hashlib.sha256()
        return super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            uploaded.sha256 = self.sha256.hexdigest()
        return uploaded


class HashingMemoryFileUploadHandler(_Hashing, MemoryFileUploadHandler):
    """Small files (up to FILE_UPLOAD_MAX_MEMORY_SIZE) in memory."""


class HashingTemporaryFileUploadHandler(_Hashing, TemporaryFileUploadHandler):
    """Larger files in a temporary file."""


def spool_body(stream: BinaryIO, *, name: str, content_type: str, limit: int) -> TemporaryUploadedFile:
    """Copy a request body to a temporary file in chunks, hashing it; over `limit` bytes is a 413. The caller
    closes the file (which deletes it)."""
    spooled = TemporaryUploadedFile(name, content_type, 0, None)
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in iter(lambda: stream.read(SPOOL_CHUNK_BYTES), b""):
            size += len(chunk)
            if size > limit:
                raise ImportError_(f"{name}: the request body is over the {limit}-byte limit of an import", status=413)
            digest.update(chunk)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.size, spooled.sha256 = size, digest.hexdigest()
    spooled.seek(0)
    return spooled
