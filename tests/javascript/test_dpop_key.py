"""The JavaScript half's DPoP key in Node's WebCrypto (dpop_key.mjs): made not extractable,
kept where every tab reads it, signing proofs that its public JWK verifies, replaced at a new
sign-in and deleted at logout; and fetchAnswer handing back DPoP's two headers."""

import pytest

from tests.javascript.node import run_script


@pytest.fixture(scope="module")
def results() -> dict:
    return run_script("dpop_key.mjs")


def test_a_proof_signed_by_the_key_verifies_with_its_public_jwk(results: dict) -> None:
    assert results["public members"] == ["crv", "kty", "x", "y"]
    assert results["signature bytes"] == 64  # r‖s, as a JWS ES256 signature is
    assert results["verifies with the public jwk"] is True
    assert results["fails for other text"] is True


def test_the_private_key_cannot_be_read_out(results: dict) -> None:
    assert results["private key extractable"] is False
    assert results["private key exported"] is False


def test_only_the_key_s_id_is_in_local_storage(results: dict) -> None:
    assert results["mark is the id"] is True
    assert results["nothing else in localStorage"] == ["refresh-gate.dpop-key"]


@pytest.mark.parametrize(
    "case",
    [
        "another tab reads the same key",
        "another tab's signature verifies",
        "a new sign-in's key is another",
        "the old key no longer signs",
        "the first tab signs with the new key",
    ],
)
def test_every_tab_signs_with_the_one_current_key(results: dict, case: str) -> None:
    assert results[case] is True


@pytest.mark.parametrize(
    "case", ["forgotten: no key to load", "forgotten: no mark", "forgotten: nothing signs"]
)
def test_a_logout_deletes_the_key_for_every_tab(results: dict, case: str) -> None:
    assert results[case] is True


def test_fetch_answer_hands_back_the_nonce_and_the_challenge(results: dict) -> None:
    assert results["401 answer"] == [401, "", "n-1", 'DPoP error="use_dpop_nonce"']
    assert results["400 answer"] == [400, '{"error":"use_dpop_nonce"}', "n-2", ""]
