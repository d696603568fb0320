"""The app's modules and the library's package reach the page in one download, as they are
on disk, never stale."""

import gzip
import json
import os
from pathlib import Path

from fastapi.testclient import TestClient

from server_stub.app_modules import app_modules

from .support import APP_MODULE, REPO_ROOT


def test_the_download_holds_each_module_as_it_is_on_disk_but_the_pages_script(
    shared_client: TestClient,
) -> None:
    response = shared_client.get("/app/modules.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"app/__init__.py": "", "app/gate.py": APP_MODULE}


def test_the_repositorys_download_is_every_app_module_but_main_py_and_the_whole_library() -> None:
    modules = app_modules(REPO_ROOT)

    app_on_disk = {f"app/{path.name}" for path in (REPO_ROOT / "app").glob("*.py")}
    library = REPO_ROOT / "refresh-gate" / "refresh_gate"
    library_on_disk = {
        f"refresh_gate/{path.name}" for path in library.iterdir() if path.suffix in (".py", ".js")
    }
    assert set(modules) == (app_on_disk - {"app/main.py"}) | library_on_disk
    assert "refresh_gate/browser_calls.js" in modules  # the library's JavaScript half
    assert modules["refresh_gate/_gate.py"] == (library / "_gate.py").read_text()
    assert "class RefreshGate" in modules["refresh_gate/_gate.py"]


def test_a_browser_that_takes_gzip_gets_it_and_one_that_does_not_gets_it_plain(
    client: TestClient, web_root: Path
) -> None:
    (web_root / "app" / "demo.py").write_text((REPO_ROOT / "app" / "demo.py").read_text())
    plain = client.get("/app/modules.json", headers={"Accept-Encoding": "identity"})
    # httpx would decode gzip by itself: read the bytes as they came over the wire.
    with client.stream("GET", "/app/modules.json", headers={"Accept-Encoding": "gzip"}) as zipped:
        wire = b"".join(zipped.iter_raw())

    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert len(wire) < len(plain.content)
    assert gzip.decompress(wire) == plain.content


def test_an_edited_module_is_in_the_next_download_not_a_304(
    client: TestClient, web_root: Path
) -> None:
    first = client.get("/app/modules.json")
    module = web_root / "app" / "gate.py"
    stat = module.stat()
    module.write_text("GATE = 2\n")
    os.utime(module, (stat.st_atime + 5, stat.st_mtime + 5))

    response = client.get("/app/modules.json", headers={"If-None-Match": first.headers["etag"]})

    assert response.status_code == 200
    assert json.loads(response.content)["app/gate.py"] == "GATE = 2\n"
    assert response.headers["etag"] != first.headers["etag"]


def test_a_new_module_is_in_the_next_download(client: TestClient, web_root: Path) -> None:
    client.get("/app/modules.json")
    (web_root / "app" / "extra.py").write_text("EXTRA = 1\n")

    assert client.get("/app/modules.json").json()["app/extra.py"] == "EXTRA = 1\n"


def test_a_module_in_a_subpackage_is_in_the_download_under_its_folder(
    client: TestClient, web_root: Path
) -> None:
    (web_root / "app" / "parts").mkdir()
    (web_root / "app" / "parts" / "__init__.py").write_text("")
    (web_root / "app" / "parts" / "main.py").write_text("PART = 1\n")

    modules = client.get("/app/modules.json").json()

    assert modules["app/parts/__init__.py"] == ""
    assert modules["app/parts/main.py"] == "PART = 1\n"  # only app/main.py is the page's
    assert "app/main.py" not in modules
