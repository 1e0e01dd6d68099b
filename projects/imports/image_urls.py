"""Which URLs a task may ask annotators' browsers to load: the project's own uploads and configured prefixes.

A task names the image an annotator's browser fetches. Left open, an importer could make every annotator load
`javascript:` or `file:` URLs, or any external host (tracking them, or reaching what their network reaches).
So only images uploaded into this project (served by Labeler to its members) and URLs under a prefix listed in
LABELER_ALLOWED_IMAGE_URL_PREFIXES are accepted. `data:` URLs are refused too: an image inlined into a task is
copied into every task row, API answer and export; upload the file instead.
"""
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from ..control_types import object_type
from ..label_config import LabelConfig, ResultError

UPLOAD_URL_PREFIX = "/data/upload/"
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class ImageUrlPolicy:
    project_id: int
    allowed_prefixes: tuple[str, ...] = ()

    @classmethod
    def for_project(cls, project_id: int) -> "ImageUrlPolicy":
        return cls(project_id=project_id, allowed_prefixes=tuple(settings.LABELER_ALLOWED_IMAGE_URL_PREFIXES))

    def check(self, config: LabelConfig, data: dict) -> None:
        """Raise ResultError naming the field whose URL this project may not load."""
        for obj in config.objects.values():
            url = data.get(obj.data_field)
            # Only objects whose type loads its field as a URL (Image; Text holds the text itself).
            if object_type(obj.tag).loads_url and isinstance(url, str) and not self.allows(url):
                raise ResultError(
                    f'"{obj.data_field}" names {_shown(url)}, which this project may not load: use an image '
                    f"uploaded into it ({UPLOAD_URL_PREFIX}{self.project_id}/...){self._prefixes_hint()}"
                )

    def allows(self, url: str) -> bool:
        if not url or _UNSAFE_CHARACTERS.search(url) or _climbs(url):
            return False
        return self._is_own_upload(url) or any(_under_prefix(url, prefix) for prefix in self.allowed_prefixes)

    def _is_own_upload(self, url: str) -> bool:
        own = f"{UPLOAD_URL_PREFIX}{self.project_id}/"
        name = url[len(own):]
        return url.startswith(own) and bool(name) and "/" not in name and "?" not in name and "#" not in name

    def _prefixes_hint(self) -> str:
        if not self.allowed_prefixes:
            return "; no external image hosts are allowed (LABELER_ALLOWED_IMAGE_URL_PREFIXES)"
        return f", or a URL starting with {' or '.join(self.allowed_prefixes)}"


def _climbs(url: str) -> bool:
    """A path segment `.` or `..` (also percent-encoded), which a browser resolves out of the allowed prefix."""
    path = unquote(urlsplit(url).path)
    return any(segment in {".", ".."} for segment in path.split("/"))


def _under_prefix(url: str, prefix: str) -> bool:
    """Same scheme and host exactly (so https://cdn.example.com never admits https://cdn.example.com.evil.net or
    https://cdn.example.com@evil.net), and the path under the prefix's path."""
    target, allowed = urlsplit(url), urlsplit(prefix)
    if not allowed.scheme or not allowed.netloc:
        return False
    if (target.scheme.lower(), target.netloc.lower()) != (allowed.scheme.lower(), allowed.netloc.lower()):
        return False
    base = allowed.path if allowed.path.endswith("/") else allowed.path + "/"
    return (target.path or "/").startswith(base) or target.path == allowed.path


def _shown(url: str) -> str:
    return repr(url if len(url) <= 80 else url[:77] + "...")
