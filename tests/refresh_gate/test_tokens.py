"""Reading tokens back from storage and from the server, whatever they hold."""

from refresh_gate import Tokens, access_token_lifetime
from refresh_gate._tokens import MAX_TOKEN_LENGTH, parse_token_pair, stored_pair
from tests.portable import parametrize
from tests.refresh_gate.fakes import make_jwt


@parametrize(
    "refresh",
    [
        None,
        "",
        "x" * (MAX_TOKEN_LENGTH + 1),
        "with space",
        "naïve",
        "line\nbreak",
        "ends\n",
        "\x7f",
    ],
)
def test_without_a_usable_refresh_token_there_is_no_session(refresh: object) -> None:
    assert stored_pair("a.b.c", refresh) is None


@parametrize("access", [None, "", "x" * (MAX_TOKEN_LENGTH + 1), "tök", "a b"])
def test_an_unusable_access_token_is_dropped_so_the_gate_refreshes(access: object) -> None:
    assert stored_pair(access, "refresh-1") == Tokens("", "refresh-1")


def test_a_broken_but_sendable_access_token_is_kept_for_the_server_to_judge() -> None:
    assert stored_pair("sdf", "refresh-1") == Tokens("sdf", "refresh-1")


def test_any_visible_ascii_up_to_the_longest_allowed_token_is_usable() -> None:
    visible = "".join(map(chr, range(0x21, 0x7F)))
    longest = "r" * MAX_TOKEN_LENGTH
    assert stored_pair(visible, longest) == Tokens(visible, longest)


@parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {"authorizationToken": "a"},
        {"authorizationToken": "", "refreshToken": "r"},
        {"authorizationToken": 5, "refreshToken": "r"},
        {"authorizationToken": "a", "refreshToken": "r" * (MAX_TOKEN_LENGTH + 1)},
    ],
)
def test_an_answer_without_a_usable_pair_gives_no_tokens(payload: object) -> None:
    assert parse_token_pair(payload) is None


@parametrize(
    "token",
    ["sdf", "a.b", "a.!!!.c", "a.bnVsbA.c", make_jwt(10, 5), make_jwt(0, 0)[:-1] + ".x.y"],
)
def test_a_token_whose_times_cannot_be_read_has_no_lifetime(token: str) -> None:
    assert access_token_lifetime(token) is None


def test_the_lifetime_of_a_jwt_is_read_from_iat_and_exp() -> None:
    assert access_token_lifetime(make_jwt(100, 400)) == (100.0, 400.0)
