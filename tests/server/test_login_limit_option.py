"""`--login-limit N` sets how many failed logins a minute a name or an address gets before 429."""

from collections.abc import Callable

import httpx
import pytest

from server_stub.__main__ import parse_args

from .support import SEED_USER, ServerProcess


def _wrong_passwords(server: ServerProcess, times: int) -> list[httpx.Response]:
    with httpx.Client(base_url=server.url) as http:
        return [
            http.post("/authorization/token", json={"userName": SEED_USER, "password": "wrong"})
            for _ in range(times)
        ]


def test_the_third_wrong_password_is_refused_with_a_limit_of_two(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(None, "--login-limit", "2")

    responses = _wrong_passwords(server, 3)

    assert [response.status_code for response in responses] == [401, 401, 429]
    assert responses[2].json()["error"] == "too_many_attempts"
    assert int(responses[2].headers["retry-after"]) > 0


def test_the_login_limit_is_ten_unless_given() -> None:
    assert parse_args([]).login_limit == 10
    assert parse_args(["--login-limit", "3"]).login_limit == 3


@pytest.mark.parametrize("value", ["0", "-1", "ten"])
def test_a_login_limit_that_is_not_a_positive_number_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--login-limit", value])

    assert "--login-limit" in capsys.readouterr().err
