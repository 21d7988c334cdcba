"""Which attachments become evidence (pure): allowed types and sizes, nothing executable, and
the fingerprints evidence carries (sha256; a 64-bit difference hash for images, so the fraud
service can spot the same photo reused across claims)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Refused whatever the declared type: a seller's mail client or a forger can label anything.
EXECUTABLE_EXTENSIONS = frozenset(
    {
        "exe", "dll", "com", "bat", "cmd", "msi", "scr", "pif", "cpl", "js", "jse", "vbs",
        "vbe", "wsf", "ps1", "sh", "bash", "jar", "apk", "app", "bin", "elf", "so", "dylib",
        "lnk", "hta", "reg",
    }
)  # fmt: skip
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
# What the first bytes of each allowed type look like: a declared type the bytes contradict
# is refused too.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}


@dataclass(frozen=True, slots=True)
class Checked:
    filename: str
    content_type: str
    size: int
    sha256: str
    perceptual_hash: str | None
    refused_because: str | None

    @property
    def accepted(self) -> bool:
        return self.refused_because is None


def difference_hash(data: bytes) -> str | None:
    """dHash: the image as 9×8 greys, one bit per horizontal neighbour pair (brighter or not).
    Resizing and recompression keep it; a different photo changes about half the bits."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            grey = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
            pixels = list(grey.tobytes())  # one byte per pixel in mode L
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    bits = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return f"{bits:016x}"


def _refusal(
    filename: str, content_type: str, data: bytes, *, allowed: list[str], max_bytes: int
) -> str | None:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in EXECUTABLE_EXTENSIONS or data.startswith(EXECUTABLE_MAGIC):
        return "executable content is never accepted"
    if len(data) > max_bytes:
        return f"larger than the {max_bytes // (1024 * 1024)} MB limit"
    if content_type not in allowed:
        return f"type {content_type} is not accepted as evidence"
    signatures = _SIGNATURES.get(content_type)
    if signatures and not data.startswith(signatures):
        return f"the content is not a {content_type} file"
    if content_type.startswith("video/") and data[4:8] != b"ftyp":
        return f"the content is not a {content_type} file"
    return None


def check(
    filename: str, content_type: str, data: bytes, *, allowed: list[str], max_bytes: int
) -> Checked:
    refused = _refusal(filename, content_type, data, allowed=allowed, max_bytes=max_bytes)
    image = refused is None and content_type.startswith("image/")
    return Checked(
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        perceptual_hash=difference_hash(data) if image else None,
        refused_because=refused,
    )
