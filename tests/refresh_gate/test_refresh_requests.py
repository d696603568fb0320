"""What each built-in refresh puts on the wire, how it reads a login, what the settings pick."""

import json

from refresh_gate import (
    OAuth2Refresh,
    RefreshRejected,
    Response,
    SeedRefresh,
    Tokens,
    refresh_from_settings,
)
from refresh_gate._refresh import LOGIN_PATH, REFRESH_PATH
from tests.portable import case, parametrize, raises
from tests.refresh_gate.fakes import OAUTH_TOKEN_PATH, PASSWORD, USERNAME, form_decode

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
JSON_HEADERS = {"Content-Type": "application/json"}


def test_the_seeds_refresh_posts_the_token_as_json() -> None:
    request = SeedRefresh().request("refresh-1")

    assert (request.method, request.path, request.headers) == ("POST", REFRESH_PATH, JSON_HEADERS)
    assert json.loads(request.body) == {"refreshToken": "refresh-1"}


def test_the_oauth2_refresh_posts_a_form_asking_for_json() -> None:
    request = OAuth2Refresh("/oauth/token").request("refresh-1")

    assert (request.method, request.path, request.headers) == ("POST", "/oauth/token", FORM_HEADERS)
    assert request.body == "grant_type=refresh_token&refresh_token=refresh-1"


def test_the_oauth2_refresh_names_its_client_and_scope_after_the_token() -> None:
    refresh = OAuth2Refresh("https://auth.example/token", client_id="spa", scope="resources")

    request = refresh.request("refresh-1")

    assert request.path == "https://auth.example/token"
    assert request.body == (
        "grant_type=refresh_token&refresh_token=refresh-1&client_id=spa&scope=resources"
    )


def test_the_oauth2_refresh_percent_encodes_all_but_unreserved_characters() -> None:
    refresh = OAuth2Refresh("/oauth/token", client_id="my app/1", scope="read write:ü")

    request = refresh.request("a+b/c=d&e%f~g.h_i-j")

    assert request.body == (
        "grant_type=refresh_token&refresh_token=a%2Bb%2Fc%3Dd%26e%25f~g.h_i-j"
        "&client_id=my%20app%2F1&scope=read%20write%3A%C3%BC"
    )


@parametrize(
    "token",
    ["plain", "a+b", "a=b&c=d", "100%", "with space", "é€😀", "%2B", "+"],
)
def test_a_form_server_reads_back_exactly_the_token_and_client_that_were_sent(token: str) -> None:
    refresh = OAuth2Refresh("/oauth/token", client_id=token, scope=token)

    fields = form_decode(refresh.request(token).body)

    assert fields == {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": token,
        "scope": token,
    }


def test_each_request_is_built_afresh_so_client_and_scope_are_named_once() -> None:
    refresh = OAuth2Refresh("/oauth/token", client_id="spa", scope="resources")

    bodies = [refresh.request("refresh-1").body, refresh.login("u", "p").body]
    bodies.append(refresh.request("refresh-1").body)

    assert bodies[0] == bodies[2]
    assert all(body.count("client_id=") == 1 and body.count("scope=") == 1 for body in bodies)


def test_the_seeds_login_posts_user_name_and_password_as_json() -> None:
    request = SeedRefresh().login(USERNAME, PASSWORD)

    assert (request.method, request.path, request.headers) == ("POST", LOGIN_PATH, JSON_HEADERS)
    assert json.loads(request.body) == {"userName": USERNAME, "password": PASSWORD}


def test_the_oauth2_login_is_the_password_grant_as_a_form() -> None:
    refresh = OAuth2Refresh("/oauth/token", client_id="spa", scope="resources")

    request = refresh.login(USERNAME, "p&ss=wörd")

    assert (request.method, request.path, request.headers) == ("POST", "/oauth/token", FORM_HEADERS)
    assert request.body == (
        "grant_type=password&username=andreyka26_&password=p%26ss%3Dw%C3%B6rd"
        "&client_id=spa&scope=resources"
    )


SEED_PAIR = '{"authorizationToken": "a.b.c", "refreshToken": "refresh-1", "userId": 1}'
OAUTH_PAIR = (
    '{"access_token": "a.b.c", "token_type": "Bearer", "expires_in": 300,'
    ' "refresh_token": "refresh-1"}'
)


def test_a_seed_login_answer_gives_its_pair() -> None:
    assert SeedRefresh().read_login(Response(200, SEED_PAIR)) == Tokens("a.b.c", "refresh-1")


def test_an_oauth2_login_answer_gives_its_pair_and_lifetime() -> None:
    tokens = OAuth2Refresh("/oauth/token").read_login(Response(200, OAUTH_PAIR))

    assert tokens == Tokens("a.b.c", "refresh-1", 300)


