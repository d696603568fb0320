"""application/x-www-form-urlencoded, both ways: the token endpoint's requests (RFC 6749
§3.2), and the query a provider sends the user back with. By hand: MicroPython has no
urllib.parse."""

# Characters a form value keeps as they are (RFC 3986's unreserved ones).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def form_encode(fields: list) -> str:
    """`fields` ((name, value) pairs) as an application/x-www-form-urlencoded body."""
    return "&".join(f"{_form_quote(name)}={_form_quote(value)}" for name, value in fields)


def _form_quote(text: str) -> str:
    return "".join(
        char if char in _UNRESERVED else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in text
    )


def form_decode(body: str) -> dict | None:
    """The fields of an application/x-www-form-urlencoded body, or None if a name or value
    is not encoded right or a name comes twice (RFC 6749 §3.2 allows each once)."""
    fields = {}
    for part in body.split("&") if body else []:
        name, _, value = part.partition("=")
        name, value = _form_unquote(name), _form_unquote(value)
        if name is None or value is None or name in fields:
            return None
        fields[name] = value
    return fields


def _form_unquote(text: str) -> str | None:
    """`text` with `+` read as a space and each `%XX` as a byte of UTF-8; by hand, because
    MicroPython has no urllib.parse."""
    data = text.replace("+", " ").encode()
    raw = bytearray()
    index = 0
    try:
        while index < len(data):
            if data[index] != 0x25:  # "%"
                raw.append(data[index])
                index += 1
                continue
            digits = data[index + 1 : index + 3].decode()
            if len(digits) != 2:
                return None
            raw.append(int(digits, 16))
            index += 3
        return bytes(raw).decode()
    except ValueError:  # a digit that is not hex, or bytes that are not UTF-8 (UnicodeError)
        return None
