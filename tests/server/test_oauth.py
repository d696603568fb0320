"""POST /oauth/token, RFC 6749's token endpoint: both grants, every error, CORS and the CSP.

It shares users, sessions, rotation, reuse detection and login limits with the seed's
endpoints, so a token issued by one is refreshed by the other.
"""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.__main__ import parse_args
from server_stub.config import Config
from server_stub.headers import CONTENT_SECURITY_POLICY

from .support import REPO_ROOT, SEED_PASSWORD, SEED_USER, FakeClock

pytestmark = pytest.mark.both_stores

TOKEN = "/oauth/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PASSWORD_GRANT = {"grant_type": "password", "username": SEED_USER, "password": SEED_PASSWORD}
PAGE_ORIGIN = "http://page.example:8080"
DATA = f"protected resources, username: {SEED_USER}"


def _token(client: TestClient, **fields: str) -> httpx.Response:
    return client.post(TOKEN, data=fields)


def _log_in(client: TestClient, **extra: str) -> dict:
    response = _token(client, **PASSWORD_GRANT, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def _refresh(client: TestClient, refresh_token: str) -> httpx.Response:
    return _token(client, grant_type="refresh_token", refresh_token=refresh_token)


def _seed_refresh(client: TestClient, refresh_token: str) -> httpx.Response:
    return client.post("/authorization/refresh", json={"refreshToken": refresh_token})


def _resource(client: TestClient, access_token: str) -> httpx.Response:
    return client.get("/api/resources", headers={"Authorization": f"Bearer {access_token}"})


def _assert_not_cached(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


def _assert_error(response: httpx.Response, code: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == code
    assert body["error_description"].isascii() and not set(body["error_description"]) & {'"', "\\"}
    _assert_not_cached(response)


# --- the two grants ----------------------------------------------------------------------


def test_the_password_grant_answers_a_bearer_pair_whose_access_token_opens_the_resource(
    client: TestClient, config: Config
) -> None:
    response = _token(client, **PASSWORD_GRANT)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    _assert_not_cached(response)
    pair = response.json()
    assert set(pair) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == config.access_ttl
    assert _resource(client, pair["access_token"]).text == DATA


def test_a_public_clients_id_and_the_one_scope_are_accepted(client: TestClient) -> None:
    pair = _log_in(client, client_id="refresh-gate-demo", scope="resources")

    refreshed = _token(
        client,
        grant_type="refresh_token",
        refresh_token=pair["refresh_token"],
        client_id="refresh-gate-demo",
        scope="resources",
    )

    assert refreshed.status_code == 200, refreshed.text


def test_the_refresh_grant_rotates_the_refresh_token_and_issues_a_working_access_token(
    client: TestClient,
) -> None:
    first = _log_in(client)

    response = _refresh(client, first["refresh_token"])

    assert response.status_code == 200
    _assert_not_cached(response)
    second = response.json()
    assert second["token_type"] == "Bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _resource(client, second["access_token"]).text == DATA
    assert _refresh(client, second["refresh_token"]).status_code == 200


def test_unknown_parameters_are_ignored_and_empty_ones_count_as_omitted(
    client: TestClient,
) -> None:
    response = _token(client, **PASSWORD_GRANT, scope="", client_id="", state="anything")

    assert response.status_code == 200, response.text


# --- one set of sessions for both endpoints ----------------------------------------------


def test_a_token_issued_by_either_endpoint_is_refreshed_by_the_other(
    client: TestClient, login: Callable[..., dict]
) -> None:
    seed_pair = login(client)

    oauth_pair = _refresh(client, seed_pair["refreshToken"]).json()
    seed_again = _seed_refresh(client, oauth_pair["refresh_token"])
    oauth_again = _refresh(client, seed_again.json()["refreshToken"])

    assert seed_again.status_code == 200
    assert oauth_again.status_code == 200
    assert _resource(client, oauth_pair["access_token"]).text == DATA
    assert _resource(client, oauth_again.json()["access_token"]).text == DATA


def test_a_token_spent_at_the_seeds_endpoint_is_refused_here_once_its_successor_is_used(
    client: TestClient, login: Callable[..., dict]
) -> None:
    token = login(client)["refreshToken"]
    successor = _seed_refresh(client, token).json()["refreshToken"]
    newest = _seed_refresh(client, successor).json()["refreshToken"]

    response = _refresh(client, token)

    _assert_error(response, "invalid_grant")
    assert "already used" in response.json()["error_description"]
    assert _seed_refresh(client, newest).status_code == 200  # within the grace: no theft


def test_reuse_after_the_grace_at_either_endpoint_revokes_the_session_at_both(
    client: TestClient, clock: FakeClock, config: Config, login: Callable[..., dict]
) -> None:
    token = _log_in(client)["refresh_token"]
    successor = _seed_refresh(client, token).json()["refreshToken"]
    clock.advance(config.reuse_grace)

    _assert_error(_refresh(client, token), "invalid_grant")
    _assert_error(_refresh(client, successor), "invalid_grant")
    assert _seed_refresh(client, successor).status_code == 401

    other = login(client)["refreshToken"]  # a second device's session is another family
    spent_here = _refresh(client, other).json()["refresh_token"]
    clock.advance(config.reuse_grace)
    assert _seed_refresh(client, other).status_code == 401
    assert _seed_refresh(client, spent_here).status_code == 401


def test_a_logged_out_or_expired_refresh_token_is_an_invalid_grant(
    client: TestClient, clock: FakeClock, config: Config
) -> None:
    logged_out = _log_in(client)["refresh_token"]
    client.post("/authorization/logout", json={"refreshToken": logged_out})
    expired = _log_in(client)["refresh_token"]
    clock.advance(config.refresh_ttl + 1)

    _assert_error(_refresh(client, logged_out), "invalid_grant")
    _assert_error(_refresh(client, expired), "invalid_grant")


def test_failed_logins_at_either_endpoint_spend_one_budget(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(login_attempts=2)
    client.post("/authorization/token", json={"userName": SEED_USER, "password": "wrong"})
    _assert_error(_token(client, **{**PASSWORD_GRANT, "password": "wrong"}), "invalid_grant")

    here = _token(client, **PASSWORD_GRANT)
    there = client.post(
        "/authorization/token", json={"userName": SEED_USER, "password": SEED_PASSWORD}
    )

    _assert_error(here, "too_many_attempts", 429)
    assert int(here.headers["retry-after"]) >= 1
    assert there.status_code == 429


def test_a_successful_login_here_costs_nothing_of_the_budget(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(login_attempts=1)

    statuses = [_token(client, **PASSWORD_GRANT).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]


# --- every error of RFC 6749 §5.2 --------------------------------------------------------

# (form fields, the error code)
BAD_GRANTS = {
    "no grant_type": ({"username": SEED_USER, "password": SEED_PASSWORD}, "invalid_request"),
    "empty grant_type": ({**PASSWORD_GRANT, "grant_type": ""}, "invalid_request"),
    "no username": ({"grant_type": "password", "password": SEED_PASSWORD}, "invalid_request"),
    "no password": ({"grant_type": "password", "username": SEED_USER}, "invalid_request"),
    "no refresh_token": ({"grant_type": "refresh_token"}, "invalid_request"),
    "field too long": ({**PASSWORD_GRANT, "password": "x" * 4097}, "invalid_request"),
    "client_id not visible ASCII": ({**PASSWORD_GRANT, "client_id": "a\tb"}, "invalid_request"),
    "wrong password": ({**PASSWORD_GRANT, "password": "wrong"}, "invalid_grant"),
    "unknown user": ({**PASSWORD_GRANT, "username": "nobody"}, "invalid_grant"),
    "unknown refresh token": (
        {"grant_type": "refresh_token", "refresh_token": "x"},
        "invalid_grant",
    ),
    "authorization_code": (
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": "http://a"},
        "unsupported_grant_type",
    ),
    "client_credentials": ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    "unknown scope": ({**PASSWORD_GRANT, "scope": "admin"}, "invalid_scope"),
    "one scope too many": ({**PASSWORD_GRANT, "scope": "resources admin"}, "invalid_scope"),
    "malformed scope": ({**PASSWORD_GRANT, "scope": 'resources  "x"'}, "invalid_scope"),
    "client secret in the body": (
        {**PASSWORD_GRANT, "client_id": "demo", "client_secret": "s3cret"},
        "invalid_client",
    ),
}


@pytest.mark.parametrize(("fields", "code"), BAD_GRANTS.values(), ids=BAD_GRANTS)
def test_each_bad_request_gets_its_error_code_with_400(
    shared_client: TestClient, fields: dict[str, str], code: str
) -> None:
    _assert_error(_token(shared_client, **fields), code)


@pytest.mark.parametrize("scheme", ["Basic", "Bearer"])
def test_a_client_authenticating_by_header_gets_401_with_a_challenge_for_its_scheme(
    shared_client: TestClient, scheme: str
) -> None:
    response = shared_client.post(
        TOKEN, data=PASSWORD_GRANT, headers={"Authorization": f"{scheme} ZGVtbzpzM2NyZXQ="}
    )

    _assert_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"] == f'{scheme} realm="server_stub"'


def test_a_challenge_never_echoes_a_malformed_scheme(shared_client: TestClient) -> None:
    response = shared_client.post(
        TOKEN, data=PASSWORD_GRANT, headers={"Authorization": 'x"y, Basic realm="evil"'}
    )

    _assert_error(response, "invalid_client", 401)
    assert response.headers["www-authenticate"] == 'Basic realm="server_stub"'


# --- form parsing limits -----------------------------------------------------------------

PASSWORD_FORM = "grant_type=password&username=andreyka26_&password=Mypass1%2A"
# (body, Content-Type or None for none)
BAD_FORMS = {
    "no content type": (PASSWORD_FORM, None),
    "json": ('{"grant_type": "password"}', "application/json"),
    "multipart": (PASSWORD_FORM, "multipart/form-data; boundary=x"),
    "text": (PASSWORD_FORM, "text/plain"),
    "another charset": (PASSWORD_FORM, "application/x-www-form-urlencoded; charset=latin-1"),
    "a parameter twice": (PASSWORD_FORM + "&username=someone", FORM["Content-Type"]),
    "grant_type twice": ("grant_type=password&" + PASSWORD_FORM, FORM["Content-Type"]),
    "not UTF-8 once decoded": (PASSWORD_FORM + "%FF", FORM["Content-Type"]),
    "too many parameters": (PASSWORD_FORM + "&x=1" * 20, FORM["Content-Type"]),
    "empty": ("", FORM["Content-Type"]),
}


@pytest.mark.parametrize(("body", "content_type"), BAD_FORMS.values(), ids=BAD_FORMS)
def test_a_body_that_is_not_one_well_formed_form_is_an_invalid_request(
    shared_client: TestClient, body: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}

    response = shared_client.post(TOKEN, content=body.encode(), headers=headers)

    _assert_error(response, "invalid_request")


def test_raw_bytes_that_are_not_utf_8_are_an_invalid_request(shared_client: TestClient) -> None:
    body = PASSWORD_FORM.encode() + b"&state=\xff"

    _assert_error(shared_client.post(TOKEN, content=body, headers=FORM), "invalid_request")


def test_a_charset_of_utf_8_and_percent_encoded_utf_8_are_read(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(seed_user="jürgen", seed_password="pässwörd")
    body = "grant_type=password&username=j%C3%BCrgen&password=p%C3%A4ssw%C3%B6rd"

    response = client.post(
        TOKEN,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )

    assert response.status_code == 200, response.text


def test_a_body_over_the_limit_is_refused_and_not_cached(shared_client: TestClient) -> None:
    response = shared_client.post(TOKEN, content=b"x" * 20_000, headers=FORM)

    assert response.status_code == 413
    _assert_not_cached(response)


def test_only_post_is_allowed_and_the_refusal_is_not_cached_either(
    shared_client: TestClient,
) -> None:
    response = shared_client.get(TOKEN, params=PASSWORD_GRANT)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    _assert_not_cached(response)


def test_other_paths_below_oauth_are_json_404s_not_the_page(shared_client: TestClient) -> None:
    response = shared_client.get("/oauth/authorize")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_the_schema_describes_the_token_endpoint(shared_client: TestClient) -> None:
    operation = shared_client.get("/openapi.json").json()["paths"][TOKEN]["post"]

    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["grant_type"]["enum"] == ["password", "refresh_token"]
    assert {"200", "400", "401", "413", "429", "503"} <= set(operation["responses"])


# --- CORS for the one allowed origin -----------------------------------------------------


@pytest.fixture
def cors_client(make_client: Callable[..., TestClient]) -> TestClient:
    """An app started with --cors-origin PAGE_ORIGIN."""
    return make_client(cors_origin=PAGE_ORIGIN)


def _from(origin: str) -> dict[str, str]:
    return {"Origin": origin}


def test_the_allowed_origin_may_read_every_answer_without_credentials(
    cors_client: TestClient,
) -> None:
    success = cors_client.post(TOKEN, data=PASSWORD_GRANT, headers=_from(PAGE_ORIGIN))
    refused = cors_client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        headers=_from(PAGE_ORIGIN),
    )
    too_large = cors_client.post(TOKEN, content=b"x" * 20_000, headers=_from(PAGE_ORIGIN))

    for response in (success, refused, too_large):
        assert response.headers["access-control-allow-origin"] == PAGE_ORIGIN
        assert "access-control-allow-credentials" not in response.headers
        assert "Origin" in response.headers["vary"]
    assert "Retry-After" in success.headers["access-control-expose-headers"]
    assert [success.status_code, refused.status_code, too_large.status_code] == [200, 400, 413]


def test_the_allowed_origins_preflight_is_answered_for_post(cors_client: TestClient) -> None:
    response = cors_client.options(
        TOKEN,
        headers={
            **_from(PAGE_ORIGIN),
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == PAGE_ORIGIN
    assert response.headers["access-control-allow-methods"] == "POST"
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


def test_the_allowed_origin_may_send_a_dpop_proof_and_read_the_servers_nonce(
    cors_client: TestClient,
) -> None:
    preflight = cors_client.options(
        TOKEN,
        headers={
            **_from(PAGE_ORIGIN),
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,dpop",
        },
    )
    answer = cors_client.post(TOKEN, data=PASSWORD_GRANT, headers=_from(PAGE_ORIGIN))

    allowed = preflight.headers["access-control-allow-headers"].lower().split(", ")
    exposed = answer.headers["access-control-expose-headers"].lower().split(", ")
    assert {"content-type", "dpop"} <= set(allowed)
    assert {"dpop-nonce", "www-authenticate"} <= set(exposed)


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "http://page.example", "https://page.example:8080", "null"],
)
def test_any_other_origin_gets_no_cors_header_at_all(cors_client: TestClient, origin: str) -> None:
    answer = cors_client.post(TOKEN, data=PASSWORD_GRANT, headers=_from(origin))
    preflight = cors_client.options(
        TOKEN, headers={**_from(origin), "Access-Control-Request-Method": "POST"}
    )

    assert answer.status_code == 200  # a browser keeps it from the page; curl may read it
    assert preflight.status_code == 405
    for response in (answer, preflight):
        assert not [name for name in response.headers if name.startswith("access-control-")]


def test_the_seeds_endpoints_and_the_resource_get_no_cors_headers(
    cors_client: TestClient, login: Callable[..., dict]
) -> None:
    pair = login(cors_client)
    responses = [
        cors_client.post(
            "/authorization/token",
            json={"userName": SEED_USER, "password": SEED_PASSWORD},
            headers=_from(PAGE_ORIGIN),
        ),
        cors_client.get(
            "/api/resources",
            headers={**_from(PAGE_ORIGIN), "Authorization": f"Bearer {pair['authorizationToken']}"},
        ),
        cors_client.options(
            "/api/resources",
            headers={**_from(PAGE_ORIGIN), "Access-Control-Request-Method": "GET"},
        ),
    ]

    for response in responses:
        assert not [name for name in response.headers if name.startswith("access-control-")]


def test_without_the_option_no_origin_gets_cors_headers(shared_client: TestClient) -> None:
    response = shared_client.post(TOKEN, data=PASSWORD_GRANT, headers=_from(PAGE_ORIGIN))

    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_the_option_takes_an_origin_as_browsers_write_it() -> None:
    assert parse_args(["--cors-origin", "HTTP://Page.Example:80"]).cors_origin == (
        "http://page.example"
    )
    assert parse_args(["--cors-origin", "https://[::1]:8443/"]).cors_origin == "https://[::1]:8443"
    assert parse_args([]).cors_origin is None


@pytest.mark.parametrize(
    "origin", ["page.example", "ftp://page.example", "http://page.example/app", "http://a@b", "*"]
)
def test_the_option_refuses_anything_but_an_origin(
    origin: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--cors-origin", origin])
    assert "--cors-origin" in capsys.readouterr().err


# --- the page's CSP names the token endpoint's origin ------------------------------------


def _settings(web_root: Path, name: str, token_url: str) -> None:
    (web_root / name).parent.mkdir(parents=True, exist_ok=True)
    (web_root / name).write_text(
        f'name = "stub"\n\n[refresh-gate]\nrefresh = "oauth2"\ntoken-url = "{token_url}"\n'
    )


def _connect_src(response: httpx.Response) -> list[str]:
    policy = response.headers["content-security-policy"]
    (directive,) = [part for part in policy.split("; ") if part.startswith("connect-src ")]
    return directive.split()[1:]


def test_a_token_url_on_another_origin_is_the_one_origin_the_page_may_connect_to(
    make_client: Callable[..., TestClient], web_root: Path
) -> None:
    _settings(web_root, "pyscript.toml", "http://auth.example:9000/oauth/token")
    _settings(web_root, "pyodide.toml", "HTTP://AUTH.example:9000/oauth/token")
    client = make_client()

    for path in ("/", "/pyscript.toml", TOKEN, "/api/resources"):
        assert _connect_src(client.get(path)) == ["'self'", "http://auth.example:9000"]
    policy = client.get("/").headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", "connect-src 'self' http://auth.example:9000"
    )


def test_the_example_pages_token_origin_is_allowed_too(
    make_client: Callable[..., TestClient], web_root: Path
) -> None:
    _settings(web_root, "examples/oauth/pyscript.toml", "https://auth.example/oauth/token")

    assert _connect_src(make_client().get("/")) == ["'self'", "https://auth.example"]


def test_an_openid_connect_providers_origin_is_allowed_exactly(
    make_client: Callable[..., TestClient], web_root: Path
) -> None:
    (web_root / "pyscript.toml").write_text(
        'name = "stub"\n\n[refresh-gate]\nrefresh = "oidc"\n'
        'issuer = "https://id.example:8443/realms/demo"\nclient-id = "page"\n'
    )

    assert _connect_src(make_client().get("/")) == ["'self'", "https://id.example:8443"]


@pytest.mark.parametrize("token_url", ["/oauth/token", "oauth/token"])
def test_a_token_url_on_this_origin_leaves_the_policy_as_it_is(
    make_client: Callable[..., TestClient], web_root: Path, token_url: str
) -> None:
    _settings(web_root, "pyscript.toml", token_url)

    assert make_client().get("/").headers["content-security-policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "token_url",
    [
        "//auth.example/oauth/token",
        "javascript:alert(1)",
        "http://auth.example; script-src *",
        "http://auth.example:99999/oauth/token",
    ],
)
def test_a_token_url_that_is_no_path_nor_http_url_stops_the_server_at_start(
    make_client: Callable[..., TestClient], web_root: Path, token_url: str
) -> None:
    _settings(web_root, "pyscript.toml", token_url)

    with pytest.raises(ValueError, match="token-url"):
        make_client()


# --- the minimal example page ------------------------------------------------------------


def test_the_example_page_and_its_files_are_served_and_revalidated_like_the_demos(
    make_client: Callable[..., TestClient], web_root: Path
) -> None:
    example = web_root / "examples" / "oauth"
    example.mkdir(parents=True)
    (example / "index.html").write_text("<!doctype html><title>example</title>")
    (example / "main.py").write_text("print('example')\n")
    (example / "pyscript.toml").write_text('name = "example"\n')
    client = make_client()

    page = client.get("/examples/oauth/")
    bare = client.get("/examples/oauth", follow_redirects=False)

    assert page.status_code == 200
    assert page.text == "<!doctype html><title>example</title>"
    assert bare.status_code == 308
    assert bare.headers["location"] == "/examples/oauth/"
    for path in ("/examples/oauth/", "/examples/oauth/main.py", "/examples/oauth/pyscript.toml"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["etag"]
        again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
    assert client.get("/examples/oauth/nothing.py").status_code == 404


def test_the_readme_shows_the_example_pages_python_as_it_is() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("## Use the gate in your own page") :]
    start = section.index("```python\n") + len("```python\n")
    shown = section[start : section.index("```\n", start)]

    assert shown == (REPO_ROOT / "examples" / "oauth" / "main.py").read_text()
