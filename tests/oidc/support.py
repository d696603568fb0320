"""A real `oidc-provider` process (tests/oidc/provider.mjs) on a free port, for the tests.

`launch_provider` starts it and returns once it has printed its issuer; `ProviderProcess`
reads the events it wrote to stderr (one JSON line each) and stops it. The fixtures that use
them are in conftest.py, as in tests/server/.
"""

import json
import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server.support import REPO_ROOT, free_port, stop_process

HERE = Path(__file__).parent
REPOSITORY = HERE.parents[1]
PROVIDER_SCRIPT = HERE / "provider.mjs"
PROVIDER_PACKAGE = REPOSITORY / "node_modules/oidc-provider/package.json"
CLIENT_ID = "refresh-gate-demo"
API_AUDIENCE = "urn:refresh-gate:api"


@dataclass
class ProviderProcess:
    """A running provider: its issuer, the client it knows, and what it logged."""

    issuer: str
    page_origin: str
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str
    api_audience: str
    log_path: Path
    process: subprocess.Popen[str]

    def log(self) -> str:
        """Everything the provider wrote to stderr so far."""
        return self.log_path.read_text(errors="replace")

    def events(self, name: str | None = None) -> list[dict]:
        """The provider's events so far, oldest first; only those called `name` if given."""
        events = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                event = json.loads(line)
                if name is None or event["event"] == name:
                    events.append(event)
        return events

    def stop(self) -> None:
        """Stop the process as Ctrl-C would, killing it if it hangs."""
        stop_process(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


def node_or_skip() -> str:
    """Node.js, with oidc-provider installed: skip without Node, fail without the package."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed, so the OpenID Connect provider cannot run")
    if not PROVIDER_PACKAGE.exists():
        pytest.fail(f"oidc-provider is missing ({PROVIDER_PACKAGE}): `make setup` installs it")
    return node


def _read_issuer(process: subprocess.Popen[str], log_path: Path, timeout: float) -> str:
    """The issuer from the provider's one line on stdout, once it listens."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("{"):
        process.kill()
        process.wait()
        raise RuntimeError(f"the provider did not start:\n{log_path.read_text(errors='replace')}")
    return json.loads(line)["issuer"]


def launch_provider(
    log_path: Path,
    page_origin: str,
    *extra_args: str,
    client_id: str = CLIENT_ID,
    api_audience: str = API_AUDIENCE,
    port: int | None = None,
    timeout: float = 30.0,
) -> ProviderProcess:
    """Start tests/oidc/provider.mjs on a free port for a page at `page_origin`.

    The client's redirect URI is `page_origin`/oidc/callback and its post-logout redirect
    URI `page_origin`/; `extra_args` go to the script as they are (--access-token-ttl 5).
    ``port`` is a port picked beforehand, for an issuer others must know of first.
    """
    node = node_or_skip()
    redirect_uri = f"{page_origin}/oidc/callback"
    post_logout_redirect_uri = f"{page_origin}/"
    command = [
        node,
        str(PROVIDER_SCRIPT),
        *("--port", str(port or free_port()), "--page-origin", page_origin),
        *("--client-id", client_id, "--api-audience", api_audience),
        *("--redirect-uri", redirect_uri),
        *("--post-logout-redirect-uri", post_logout_redirect_uri),
        *extra_args,
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env={**os.environ, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    issuer = _read_issuer(process, log_path, timeout - (time.monotonic() - started))
    return ProviderProcess(
        issuer,
        page_origin,
        client_id,
        redirect_uri,
        post_logout_redirect_uri,
        api_audience,
        log_path,
        process,
    )


_SEED_REFRESH = re.compile(r'^refresh = "seed"$', re.M)
EXAMPLES = ("/examples/oauth/", "/examples/oauth-pyodide/")


def page_redirects(origin: str) -> list[str]:
    """The provider's arguments for the demo's pages at `origin`, both interpreters: where
    they come back after signing in and after logging out."""
    arguments = []
    for base in ("", "/pyodide"):
        arguments += ["--redirect-uri", f"{origin}{base}/callback"]
        arguments += ["--post-logout-redirect-uri", f"{origin}{base}/login"]
    for example in EXAMPLES:  # an example page is its own redirect path
        arguments += ["--redirect-uri", f"{origin}{example}"]
    return arguments


def oidc_web_root(base: Path, provider: ProviderProcess, *settings: str) -> Path:
    """The repository's pages, both set to sign in with `provider`, the demo's with
    `settings` (lines of its `[refresh-gate]` table) too."""
    root = base / "web"
    root.mkdir(parents=True)
    for name in ("index.html", "pyodide.html", "app", "static", "refresh-gate", "dist"):
        (root / name).symlink_to(REPO_ROOT / name)
    for name, base_path in (("pyscript.toml", ""), ("pyodide.toml", "/pyodide")):
        oidc = "\n".join(
            [
                'refresh = "oidc"',
                f'issuer = "{provider.issuer}"',
                f'client-id = "{provider.client_id}"',
                'scope = "openid api"',
                f'redirect-path = "{base_path}/callback"',
                f'post-logout-redirect-path = "{base_path}/login"',
                *settings,
            ]
        )
        text = (REPO_ROOT / name).read_text()
        assert len(_SEED_REFRESH.findall(text)) == 1
        (root / name).write_text(_SEED_REFRESH.sub(oidc, text))
    for example in EXAMPLES:  # copies: a folder's files may not link out of it
        source, copy = REPO_ROOT / example.strip("/"), root / example.strip("/")
        shutil.copytree(source, copy)
        text = (source / "pyscript.toml").read_text()
        assert text.count('refresh = "oauth2"\n') == text.count("client-id = ") == 1
        text = re.sub(r"^client-id = .*$", f'client-id = "{provider.client_id}"', text, flags=re.M)
        oidc = f'refresh = "oidc"\nissuer = "{provider.issuer}"\nscope = "openid api"\n'
        oidc += f'redirect-path = "{example}"\n'
        (copy / "pyscript.toml").write_text(text.replace('refresh = "oauth2"\n', oidc))
    return root
