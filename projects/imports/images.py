"""Read uploaded images and ZIP archives of images into tasks, checking them before anything decodes them.

Nothing is held in memory whole: an image is read in chunks with a running count into a spooled temporary file
for Pillow to check, a ZIP is refused from its directory (entry count, sizes, compression ratio, paths) before
any entry is unpacked, and each entry is unpacked as a stream that stops at its declared size.
"""
import io
import os
import tempfile
import zipfile
import zlib
from contextlib import contextmanager, nullcontext
from typing import BinaryIO, Callable, ContextManager, Iterator

from PIL import Image

from .types import ImageUpload, ImportError_, ImportLimits, ParsedTask
from ..label_config import LabelConfig

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
# What Pillow may identify an upload as, whatever its extension: formats browsers can show, nothing exotic.
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF")
# ZIP members that archivers add and nobody means to import.
ZIP_JUNK_PREFIXES = ("__MACOSX/",)
ZIP_JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# ZIP entries larger than this must not unpack to more than `zip_max_ratio` times their compressed size.
ZIP_RATIO_CHECK_MIN_BYTES = 1024 * 1024
# Image bytes stay in memory up to this size while Pillow checks them, then go to a temporary file.
IMAGE_SPOOL_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024


def read_image(name: str, stream: BinaryIO, config: LabelConfig, limits: ImportLimits) -> ParsedTask:
    """One uploaded image file as a task."""
    return _image_task(config, _check_image(name, lambda: _rewound(stream), limits))


def extension_of(name: str) -> str:
    return os.path.splitext(name.lower())[1]


def _image_task(config: LabelConfig, image: ImageUpload) -> ParsedTask:
    image_fields = config.data_fields_of_kind("image")
    if not image_fields:
        raise ImportError_(f"{image.name}: this project's label config has no <Image> to show an image in")
    if len(config.objects) != 1:
        raise ImportError_(f"{image.name}: image uploads need a label config whose only object is one <Image>")
    # The URL is filled in by the caller once the image is stored.
    return ParsedTask(
        data={image_fields[0]: ""},
        meta={"file_name": image.name, "image_width": image.width, "image_height": image.height},
        image=image,
    )


def _check_image(name: str, open_image: Callable[[], ContextManager[BinaryIO]], limits: ImportLimits) -> ImageUpload:
    """Check an image's format and pixel count from its header, before anything decodes it. The bytes are
    read in chunks with a running count, spooled to a temporary file past IMAGE_SPOOL_BYTES, never whole."""
    with open_image() as stream, tempfile.SpooledTemporaryFile(max_size=IMAGE_SPOOL_BYTES) as copy:
        for chunk in iter(lambda: stream.read(READ_CHUNK_BYTES), b""):
            copy.write(chunk)
            if copy.tell() > limits.max_bytes:
                raise ImportError_(f"{name}: the file is over the {limits.max_bytes}-byte limit", status=413)
        copy.seek(0)
        width, height = _verified_image_size(name, copy, limits)
    return ImageUpload(name=name, width=width, height=height, open=open_image)


def _verified_image_size(name: str, stream: BinaryIO, limits: ImportLimits) -> tuple[int, int]:
    try:
        with Image.open(stream, formats=IMAGE_FORMATS) as image:
            width, height = image.size
            if width * height > limits.max_image_pixels:
                raise ImportError_(
                    f"{name}: {width}x{height} pixels is over the limit of {limits.max_image_pixels} "
                    "(a decompression bomb, or an image too large to label)"
                )
            image.verify()
    except ImportError_:
        raise
    except Image.DecompressionBombError:
        raise ImportError_(f"{name}: too many pixels (a decompression bomb)") from None
    except Exception:
        raise ImportError_(f"{name}: not an image Labeler can read (JPEG, PNG, GIF, BMP, WebP, TIFF)") from None
    return width, height


def _rewound(stream: BinaryIO) -> ContextManager[BinaryIO]:
    """The uploaded file from its start, left open: its owner closes it."""
    stream.seek(0)
    return nullcontext(stream)


