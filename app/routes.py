"""The client-side route table, and the rule for where to go after logging in."""

from urllib.parse import parse_qs, quote, urlsplit

HOME = "/"
LOGIN = "/login"
PAGES = {HOME: "home", LOGIN: "login"}


def page_for(path: str) -> str:
    """The page a path shows; unknown paths show the home page, which needs a session."""
    return PAGES.get(path, "home")


def login_url(return_to: str) -> str:
    """The login page, remembering where to come back to (not when that is home or login)."""
    target = safe_return_path(return_to)
    if target in (HOME, LOGIN):
        return LOGIN
    return f"{LOGIN}?next={quote(target, safe='/')}"


def return_path(query: str) -> str:
    """Where to go after logging in, from the login page's query string."""
    values = parse_qs(query.lstrip("?")).get("next", [])
    return safe_return_path(values[0]) if values else HOME


def safe_return_path(candidate: str) -> str:
    """`candidate` if it is a path on this origin, else the home page (no open redirect)."""
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return HOME
    if any(ord(char) < 0x20 for char in candidate):
        return HOME
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return HOME
    return candidate
