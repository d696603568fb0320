"""The library's JavaScript half, run in Node (which has the browser's WebCrypto): the ID
token's signature check and the random bytes a sign-in draws (the DPoP key: test_dpop_key).
The rest of it (fetch, Web Locks, localStorage) is exercised by every end-to-end test in
Chromium."""

import re

import pytest

from tests.javascript.node import run_script


@pytest.fixture(scope="module")
def answers() -> dict:
    return run_script("browser_calls.mjs")


@pytest.mark.parametrize("case", ["rs256", "es256"])
def test_a_signature_by_the_key_is_verified(answers: dict, case: str) -> None:
    assert answers[case] is True


@pytest.mark.parametrize(
    "case",
    [
        "rs256 other text",
        "rs256 flipped signature",
        "rs256 other key",
        "rsa key as es256",
        "hs256",
        "none",
        "garbage key",
        "garbage signature",
    ],
)
def test_anything_else_is_refused_with_false_not_an_error(answers: dict, case: str) -> None:
    assert answers[case] is False


def test_random_bytes_are_as_many_as_asked_and_differ_each_time(answers: dict) -> None:
    first, again = answers["random"], answers["random again"]

    assert re.fullmatch(r"[A-Za-z0-9_-]{86}", answers["random text"])  # base64url, no padding
    assert len(first) == len(again) == 64
    assert first != again
    assert len(set(first)) > 16  # not a constant or a short cycle
