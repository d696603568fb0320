"""The vendored runtime is compressed once at set-up and sent in the coding the browser accepts.

Browsers then download pyodide.asm.wasm as 2.7 MB of brotli instead of 9.6 MB, with no
compression per request, and every cache keeps each coding apart (Vary, one ETag a coding).
"""

import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server_stub.web import add_page_routes

from .support import REPO_ROOT, ServerProcess, build_web_root

RUNTIME = "/static/vendor/runtime/1.2.3"
WASM = f"{RUNTIME}/runtime.wasm"
IMMUTABLE = "public, max-age=31536000, immutable"
SUFFIXES = {"br": ".br", "gzip": ".gz"}
VENDOR = REPO_ROOT / "static" / "vendor"
CHROMIUM_ACCEPTS = "gzip, deflate, br, zstd"

_UNBROTLI = """
const zlib = require("node:zlib");
const fs = require("node:fs");
const digest = (data) => require("node:crypto").createHash("sha256").update(data).digest("hex");
const files = JSON.parse(fs.readFileSync(0, "utf8"));
const unbrotli = (file) => zlib.brotliDecompressSync(fs.readFileSync(file));
console.log(JSON.stringify(files.map((file) => digest(unbrotli(file)))));
"""


def brotli_digests(paths: list[Path]) -> list[str]:
    """SHA-256 of each brotli file's decompressed bytes, by Node's zlib (Python has none)."""
    run = subprocess.run(
        ["node", "-e", _UNBROTLI],
        input=json.dumps([str(path) for path in paths]),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def compressed_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runtime folder after the set-up's `python -m server_stub.precompress` ran on it."""
    folder = tmp_path_factory.mktemp("vendor") / "runtime" / "1.2.3"
    folder.mkdir(parents=True)
    (folder / "runtime.wasm").write_bytes(
        b"".join(b"\x00asm line %d of the runtime\n" % i for i in range(4000))
    )
    (folder / "small.mjs").write_text("export const x = 1;\n")
    (folder / "noise.bin").write_bytes(random.Random(12).randbytes(8192))
    with zipfile.ZipFile(folder / "stdlib.zip", "w") as archive:
        archive.writestr("os.py", "import sys\n" * 1000)
    subprocess.run(
        [sys.executable, "-m", "server_stub.precompress", str(folder.parents[1])],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def with_runtime(web_root: Path, runtime: Path) -> Path:
    """`web_root` with a copy of the compressed `runtime` folder under static/vendor."""
    shutil.copytree(runtime, web_root / RUNTIME[1:], dirs_exist_ok=True)
    (web_root / RUNTIME[1:] / ".installed").touch()  # the set-up's stamp
    return web_root


def page_client(web_root: Path) -> TestClient:
    """A client of the page routes alone, built inline: no database, no API."""
    app = FastAPI()
    add_page_routes(app, web_root)
    return TestClient(app)


@pytest.fixture(scope="module")
def served_root(tmp_path_factory: pytest.TempPathFactory, compressed_runtime: Path) -> Path:
    """A web root with the compressed runtime, shared by the tests that only read."""
    return with_runtime(build_web_root(tmp_path_factory.mktemp("served")), compressed_runtime)


@pytest.fixture(scope="module")
def client(served_root: Path) -> Iterator[TestClient]:
    """A client of `served_root`'s pages."""
    with page_client(served_root) as client:
        yield client


@pytest.fixture
def vendored_root(web_root: Path, compressed_runtime: Path) -> Path:
    """This test's own web root with the compressed runtime, free to change."""
    return with_runtime(web_root, compressed_runtime)


def stored(web_root: Path, path: str, coding: str | None) -> bytes:
    """The bytes on disk the server should send for `path` in `coding`."""
    return (web_root / (path[1:] + SUFFIXES.get(coding or "", ""))).read_bytes()


def get_raw(
    client: TestClient | httpx.Client, path: str, accept_encoding: str | None, **headers: str
) -> tuple[httpx.Response, bytes]:
    """GET `path` with exactly this Accept-Encoding (None: no header), body not decoded."""
    request = client.build_request("GET", path, headers=headers)
    request.headers.pop("accept-encoding", None)
    if accept_encoding is not None:
        request.headers["accept-encoding"] = accept_encoding
    response = client.send(request, stream=True)
    body = b"".join(response.iter_raw())
    response.close()
    return response, body


def test_set_up_stores_both_copies_of_a_large_file_and_none_of_small_random_or_zipped_ones(
    compressed_runtime: Path,
) -> None:
    names = sorted(path.name for path in compressed_runtime.iterdir())

    assert names == [
        "noise.bin",
        "runtime.wasm",
        "runtime.wasm.br",
        "runtime.wasm.gz",
        "small.mjs",
        "stdlib.zip",
    ]


def test_each_copy_set_up_stores_decompresses_to_its_original(compressed_runtime: Path) -> None:
    original = (compressed_runtime / "runtime.wasm").read_bytes()

    assert gzip.decompress((compressed_runtime / "runtime.wasm.gz").read_bytes()) == original
    assert brotli_digests([compressed_runtime / "runtime.wasm.br"]) == [sha256(original)]


def _vendored_copies(suffix: str) -> list[Path]:
    return sorted(VENDOR.rglob(f"*{suffix}")) if VENDOR.is_dir() else []


@pytest.mark.skipif(not VENDOR.is_dir(), reason="no vendored runtime: run `make vendor`")
def test_every_stored_copy_of_the_vendored_runtime_decompresses_to_its_original() -> None:
    gzipped, brotli = _vendored_copies(".gz"), _vendored_copies(".br")
    originals = {copy: copy.with_suffix("").read_bytes() for copy in gzipped + brotli}

    wrong_gzip = [c for c in gzipped if gzip.decompress(c.read_bytes()) != originals[c]]
    digests = brotli_digests(brotli)
    wrong_brotli = [c for c, d in zip(brotli, digests, strict=True) if d != sha256(originals[c])]

    assert gzipped and brotli
    assert wrong_gzip == wrong_brotli == []


@pytest.mark.skipif(not VENDOR.is_dir(), reason="no vendored runtime: run `make vendor`")
def test_the_runtimes_large_files_are_stored_compressed_and_its_zip_is_not() -> None:
    pins = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]
    pyodide = VENDOR / "pyodide" / pins["pyodide"]
    micropython = VENDOR / "micropython" / pins["@micropython/micropython-webassembly-pyscript"]
    large = [
        pyodide / "pyodide.asm.wasm",
        pyodide / "pyodide.asm.mjs",
        micropython / "micropython.wasm",
        micropython / "micropython.mjs",
    ]

    for path in large:
        for suffix in SUFFIXES.values():
            copy = Path(f"{path}{suffix}")
            assert copy.stat().st_size < path.stat().st_size / 2, copy
    assert not list(pyodide.glob("python_stdlib.zip.*"))


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("br", "br"),
        ("gzip", "gzip"),
        (CHROMIUM_ACCEPTS, "br"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.1", "br"),
        ("*", "br"),
        ("*;q=0, gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("BR", "br"),
        ("br;q=nonsense, gzip", "gzip"),
        ("identity", None),
        ("deflate", None),
        ("br;q=0, gzip;q=0", None),
        ("", None),
        (None, None),
    ],
)
def test_the_runtime_is_sent_in_the_best_coding_the_request_accepts(
    client: TestClient, served_root: Path, accept_encoding: str | None, coding: str | None
) -> None:
    response, body = get_raw(client, WASM, accept_encoding)

    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert body == stored(served_root, WASM, coding)
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["content-type"] == "application/wasm"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == IMMUTABLE


def test_a_file_without_copies_is_sent_as_it_is_and_still_varies(
    client: TestClient, served_root: Path
) -> None:
    response, body = get_raw(client, f"{RUNTIME}/small.mjs", CHROMIUM_ACCEPTS)

    assert "content-encoding" not in response.headers
    assert body == b"export const x = 1;\n"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["vary"] == "Accept-Encoding"


def test_each_coding_has_an_etag_of_its_own(client: TestClient, served_root: Path) -> None:
    etags = {get_raw(client, WASM, coding)[0].headers["etag"] for coding in ["br", "gzip", None]}

    assert len(etags) == 3


@pytest.mark.parametrize("accept_encoding", ["br", "gzip", None])
def test_a_matching_etag_revalidates_to_an_empty_304_in_each_coding(
    client: TestClient, served_root: Path, accept_encoding: str | None
) -> None:
    etag = get_raw(client, WASM, accept_encoding)[0].headers["etag"]

    response, body = get_raw(client, WASM, accept_encoding, **{"If-None-Match": etag})

    assert response.status_code == 304
    assert body == b""
    assert response.headers["etag"] == etag
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == IMMUTABLE


def test_the_etag_of_another_coding_gets_the_whole_copy(
    client: TestClient, served_root: Path
) -> None:
    brotli_etag = get_raw(client, WASM, "br")[0].headers["etag"]

    response, body = get_raw(client, WASM, "gzip", **{"If-None-Match": brotli_etag})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert body == stored(served_root, WASM, "gzip")


def test_head_answers_with_the_copys_headers_and_no_body(
    client: TestClient, served_root: Path
) -> None:
    request = client.build_request("HEAD", WASM, headers={"Accept-Encoding": "br"})
    response = client.send(request)

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-encoding"] == "br"
    assert response.headers["content-length"] == str(len(stored(served_root, WASM, "br")))
    assert response.headers["content-type"] == "application/wasm"


def test_a_range_of_a_compressed_copy_counts_the_copys_own_bytes(
    client: TestClient, served_root: Path
) -> None:
    copy = stored(served_root, WASM, "br")

    response, body = get_raw(client, WASM, "br", Range="bytes=0-99")

    assert response.status_code == 206
    assert response.headers["content-encoding"] == "br"
    assert response.headers["content-range"] == f"bytes 0-99/{len(copy)}"
    assert body == copy[:100]


def test_a_copy_older_than_its_file_is_never_sent(vendored_root: Path) -> None:
    original = vendored_root / WASM[1:]
    newer = Path(f"{original}.br").stat().st_mtime + 10
    os.utime(original, (newer, newer))  # replaced by hand after the set-up ran

    with page_client(vendored_root) as client:
        response, body = get_raw(client, WASM, "br")

    assert "content-encoding" not in response.headers
    assert body == original.read_bytes()


@pytest.mark.parametrize("name", ["runtime.wasm.br", "runtime.wasm.gz", ".installed"])
def test_the_stored_copies_and_stamps_are_not_served_by_their_own_names(
    client: TestClient, name: str
) -> None:
    response = client.get(f"{RUNTIME}/{name}")

    assert response.status_code == 404


def test_a_real_server_sends_the_stored_gzip_copy_without_compressing_it_again(
    start_server: Callable[..., ServerProcess], vendored_root: Path
) -> None:
    server = start_server()

    with httpx.Client(base_url=server.url) as http:
        response, body = get_raw(http, WASM, CHROMIUM_ACCEPTS.replace(", br", ""))

    assert response.headers["content-encoding"] == "gzip"
    assert body == stored(vendored_root, WASM, "gzip")
