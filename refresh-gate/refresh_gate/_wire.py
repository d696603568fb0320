"""An HTTP request and its answer, as the gate puts them on the wire and gets them back."""


class Request:
    """An HTTP request: a path on the page's own origin, or a URL on another one."""

    def __init__(
        self, method: str, path: str, headers: dict | None = None, body: str | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.headers = {} if headers is None else headers
        self.body = body

    def with_header(self, name: str, value: str) -> "Request":
        """A copy with one more header; the original is left as it was."""
        headers = dict(self.headers)
        headers[name] = value
        return Request(self.method, self.path, headers, self.body)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Request) and _fields(self) == _fields(other)

    def __repr__(self) -> str:
        return f"Request({self.method!r}, {self.path!r})"


class Response:
    """What came back: the status, the body as text (never parsed as HTML), and the few
    headers the library reads (`dpop-nonce`, `www-authenticate`), by lowercase name."""

    def __init__(self, status: int, body: str = "", headers: dict | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Response) and _fields(self) == _fields(other)

    def __repr__(self) -> str:
        return f"Response({self.status!r}, {self.body!r})"


def _fields(record: object) -> list:
    return sorted(record.__dict__.items())
