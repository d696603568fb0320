"""The client-side route table, and the rule for where to go after logging in.

No `urllib.parse` here: importing it costs the page about 0.4 s of start-up under Pyodide,
for two small jobs done below by hand.
"""

HOME = "/"
LOGIN = "/login"
CALLBACK = "/callback"  # where a provider sends the user back after signing in
PAGES = {HOME: "home", LOGIN: "login", CALLBACK: "callback"}
# Characters a path may keep as they are inside the `next` query parameter.
_HEX = frozenset("0123456789abcdefABCDEF")
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def page_for(path: str) -> str:
    """The page a path shows; unknown paths show the home page, which needs a session."""
    return PAGES.get(path, "home")


def login_url(return_to: str) -> str:
    """The login page, remembering where to come back to (not when that is home or login)."""
    target = safe_return_path(return_to)
    if target in (HOME, LOGIN):
        return LOGIN
    return f"{LOGIN}?next={_quote(target)}"


def return_path(query: str) -> str:
    """Where to go after logging in, from the login page's query string."""
    for pair in query.lstrip("?").split("&"):
        name, _, value = pair.partition("=")
        if name == "next":
            return safe_return_path(_unquote(value))
    return HOME


def safe_return_path(candidate: str) -> str:
    """`candidate` if it is a path on this origin, else the home page (no open redirect)."""
    # A path that starts with one "/" has no scheme and no host: it stays on this origin.
    if not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return HOME
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
        return HOME
    return candidate


def _quote(text: str) -> str:
    return "".join(
        char if char in _KEEP else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in text
    )


def _unquote(text: str) -> str:
    """Undo percent-encoding (and "+" for space) as a query string carries it."""
    raw = bytearray()
    parts = text.replace("+", " ").split("%")
    raw += parts[0].encode()
    for part in parts[1:]:
        escape = part[:2]
        if len(escape) == 2 and all(char in _HEX for char in escape):
            raw.append(int(escape, 16))
            raw += part[2:].encode()
        else:
            raw += ("%" + part).encode()
    try:
        return bytes(raw).decode()
    except UnicodeError:  # not UTF-8: nowhere a link of this page could point
        return ""