SEED = SeedRefresh()
OAUTH2 = OAuth2Refresh("/oauth/token")


@parametrize(
    "refresh, response",
    [
        case(SEED, Response(401, '{"error": "invalid_credentials"}'), id="seed-401"),
        case(SEED, Response(429, '{"error": "too_many_attempts"}'), id="seed-429"),
        case(SEED, Response(200, "<html>welcome</html>"), id="seed-not-json"),
        case(SEED, Response(200, '["a.b.c", "refresh-1"]'), id="seed-json-array"),
        case(SEED, Response(200, '{"authorizationToken": "a.b.c"}'), id="seed-no-refresh-token"),
        case(
            SEED, Response(200, '{"authorizationToken": "", "refreshToken": "r"}'), id="seed-empty"
        ),
        case(OAUTH2, Response(400, '{"error": "invalid_grant"}'), id="oauth2-400-invalid_grant"),
        case(OAUTH2, Response(401, '{"error": "invalid_client"}'), id="oauth2-401-invalid_client"),
        case(OAUTH2, Response(503, '{"error": "temporarily_unavailable"}'), id="oauth2-503"),
        case(OAUTH2, Response(200, '{"error": "temporarily_unavailable"}'), id="oauth2-200-error"),
        case(OAUTH2, Response(200, "<html>welcome</html>"), id="oauth2-not-json"),
        case(OAUTH2, Response(200, "[]"), id="oauth2-json-array"),
        case(OAUTH2, Response(200, '{"refresh_token": "r"}'), id="oauth2-no-access-token"),
        # A login has no stored refresh token to keep: without a new one there is no session.
        case(OAUTH2, Response(200, '{"access_token": "a.b.c"}'), id="oauth2-no-refresh-token"),
    ],
)
def test_a_login_answer_without_a_usable_pair_gives_none(
    refresh: object, response: Response
) -> None:
    assert refresh.read_login(response) is None


def test_without_settings_a_page_refreshes_as_the_seed_does() -> None:
    refresh = refresh_from_settings({})

    assert isinstance(refresh, SeedRefresh)
    assert refresh.request("refresh-1").path == REFRESH_PATH
    assert refresh.login("u", "p").path == LOGIN_PATH


def test_the_seed_setting_names_the_seeds_refresh() -> None:
    assert refresh_from_settings({"refresh": "seed"}).request("r") == SeedRefresh().request("r")


def test_the_oauth2_setting_alone_refreshes_at_oauth_token_with_no_client_or_scope() -> None:
    refresh = refresh_from_settings({"refresh": "oauth2"})

    request = refresh.request("refresh-1")

    assert isinstance(refresh, OAuth2Refresh)
    assert request.path == OAUTH_TOKEN_PATH
    assert request.body == "grant_type=refresh_token&refresh_token=refresh-1"


def test_the_oauth2_setting_takes_its_token_url_client_id_and_scope() -> None:
    settings = {
        "refresh": "oauth2",
        "token-url": "https://auth.example/realms/demo/token",
        "client-id": "spa",
        "scope": "openid resources",
    }

    request = refresh_from_settings(settings).request("refresh-1")

    assert request.path == "https://auth.example/realms/demo/token"
    assert form_decode(request.body) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "spa",
        "scope": "openid resources",
    }


@parametrize("kind", ["saml", "OAuth2", "oauth", ""])
def test_a_refresh_the_settings_name_but_nothing_builds_is_a_value_error(kind: str) -> None:
    with raises(ValueError) as caught:
        refresh_from_settings({"refresh": kind})

    assert "seed or oauth2" in str(caught.value)


@parametrize("body", ['{"access_token": "a", "expires_in": NaN}', '{"access_token": Infinity}'])
async def test_an_answer_with_nan_or_infinity_is_not_json_on_either_interpreter(body: str) -> None:
    with raises(RefreshRejected):
        OAuth2Refresh("/oauth/token").read(Response(200, body), "stored-refresh")


@parametrize("status", [400, 401, 500, 503])
async def test_invalid_grant_logs_out_whatever_its_status(status: int) -> None:
    answer = Response(status, '{"error": "invalid_grant"}')

    with raises(RefreshRejected):
        OAuth2Refresh("/oauth/token").read(answer, "stored-refresh")


async def test_a_null_refresh_token_in_the_answer_keeps_the_stored_one() -> None:
    answer = Response(200, '{"access_token": "new-access", "refresh_token": null}')

    tokens = OAuth2Refresh("/oauth/token").read(answer, "stored-refresh")

    assert (tokens.access, tokens.refresh) == ("new-access", "stored-refresh")