def read_zip(name: str, stream: BinaryIO, config: LabelConfig, limits: ImportLimits) -> Iterator[ParsedTask]:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile:
        raise ImportError_(f"{name}: not a valid ZIP archive") from None
    # Not closed here: the caller stores the images after the last one is read, reopening entries. The
    # archive does not own the caller's stream, so leaving it to the garbage collector leaks nothing.
    members = [info for info in archive.infolist() if not _is_zip_junk(info)]
    _check_zip_members(name, members, limits)
    if not members:
        raise ImportError_(f"{name}: the archive holds no images")
    for info in members:
        if extension_of(info.filename) not in IMAGE_EXTENSIONS:
            raise ImportError_(f"{name}: {info.filename} is not an image; a ZIP import holds images only")
        entry_name = info.filename.replace("\\", "/")
        where = f"{name}/{entry_name}"
        image = _check_image(where, lambda info=info, where=where: _zip_entry(archive, info, where), limits)
        image.name = os.path.basename(entry_name)
        yield _image_task(config, image)


@contextmanager
def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> Iterator[BinaryIO]:
    """An entry's bytes as a stream that stops at its declared size: an entry whose header lies about its size
    fails instead of unpacking without end."""
    try:
        with archive.open(info) as entry:
            yield _DeclaredSizeReader(entry, info.file_size, where)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportError_(f"{where}: the archive entry is damaged ({exc})") from None
    except (NotImplementedError, RuntimeError) as exc:  # an unknown compression method, or a password
        raise ImportError_(f"{where}: the archive entry cannot be unpacked ({exc})") from None


class _DeclaredSizeReader(io.RawIOBase):
    """Reads an archive entry, counting; more bytes than the entry declared is a damaged (or hostile) entry."""

    def __init__(self, entry: BinaryIO, declared: int, where: str):
        super().__init__()
        self.entry, self.left, self.where = entry, declared, where

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.entry.read(READ_CHUNK_BYTES if size is None or size < 0 else size)
        self.left -= len(chunk)
        if self.left < 0:
            raise ImportError_(f"{self.where}: the archive entry unpacks past its declared size (damaged or a ZIP bomb)")
        return chunk


def _is_zip_junk(info: zipfile.ZipInfo) -> bool:
    base = os.path.basename(info.filename.rstrip("/"))
    return info.is_dir() or info.filename.startswith(ZIP_JUNK_PREFIXES) or base in ZIP_JUNK_NAMES or base.startswith("._")


def _check_zip_members(name: str, members: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    """Refuse an archive from its directory alone, before any entry is unpacked: too many entries, paths
    outside it, an entry too large or compressed past `zip_max_ratio`, or too much in all."""
    if len(members) > limits.zip_max_entries:
        raise ImportError_(f"{name}: {len(members)} entries is over the limit of {limits.zip_max_entries}")
    total = 0
    for info in members:
        path = info.filename.replace("\\", "/")
        if path.startswith("/") or ".." in path.split("/") or (len(path) > 1 and path[1] == ":"):
            raise ImportError_(f"{name}: entry {info.filename!r} points outside the archive")
        if info.file_size > limits.max_bytes:
            raise ImportError_(
                f"{name}: entry {info.filename!r} unpacks to {info.file_size} bytes, over the {limits.max_bytes}-byte limit",
                status=413,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ZIP_RATIO_CHECK_MIN_BYTES and ratio > limits.zip_max_ratio:
            raise ImportError_(
                f"{name}: entry {info.filename!r} unpacks {info.compress_size} bytes to {info.file_size} "
                f"({ratio:.0f}:1, over the {limits.zip_max_ratio}:1 limit; a ZIP bomb?)",
                status=413,
            )
        total += info.file_size
    if total > limits.zip_max_uncompressed_bytes:
        raise ImportError_(
            f"{name}: unpacks to {total} bytes, over the limit of {limits.zip_max_uncompressed_bytes} (a ZIP bomb?)",
            status=413,
        )
