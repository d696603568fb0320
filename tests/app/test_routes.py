"""Where the login page sends the user back to: same-origin paths only."""

from app.routes import login_url, page_for, return_path, safe_return_path
from tests.portable import parametrize


@parametrize(
    "hostile",
    [
        "//evil.example/path",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "evil.example",
        "/\tevil",
        "",
    ],
)
def test_a_return_path_to_another_origin_goes_home_instead(hostile: str) -> None:
    assert safe_return_path(hostile) == "/"
    assert return_path(f"?next={hostile}") == "/"


def test_a_same_origin_return_path_is_kept_with_its_query() -> None:
    assert return_path("?next=/reports/2026%3Fpage%3D2") == "/reports/2026?page=2"


def test_the_login_url_remembers_where_the_user_was_sent_away_from() -> None:
    assert login_url("/reports/2026") == "/login?next=/reports/2026"
    assert login_url("/") == "/login"
    assert login_url("//evil.example") == "/login"


def test_unknown_paths_show_the_home_page_and_login_shows_login() -> None:
    assert page_for("/login") == "login"
    assert page_for("/") == "home"
    assert page_for("/anything/else") == "home"


@parametrize("path", ["/reports/2026?page=2&sort=name", "/a b/ü", "/100%/x+y", "/x?next=//evil"])
def test_a_return_path_survives_the_trip_through_the_login_url(path: str) -> None:
    url = login_url(path)

    assert url.startswith("/login?next=")
    assert return_path(url.partition("?")[2]) == path


def test_a_broken_percent_escape_is_kept_as_text() -> None:
    assert return_path("?next=/a%zz%4") == "/a%zz%4"
