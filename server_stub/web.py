"""Serves the single-page app from web_root: a few files, folders, an entry page for routes.

Two entry pages: index.html (MicroPython) for `/` and its client routes, pyodide.html
(Pyodide) for `/pyodide` and the client routes below it, each with its PyScript config.
The library's wheel (`make dist`) under `/dist/`, as a page lists it in its config. And three
examples: the minimal page of the README's "Use the gate in your own page", with its files,
at `/examples/oauth/` (MicroPython) and `/examples/oauth-pyodide/` (Pyodide), each taking
the library from `/dist/` in one line of its config; and `/examples/requests-pyodide/`, a
Pyodide page whose `requests` calls go through the gate.
"""

import mimetypes
import os
import stat
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from server_stub.app_modules import ModulesDownload
from server_stub.compression import best_variant, is_stored_copy
from server_stub.middleware import is_api_path

# Pyodide loads its runtime as ES modules and WebAssembly; browsers refuse either one when it
# arrives with a guessed type such as text/plain, and the system's mime.types may lack them.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("application/zip", ".whl")  # a wheel is a zip archive

FOLDERS = ("app", "static", "dist")
VENDOR_PREFIX = "/static/vendor"
PYODIDE_PREFIX = "/pyodide"
EXAMPLES = ("/examples/oauth", "/examples/oauth-pyodide", "/examples/requests-pyodide")
# The vendored runtime sits under paths that name its version (static/vendor/pyodide/314.0.8/),
# so a file there never changes: browsers may keep it a year without asking again. The app's
# own files change with every edit under the same name: browsers must revalidate them, which
# costs a 304 round trip when nothing changed.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_CLIENT_ROUTE = "client_route"
_PAGE_METHODS = ["GET", "HEAD"]
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _Folder(StaticFiles):
    """StaticFiles that answers 404 for a missing folder or an unreadable path, never 500.

    Every file carries `cache_control`; StaticFiles adds the ETag and Last-Modified that a
    revalidation compares, and answers 304 when they still match.
    """

    def __init__(self, *, cache_control: str = REVALIDATE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache_control = cache_control

    async def check_config(self) -> None:
        """Accept a folder that does not exist (yet): its files are simply not found."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """Find the file as StaticFiles does, treating any OS error as "not found"."""
        try:
            return super().lookup_path(path)
        except (OSError, ValueError):
            return "", None

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, or 304 Not Modified, with this folder's caching rule."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = self.cache_control
        return response


class _VendorFolder(_Folder):
    """The vendored runtime: cached for good, and sent compressed where the browser accepts it.

    Each file goes out as the best stored copy the request's Accept-Encoding allows
    (server_stub/compression.py), with the original's Content-Type and an ETag of its own,
    so a cache never answers one coding's revalidation with another's bytes. A Range request
    gets bytes of the copy it would otherwise receive whole: Content-Range counts them, as
    RFC 9110 has it for a content coding. The copies and the set-up's stamp files are never
    served by their own names.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cache_control=IMMUTABLE, **kwargs)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """Find the file as the folder does, except a stored copy or a hidden file."""
        full_path, stat_result = super().lookup_path(path)
        hidden = os.path.basename(full_path).startswith(".")
        if stat_result is None or hidden or is_stored_copy(full_path):
            return "", None
        return full_path, stat_result

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The best copy of the file, or 304 Not Modified when the browser has that copy."""
        request_headers = Headers(scope=scope)
        path = os.fspath(full_path)
        variant = best_variant(path, stat_result, request_headers.get("accept-encoding"))
        response = FileResponse(
            variant.path,
            status_code=status_code,
            media_type=mimetypes.guess_type(path)[0] or "application/octet-stream",
            stat_result=variant.stat_result,
        )
        response.headers["Cache-Control"] = self.cache_control
        response.headers["Vary"] = "Accept-Encoding"
        if variant.coding:
            response.headers["Content-Encoding"] = variant.coding
            etag = response.headers["ETag"]  # a quoted hash of the copy's size and time
            response.headers["ETag"] = f'{etag[:-1]}-{variant.coding}"'
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response


def add_page_routes(app: FastAPI, web_root: Path, bench_root: Path | None = None) -> None:
    """Serve both entry pages, their .toml configs, app/ and static/; register after the API.

    With a `bench_root`, also serve its contestants/ under /bench/ and vendor/ under
    /bench/vendor/, for `make bench`.

    Any other GET path without a file extension is a client-side route: below /pyodide it
    gets pyodide.html, elsewhere index.html. Anything under the API prefixes, and anything
    else, is a JSON 404.
    """
    index = web_root / "index.html"
    pyodide_page = web_root / "pyodide.html"

    # Only its file_response and is_not_modified are used.
    revalidated = _Folder(directory=web_root, check_dir=False)

    def send_file(request: Request, path: Path) -> Response:
        try:
            stat_result = path.stat()
        except OSError:
            raise HTTPException(404) from None
        if not stat.S_ISREG(stat_result.st_mode):
            raise HTTPException(404)
        return revalidated.file_response(path, stat_result, request.scope)

    @app.api_route("/", methods=_PAGE_METHODS, include_in_schema=False)
    @app.api_route("/index.html", methods=_PAGE_METHODS, include_in_schema=False)
    def page(request: Request) -> Response:
        """The page itself."""
        return send_file(request, index)

    @app.api_route("/pyscript.toml", methods=_PAGE_METHODS, include_in_schema=False)
    def pyscript_config(request: Request) -> Response:
        """PyScript's configuration for index.html, fetched by the page on load."""
        return send_file(request, web_root / "pyscript.toml")

    @app.api_route("/pyodide.toml", methods=_PAGE_METHODS, include_in_schema=False)
    def pyodide_config(request: Request) -> Response:
        """PyScript's configuration for pyodide.html."""
        return send_file(request, web_root / "pyodide.toml")

    modules = ModulesDownload(web_root)

    @app.api_route("/app/modules.json", methods=_PAGE_METHODS, include_in_schema=False)
    def app_modules(request: Request) -> Response:
        """The app's modules in one download (server_stub/app_modules.py), revalidated as
        the app's files are."""
        response = modules.response(request.headers.get("accept-encoding"))
        response.headers["Cache-Control"] = REVALIDATE
        if revalidated.is_not_modified(response.headers, request.headers):
            return NotModifiedResponse(response.headers)
        return response

    vendor = _VendorFolder(directory=web_root / VENDOR_PREFIX[1:], check_dir=False)
    app.mount(VENDOR_PREFIX, vendor)  # before /static, which would match it too
    for folder in FOLDERS:
        app.mount(f"/{folder}", _Folder(directory=web_root / folder, check_dir=False))
    for example in EXAMPLES:
        _add_example(app, example, web_root)

    if bench_root is not None:
        app.mount("/bench/vendor", _Folder(directory=bench_root / "vendor", check_dir=False))
        contestants = _Folder(directory=bench_root / "contestants", check_dir=False, html=True)
        app.mount("/bench", contestants)

    @app.api_route(
        "/{path:path}", methods=_ALL_METHODS, name=_CLIENT_ROUTE, include_in_schema=False
    )
    def client_route(request: Request) -> Response:
        """An entry page for client-side routes such as /login; 404 or 405 for the rest."""
        path = request.scope["path"]
        allowed = _methods_of_other_route(request)
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        if is_api_path(path):
            raise HTTPException(404, "no such endpoint")
        if request.method not in _PAGE_METHODS:
            raise HTTPException(405, headers={"Allow": ", ".join(_PAGE_METHODS)})
        page = index
        if path == PYODIDE_PREFIX or path.startswith(PYODIDE_PREFIX + "/"):
            # The Pyodide page has the same routes, one level down: /pyodide/login.
            page, path = pyodide_page, path.removeprefix(PYODIDE_PREFIX) or "/"
        if not _is_client_route(path):
            raise HTTPException(404)
        return send_file(request, page)


def _add_example(app: FastAPI, prefix: str, web_root: Path) -> None:
    """An example is a folder: its page, main.py and pyscript.toml are found below it."""
    app.mount(prefix, _Folder(directory=web_root / prefix[1:], check_dir=False, html=True))

    @app.api_route(prefix, methods=_PAGE_METHODS, include_in_schema=False)
    def example_page() -> Response:
        return RedirectResponse(prefix + "/", status_code=308)


def _is_client_route(path: str) -> bool:
    """A client route has no dot segments, no file extension, and is not a served folder."""
    segments = path.strip("/").split("/")
    if segments[0] in FOLDERS or any(part in (".", "..") for part in segments):
        return False
    return "." not in segments[-1]


def _methods_of_other_route(request: Request) -> set[str]:
    """Methods of the real route at this path, when the request used another method."""
    path = request.scope["path"]
    for route in request.app.router.routes:
        if not isinstance(route, APIRoute) or route.name == _CLIENT_ROUTE:
            continue
        if route.path_regex.match(path):
            return set(route.methods)
    return set()
