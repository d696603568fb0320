"""Signing keys: every node checks every node's tokens, and a key changes with nobody logged out."""

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from server_stub.secret import add_key, load_key_set, retire_key

from .support import REPO_ROOT, FakeClock, ServerProcess

LEEWAY = 5  # seconds of leeway on a token's times (server_stub/tokens.py)


def _keys_command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m server_stub keys ...`` as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "server_stub", "keys", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _keys_in(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def _claims_of(token: str) -> dict[str, object]:
    """The claims of a token the server issued, to sign again with another header or key."""
    return jwt.decode(token, options={"verify_signature": False})


def _sign(
    key: dict[str, object], claims: dict[str, object], kid: object = None, algorithm: str = "HS256"
) -> str:
    """A token with these claims, signed with a key of the file, naming ``kid`` (or the key)."""
    secret = bytes.fromhex(str(key["secret"]))
    header = {"typ": "at+jwt", "kid": key["kid"] if kid is None else kid}
    return jwt.encode(claims, secret, algorithm=algorithm, headers=header)


def _b64(data: dict[str, object] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _hand_signed(
    key: dict[str, object], claims: dict[str, object], header: dict[str, object]
) -> str:
    """An HS256 token with any header at all (PyJWT refuses to write some)."""
    signed = f"{_b64(header)}.{_b64(claims)}"
    secret = bytes.fromhex(str(key["secret"]))
    return f"{signed}.{_b64(hmac.digest(secret, signed.encode(), hashlib.sha256))}"


def _status(client: TestClient | httpx.Client, token: str) -> int:
    return client.get("/api/resources", headers={"Authorization": f"Bearer {token}"}).status_code


def _assert_refused(client: TestClient | httpx.Client, token: str) -> None:
    response = client.get("/api/resources", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    """A keys file of one key, made by the documented command."""
    path = tmp_path / "shared" / "signing.keys"
    made = _keys_command("add", "--keys", str(path))
    assert made.returncode == 0, made.stderr
    return path


@pytest.fixture
def start_node(
    start_server: Callable[..., ServerProcess], tmp_path: Path, keys_file: Path
) -> Callable[[str], ServerProcess]:
    """(Re)start a node by name: a process on a database of its own and the shared keys file."""
    running: dict[str, ServerProcess] = {}

    def start(name: str) -> ServerProcess:
        if name in running:
            running[name].stop()
        running[name] = start_server(tmp_path / name / "auth.db", "--keys", str(keys_file))
        return running[name]

    return start


@pytest.fixture
def make_keyed_client(
    make_client: Callable[..., TestClient], keys_file: Path, clock: FakeClock
) -> Callable[[], TestClient]:
    """An app on the shared keys file and the fake clock, built anew to read the file again."""
    # The command dated the key by the real clock, after the fake one was set: catch up.
    clock.advance(max(0.0, time.time() - clock()))
    return lambda: make_client(keys_path=keys_file)


def test_a_token_signed_by_node_a_is_accepted_by_node_b(
    start_node: Callable[[str], ServerProcess],
    keys_file: Path,
    login: Callable[..., dict],
) -> None:
    node_a, node_b = start_node("a"), start_node("b")
    with httpx.Client(base_url=node_a.url) as a, httpx.Client(base_url=node_b.url) as b:
        from_a = login(a)["authorizationToken"]
        from_b = login(b)["authorizationToken"]

        assert _status(b, from_a) == 200
        assert _status(a, from_b) == 200
    (key,) = _keys_in(keys_file)
    assert _kid(from_a) == _kid(from_b) == key["kid"]


def test_after_a_key_is_added_new_tokens_name_it_and_old_ones_still_work(
    start_node: Callable[[str], ServerProcess],
    keys_file: Path,
    login: Callable[..., dict],
) -> None:
    with httpx.Client(base_url=start_node("a").url) as a:
        old_token = login(a)["authorizationToken"]

    added = _keys_command("add", "--keys", str(keys_file))
    node_a, node_b = start_node("a"), start_node("b")

    assert added.returncode == 0, added.stderr
    old_key, new_key = _keys_in(keys_file)
    with httpx.Client(base_url=node_a.url) as a, httpx.Client(base_url=node_b.url) as b:
        new_token = login(a)["authorizationToken"]
        statuses = [_status(node, token) for node in (a, b) for token in (old_token, new_token)]
    assert _kid(old_token) == old_key["kid"]
    assert _kid(new_token) == new_key["kid"]
    assert statuses == [200] * 4


def test_a_retired_key_still_verifies_its_tokens_until_they_expire(
    start_node: Callable[[str], ServerProcess],
    keys_file: Path,
    login: Callable[..., dict],
) -> None:
    with httpx.Client(base_url=start_node("a").url) as a:
        old_token = login(a)["authorizationToken"]
    _keys_command("add", "--keys", str(keys_file))

    retired = _keys_command("retire", _kid(old_token), "--keys", str(keys_file))
    node_b = start_node("b")

    assert retired.returncode == 0, retired.stderr
    assert _keys_in(keys_file)[0]["retired"] is not None
    with httpx.Client(base_url=node_b.url) as b:
        assert _status(b, old_token) == 200
        assert _kid(login(b)["authorizationToken"]) == _keys_in(keys_file)[1]["kid"]


def test_a_key_retired_past_its_tokens_lifetime_is_refused_and_new_tokens_work(
    start_node: Callable[[str], ServerProcess],
    keys_file: Path,
    login: Callable[..., dict],
) -> None:
    with httpx.Client(base_url=start_node("a").url) as a:
        old_token = login(a)["authorizationToken"]
    # A new key two hours ago, the old one retired an hour ago: longer than any of its
    # tokens lived (300 s, plus leeway).
    add_key(keys_file, None, now=time.time() - 7200)
    retire_key(keys_file, None, _kid(old_token), now=time.time() - 3600)
    old_key = _keys_in(keys_file)[0]

    with httpx.Client(base_url=start_node("b").url) as b:
        new_token = login(b)["authorizationToken"]
        _assert_refused(b, old_token)
        # Even a fresh token with every claim right:
        _assert_refused(b, _sign(old_key, _claims_of(new_token)))
        assert _status(b, new_token) == 200


def test_the_retired_key_is_accepted_until_its_last_token_expires_then_never(
    make_keyed_client: Callable[[], TestClient],
    keys_file: Path,
    clock: FakeClock,
    login: Callable[..., dict],
) -> None:
    old_token = login(make_keyed_client())["authorizationToken"]
    add_key(keys_file, None, now=clock())
    retire_key(keys_file, None, _kid(old_token), now=clock())
    old_key, new_key = _keys_in(keys_file)
    client = make_keyed_client()
    # Signed here with claims right by the real clock, which the JWT library checks them by;
    # the server decides which keys it accepts by the fake one.
    claims = _claims_of(old_token)
    old_key_token, new_key_token = _sign(old_key, claims), _sign(new_key, claims)

    clock.advance(300 + LEEWAY - 1)
    assert _status(client, old_key_token) == 200
    clock.advance(2)
    _assert_refused(client, old_key_token)
    assert _status(client, new_key_token) == 200


def test_a_key_added_to_sign_later_verifies_at_once_and_signs_when_due(
    make_keyed_client: Callable[[], TestClient],
    keys_file: Path,
    clock: FakeClock,
    login: Callable[..., dict],
) -> None:
    # Every node must know the key before any signs with it: --sign-after gives them time.
    added = _keys_command("add", "--keys", str(keys_file), "--sign-after", "600")
    old_key, new_key = _keys_in(keys_file)
    client = make_keyed_client()

    assert added.returncode == 0, added.stderr
    token = login(client)["authorizationToken"]
    assert _kid(token) == old_key["kid"]
    assert _status(client, _sign(new_key, _claims_of(token))) == 200
    clock.advance(610)
    assert _kid(login(client)["authorizationToken"]) == new_key["kid"]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda key, claims: _sign(key, claims, kid="no-such-key"), id="a kid that names no key"
        ),
        pytest.param(
            lambda key, claims: _sign(
                {"kid": "other", "secret": "ab" * 32}, claims, kid=key["kid"]
            ),
            id="a known kid, another secret",
        ),
        pytest.param(
            lambda key, claims: (
                f"{_b64({'alg': 'none', 'typ': 'at+jwt', 'kid': key['kid']})}.{_b64(claims)}."
            ),
            id="alg none",
        ),
        pytest.param(lambda key, claims: _sign(key, claims, algorithm="HS512"), id="alg HS512"),
        pytest.param(
            lambda key, claims: _hand_signed(
                key, claims, {"alg": "HS256", "typ": "at+jwt", "kid": 7}
            ),
            id="a numeric kid",
        ),
        pytest.param(
            lambda key, claims: _hand_signed(
                key, claims, {"alg": "HS256", "typ": "at+jwt", "kid": [key["kid"]]}
            ),
            id="a list for kid",
        ),
        pytest.param(
            lambda key, claims: jwt.encode(
                claims, bytes.fromhex(str(key["secret"])), "HS256", headers={"typ": "at+jwt"}
            ),
            id="no kid, and no key from before kids",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_token_naming_no_usable_key_is_refused(
    make_keyed_client: Callable[[], TestClient],
    keys_file: Path,
    forge: Callable[[dict[str, object], dict[str, object]], str],
    login: Callable[..., dict],
) -> None:
    client = make_keyed_client()
    (key,) = _keys_in(keys_file)
    claims = _claims_of(login(client)["authorizationToken"])
    right = {"alg": "HS256", "typ": "at+jwt", "kid": key["kid"]}
    assert _status(client, _hand_signed(key, claims, right)) == 200  # done right, accepted

    _assert_refused(client, forge(key, claims))


def test_a_token_whose_header_was_swapped_is_refused(
    make_keyed_client: Callable[[], TestClient], keys_file: Path, login: Callable[..., dict]
) -> None:
    add_key(keys_file, None, now=time.time(), signs_after=3600)
    client = make_keyed_client()
    token = login(client)["authorizationToken"]
    _, payload, signature = token.split(".")
    other_kid = _keys_in(keys_file)[1]["kid"]

    forged_headers = [
        {"alg": "HS256", "typ": "at+jwt", "kid": other_kid},
        {"alg": "HS512", "typ": "at+jwt", "kid": _kid(token)},
        {"alg": "none", "typ": "at+jwt", "kid": _kid(token)},
        {"alg": "HS256", "typ": "at+jwt", "kid": _kid(token), "jwk": {"kty": "oct", "k": "AA"}},
    ]

    assert _status(client, token) == 200
    for forged in forged_headers:
        _assert_refused(client, f"{_b64(forged)}.{payload}.{signature}")


def test_a_server_given_a_missing_keys_file_refuses_to_start(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.keys"

    with pytest.raises(ValueError, match="keys add --keys"):
        make_client(keys_path=missing)
    assert not missing.exists()


def test_a_server_with_no_database_file_needs_keys_given_to_it() -> None:
    with pytest.raises(ValueError, match="--keys PATH"):
        load_key_set(None, None, now=time.time(), environ={})


def test_a_keys_file_and_auth_secret_together_are_refused(
    make_client: Callable[..., TestClient], keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_SECRET", "e" * 40)

    with pytest.raises(ValueError, match="unset AUTH_SECRET"):
        make_client(keys_path=keys_file)


def test_the_keys_file_is_owner_only_and_tightened_if_loosened(
    make_keyed_client: Callable[[], TestClient], keys_file: Path
) -> None:
    assert keys_file.stat().st_mode & 0o777 == 0o600
    keys_file.chmod(0o644)

    make_keyed_client()

    assert keys_file.stat().st_mode & 0o777 == 0o600


def test_the_only_key_that_signs_cannot_be_retired(keys_file: Path) -> None:
    (key,) = _keys_in(keys_file)

    refused = _keys_command("retire", str(key["kid"]), "--keys", str(keys_file))

    assert refused.returncode == 1
    assert "add one first" in refused.stderr
    assert _keys_in(keys_file) == [key]


def test_retiring_a_key_that_is_not_there_or_retired_already_changes_nothing(
    keys_file: Path,
) -> None:
    _keys_command("add", "--keys", str(keys_file))
    old_kid = str(_keys_in(keys_file)[0]["kid"])
    assert _keys_command("retire", old_kid, "--keys", str(keys_file)).returncode == 0
    before = keys_file.read_text()

    unknown = _keys_command("retire", "no-such-key", "--keys", str(keys_file))
    again = _keys_command("retire", old_kid, "--keys", str(keys_file))

    assert (unknown.returncode, again.returncode) == (1, 1)
    assert "has no key 'no-such-key'" in unknown.stderr
    assert "retired already" in again.stderr
    assert keys_file.read_text() == before


def test_keys_list_shows_which_key_signs_and_which_only_verify(keys_file: Path) -> None:
    _keys_command("add", "--keys", str(keys_file))
    old_kid, new_kid = (key["kid"] for key in _keys_in(keys_file))

    listed = _keys_command("list", "--keys", str(keys_file)).stdout.splitlines()

    assert [line.split()[0] for line in listed] == [old_kid, new_kid]
    assert listed[0].endswith("verifies") and listed[1].endswith("signs")


def test_a_broken_keys_file_is_refused_at_start_with_its_line_number(
    make_client: Callable[..., TestClient], keys_file: Path
) -> None:
    (key,) = _keys_in(keys_file)
    keys_file.write_text(json.dumps(key) + "\n" + json.dumps({**key, "retierd": None}) + "\n")

    with pytest.raises(ValueError, match=r"line 2: unknown fields \['retierd'\]"):
        make_client(keys_path=keys_file)
