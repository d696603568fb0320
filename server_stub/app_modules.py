"""The app's Python modules and the library's package in one download, `/app/modules.json`,
for both entry pages.

PyScript's `[files]` fetches each module on its own: a few dozen requests, which over
HTTP/1.1 (six connections a host) cost the page several round trips before Python could
start; the library's wheel (`packages`, as the examples take it) costs a request and a zip
reader. Instead the page fetches this one JSON object, `{"app/demo.py": "<source>", ...}`,
from its first moment, and static/app-start.js writes each file into the interpreter's file
system before any Python runs: `app/` and `refresh_gate/` (the library, JavaScript half
included), as a wheel would have put them. `app/main.py` is not in it: it is the page's
script itself.

It is built from the files as they are on disk, so an edited module is in the next load; the
ETag is a hash of the content, so a reload with nothing changed costs one empty 304.
"""

import gzip
import hashlib
import json
from pathlib import Path

from starlette.responses import Response

from server_stub.compression import accepted_codings
from server_stub.precompress import MIN_SAVING

ENTRY_POINT = "app/main.py"  # the page's <script src>, fetched by PyScript itself
# The packages the page imports, by name, and where each lives below the web root.
PACKAGES = (("app", "app"), ("refresh_gate", "refresh-gate/refresh_gate"))
_SUFFIXES = (".py", ".js")  # modules, and the library's JavaScript half


def app_modules(web_root: Path) -> dict[str, str]:
    """Every file of the packages the page imports but its entry point, subpackages included:
    path (as the page imports it, relative to the interpreter's working folder) to source."""
    modules = {}
    for name, folder in _package_folders(web_root):
        for path in _module_files(folder):
            module = f"{name}/{path.relative_to(folder).as_posix()}"
            if module != ENTRY_POINT:
                modules[module] = path.read_text(encoding="utf-8")
    return modules


def _package_folders(web_root: Path) -> list[tuple[str, Path]]:
    return [(name, web_root / folder) for name, folder in PACKAGES]


def _module_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix in _SUFFIXES and path.is_file())


class ModulesDownload:
    """`/app/modules.json`: built again only when a module changed on disk."""

    def __init__(self, web_root: Path) -> None:
        self._web_root = web_root
        self._built_for: tuple | None = None
        self._body = b""
        self._gzipped: bytes | None = None  # None: not worth sending
        self._etag = ""

    def response(self, accept_encoding: str | None) -> Response:
        """The download with its ETag, gzipped where `accept_encoding` allows and it saves
        something; the caller adds the caching rule and answers a revalidation."""
        self._build_if_changed()
        gzipped = self._gzipped is not None and "gzip" in accepted_codings(accept_encoding)
        etag = f'"{self._etag}-gzip"' if gzipped else f'"{self._etag}"'
        headers = {"ETag": etag, "Vary": "Accept-Encoding"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        body = self._gzipped if gzipped else self._body
        return Response(body, media_type="application/json", headers=headers)

    def _build_if_changed(self) -> None:
        signature = self._signature()
        if signature == self._built_for:
            return
        modules = app_modules(self._web_root)
        self._body = json.dumps(modules, ensure_ascii=False).encode("utf-8")
        gzipped = gzip.compress(self._body, compresslevel=9, mtime=0)
        worth_it = len(gzipped) <= len(self._body) * (1 - MIN_SAVING)
        self._gzipped = gzipped if worth_it else None
        self._etag = hashlib.sha256(self._body).hexdigest()[:32]
        self._built_for = signature

    def _signature(self) -> tuple:
        """What the download depends on: each module's name, size and modification time."""
        entries = []
        files = [
            path for _, folder in _package_folders(self._web_root) for path in _module_files(folder)
        ]
        for path in files:
            try:
                found = path.stat()
            except OSError:
                continue
            entries.append((path, found.st_size, found.st_mtime_ns))
        return tuple(entries)
