"""Small upload files made on the fly for import tests: PNGs (real or with a lying header) and ZIPs."""
import io
import struct
import zipfile
import zlib

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(width: int = 4, height: int = 3, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: what a decompression bomb looks like before decoding."""
    real = png_bytes(1, 1)
    assert real[12:16] == b"IHDR"
    ihdr = struct.pack(">II", width, height) + real[24:29]
    chunk = b"IHDR" + ihdr
    return real[:8] + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_with_corrupt_entry() -> bytes:
    """A ZIP whose directory is fine but whose one entry's compressed bytes are damaged."""
    content = bytearray(zip_bytes({"photo.png": png_bytes(64, 64, "blue") + bytes(range(256)) * 8}))
    header_length = 30 + len("photo.png")
    for offset in range(header_length + 2, header_length + 40):
        content[offset] ^= 0x5A
    return bytes(content)
