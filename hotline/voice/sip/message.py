"""SIP message parsing and serialisation (RFC 3261 section 7, 20 and 25), sans-I/O.

`parse_message(bytes)` returns a `Request` or a `Response`; anything malformed raises
`ParseError` and nothing else, whatever the input (the fuzz tests hold us to that).
Structured header values (Via, name-addr, CSeq, URIs) are parsed on demand by the
helpers below, which raise `ParseError` too, so a request with a broken From can still be
answered with a 400 built from its raw headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
MAX_MESSAGE_SIZE = 65535  # one UDP datagram; TCP framing is the adapter's job
MAX_HEADERS = 256


class ParseError(ValueError):
    """The bytes are not a well-formed SIP message (or header value)."""


# RFC 3261 7.3.3 and the IANA registry: compact form -> canonical name.
COMPACT_FORMS = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

# Names whose canonical spelling is not plain Title-Case-By-Dash.
_SPECIAL_NAMES = {
    name.lower(): name
    for name in (
        "Call-ID",
        "CSeq",
        "WWW-Authenticate",
        "MIME-Version",
        "RAck",
        "RSeq",
        "SIP-ETag",
        "SIP-If-Match",
        "P-Asserted-Identity",
        "P-Preferred-Identity",
    )
}

# Headers that RFC 3261 7.3.1 allows to be combined into one comma-separated line.
# (Others, notably the authentication headers and Date, contain commas in one value.)
_LIST_HEADERS = frozenset(
    {
        "Via",
        "Contact",
        "Route",
        "Record-Route",
        "Allow",
        "Supported",
        "Require",
        "Proxy-Require",
        "Unsupported",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Allow-Events",
        "Content-Encoding",
        "Content-Language",
        "In-Reply-To",
    }
)

_TOKEN_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_STATUS_LINE_RE = re.compile(r"^SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?$", re.IGNORECASE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def canonical_name(name: str) -> str:
    """Canonical spelling of a header name: compact forms expanded, case normalised."""
    if not name or not _TOKEN_RE.match(name):
        raise ParseError(f"invalid header name {name!r}")
    lowered = name.lower()
    if lowered in COMPACT_FORMS:
        return COMPACT_FORMS[lowered]
    if lowered in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[lowered]
    return "-".join(part.capitalize() for part in lowered.split("-"))


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value, respecting quotes and <...>."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = in_angle = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"' and not in_angle:
            in_quotes = not in_quotes
        elif not in_quotes and char == "<":
            in_angle = True
        elif not in_quotes and char == ">":
            in_angle = False
        elif char == "," and not in_quotes and not in_angle:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if in_quotes:
        raise ParseError("unterminated quoted string")
    parts.append("".join(current).strip())
    return [part for part in parts if part]


class Headers:
    """Ordered, case-insensitive multimap of header lines (canonical names)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = []
        for name, value in items:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        if _CONTROL_RE.search(value):
            raise ParseError(f"control character in {name} header")
        self._items.append((canonical_name(name), value.strip()))

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = canonical_name(name)
        for key, value in self._items:
            if key == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, comma lists split for the headers that allow them."""
        wanted = canonical_name(name)
        values: list[str] = []
        for key, value in self._items:
            if key != wanted:
                continue
            if wanted in _LIST_HEADERS:
                values.extend(split_list(value))
            else:
                values.append(value)
        return values

    def set(self, name: str, value: str) -> None:
        """Replace every line of `name` with one line (kept at the first one's place)."""
        wanted = canonical_name(name)
        position = next((i for i, (key, _) in enumerate(self._items) if key == wanted), None)
        self.remove(wanted)
        if position is None:
            self.add(wanted, value)
        else:
            self._items.insert(position, (wanted, value.strip()))

    def remove(self, name: str) -> None:
        wanted = canonical_name(name)
        self._items = [(key, value) for key, value in self._items if key != wanted]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Headers:
        return Headers(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class Message:
    headers: Headers
    body: bytes

    # Convenience accessors for the headers every transaction needs.
    @property
    def call_id(self) -> str:
        value = self.headers.get("Call-ID")
        if not value:
            raise ParseError("missing Call-ID")
        return value

    @property
    def cseq(self) -> CSeq:
        value = self.headers.get("CSeq")
        if value is None:
            raise ParseError("missing CSeq")
        return parse_cseq(value)

    @property
    def vias(self) -> list[Via]:
        values = self.headers.get_all("Via")
        if not values:
            raise ParseError("missing Via")
        return [parse_via(value) for value in values]

    @property
    def top_via(self) -> Via:
        return self.vias[0]

    @property
    def from_(self) -> NameAddr:
        value = self.headers.get("From")
        if value is None:
            raise ParseError("missing From")
        return parse_name_addr(value)

    @property
    def to(self) -> NameAddr:
        value = self.headers.get("To")
        if value is None:
            raise ParseError("missing To")
        return parse_name_addr(value)

    def _serialise(self, start_line: str) -> bytes:
        lines = [start_line]
        for name, value in self.headers:
            if name != "Content-Length":
                lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass
class Request(Message):
    method: str = "OPTIONS"
    uri: str = ""

    def check(self) -> None:
        """Raise ParseError unless the headers a UAS relies on (RFC 3261 8.1.1) parse."""
        _ = self.call_id, self.from_, self.to, self.vias, parse_uri(self.uri)
        cseq = self.cseq
        if cseq.method != self.method:
            raise ParseError("CSeq method does not match the request method")

    def to_bytes(self) -> bytes:
        return self._serialise(f"{self.method} {self.uri} {SIP_VERSION}")


@dataclass
class Response(Message):
    status: int = 200
    reason: str = "OK"

    def to_bytes(self) -> bytes:
        return self._serialise(f"{SIP_VERSION} {self.status} {self.reason}")


def parse_message(data: bytes) -> Request | Response:
    """Parse one SIP message from a datagram (RFC 3261 7 and 18.3)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError("expected bytes")
    data = bytes(data)
    if len(data) > MAX_MESSAGE_SIZE:
        raise ParseError("message too large")
    data = data.lstrip(b"\r\n")  # RFC 3261 7.5: ignore CRLFs before the start line
    if not data:
        raise ParseError("empty message")
    head, body = _split_head_body(data)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("header section is not UTF-8") from exc
    lines = re.split(r"\r\n|\n", text)
    start_line, header_lines = lines[0], _unfold(lines[1:])
    headers = Headers()
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise ParseError(f"header line without colon: {line[:40]!r}")
        headers.add(name.rstrip(" \t"), value)
        if len(headers) > MAX_HEADERS:
            raise ParseError("too many headers")
    body = _apply_content_length(headers, body)
    return _parse_start_line(start_line, headers, body)


def _split_head_body(data: bytes) -> tuple[bytes, bytes]:
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if crlf == -1 and lf == -1:
        # A datagram with no blank line: all headers, no body (lenient, like most stacks).
        return data.rstrip(b"\r\n"), b""
    if crlf != -1 and (lf == -1 or crlf <= lf):
        return data[:crlf], data[crlf + 4 :]
    return data[:lf], data[lf + 2 :]


def _unfold(lines: list[str]) -> list[str]:
    """Join continuation lines (RFC 3261 7.3.1: leading whitespace continues a header)."""
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not unfolded:
                raise ParseError("continuation line before any header")
            unfolded[-1] = unfolded[-1].rstrip() + " " + line.strip()
        elif line:
            unfolded.append(line)
    return unfolded


def _apply_content_length(headers: Headers, body: bytes) -> bytes:
    raw = headers.get("Content-Length")
    if raw is None:
        return body  # UDP: the body is the rest of the datagram (RFC 3261 18.3)
    if not raw.isdigit() or not raw.isascii():
        raise ParseError(f"invalid Content-Length {raw!r}")
    length = int(raw)
    if length > len(body):
        raise ParseError("body shorter than Content-Length")
    return body[:length]


def _parse_start_line(line: str, headers: Headers, body: bytes) -> Request | Response:
    if line[:8].upper() == "SIP/2.0 ":
        match = _STATUS_LINE_RE.match(line)
        if not match:
            raise ParseError(f"invalid status line {line[:60]!r}")
        return Response(
            headers=headers, body=body, status=int(match[1]), reason=(match[2] or "").strip()
        )
    parts = line.split(" ")
    if len(parts) != 3:
        raise ParseError(f"invalid request line {line[:60]!r}")
    method, uri, version = parts
    if version.upper() != SIP_VERSION:
        raise ParseError(f"unsupported version {version[:20]!r}")
    if not _TOKEN_RE.match(method):
        raise ParseError(f"invalid method {method[:20]!r}")
    if not uri or ":" not in uri:
        raise ParseError("invalid Request-URI")
    return Request(headers=headers, body=body, method=method.upper(), uri=uri)


# --- structured header values -------------------------------------------------------


def parse_params(text: str) -> dict[str, str | None]:
    """`;a=1;b;c="x"` -> {"a": "1", "b": None, "c": "x"} (names lower-cased)."""
    params: dict[str, str | None] = {}
    for item in _split_outside_quotes(text, ";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip().lower()
        if not name or not _TOKEN_RE.match(name):
            raise ParseError(f"invalid parameter {item[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name] = value if sep else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{key}" if value is None else f";{key}={value}" for key, value in params.items())


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
        if char == separator and not in_quotes:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if in_quotes:
        raise ParseError("unterminated quoted string")
    parts.append("".join(current))
    return parts


@dataclass
class SipURI:
    scheme: str
    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: str | None = None

    def __str__(self) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user + (f":{self.password}" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        headers = f"?{self.headers}" if self.headers else ""
        return f"{self.scheme}:{userinfo}{host}{port}{format_params(self.params)}{headers}"


_HOST_RE = re.compile(r"^[A-Za-z0-9.\-_]+$")


def parse_host_port(text: str) -> tuple[str, int | None]:
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise ParseError("unterminated IPv6 reference")
        host, rest = text[1:end], text[end + 1 :]
        if not host or not re.match(r"^[0-9A-Fa-f:.]+$", host):
            raise ParseError("invalid IPv6 address")
    else:
        host, _, port_text = text.partition(":")
        rest = ":" + port_text if _ else ""
        if not host or not _HOST_RE.match(host):
            raise ParseError(f"invalid host {host[:40]!r}")
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isdigit() or not rest[1:].isascii():
        raise ParseError(f"invalid port in {text[:40]!r}")
    port = int(rest[1:])
    if not 0 < port < 65536:
        raise ParseError("port out of range")
    return host, port


def parse_uri(text: str) -> SipURI:
    """Parse sip:/sips: URIs fully; tel: and others keep the rest as `host`."""
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or not scheme or not re.match(r"^[a-z][a-z0-9+\-.]*$", scheme):
        raise ParseError(f"invalid URI {text[:60]!r}")
    if scheme not in ("sip", "sips"):
        if not rest:
            raise ParseError("empty URI")
        return SipURI(scheme=scheme, host=rest)
    rest, _, headers = rest.partition("?")
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        hostpart, userinfo = rest, ""
    hostport, _, params_text = hostpart.partition(";")
    host, port = parse_host_port(hostport)
    user = password = None
    if at:
        user, colon, pw = userinfo.partition(":")
        password = pw if colon else None
        if not user:
            raise ParseError("empty user part")
    return SipURI(
        scheme=scheme,
        host=host,
        user=user,
        password=password,
        port=port,
        params=parse_params(params_text),
        headers=headers or None,
    )


@dataclass
class NameAddr:
    """From, To, Contact, Route: `"Name" <uri>;params` or a bare `uri;params`."""

    uri: str
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def parsed_uri(self) -> SipURI:
        return parse_uri(self.uri)

    def __str__(self) -> str:
        name = f'"{self.display_name}" ' if self.display_name else ""
        return f"{name}<{self.uri}>{format_params(self.params)}"


def parse_name_addr(text: str) -> NameAddr:
    text = text.strip()
    if not text:
        raise ParseError("empty address")
    if "<" in text:
        before, _, after = text.partition("<")
        uri, closed, params_text = after.partition(">")
        if not closed:
            raise ParseError("unterminated <uri>")
        display = before.strip()
        if display.startswith('"'):
            if len(display) < 2 or not display.endswith('"'):
                raise ParseError("bad quoted display name")
            display = display[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        parse_uri(uri)
        return NameAddr(uri=uri.strip(), display_name=display or None, params=parse_params(params_text))
    if text == "*":  # Contact: * in REGISTER
        return NameAddr(uri="*")
    # Bare addr-spec: URI parameters cannot be told from header parameters, so
    # RFC 3261 20 says everything after the first ';' is a header parameter.
    uri, _, params_text = text.partition(";")
    parse_uri(uri)
    return NameAddr(uri=uri, params=parse_params(params_text))


@dataclass
class Via:
    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    def response_address(self, source: tuple[str, int] | None = None) -> tuple[str, int]:
        """Where to send responses (RFC 3261 18.2.2 with RFC 3581 rport).

        `source` is the address the request came from when the Via has not yet been
        annotated with received/rport (the transaction layer annotates it).
        """
        host = self.params.get("received") or self.host
        rport = self.params.get("rport")
        if rport and rport.isdigit():
            return host, int(rport)
        if "rport" in self.params and source is not None:
            return source
        return host, self.port or 5060

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {host}{port}{format_params(self.params)}"


def parse_via(text: str) -> Via:
    match = re.match(r"^\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+(.*)$", text, re.IGNORECASE)
    if not match:
        raise ParseError(f"invalid Via {text[:60]!r}")
    transport, rest = match[1].upper(), match[2]
    sent_by, _, params_text = rest.partition(";")
    host, port = parse_host_port(sent_by.replace(" ", ""))
    return Via(transport=transport, host=host, port=port, params=parse_params(params_text))


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


def parse_cseq(text: str) -> CSeq:
    parts = text.split()
    if len(parts) != 2 or not parts[0].isdigit() or not parts[0].isascii():
        raise ParseError(f"invalid CSeq {text[:40]!r}")
    number = int(parts[0])
    if number >= 2**31:  # RFC 3261 8.1.1.5
        raise ParseError("CSeq number too large")
    if not _TOKEN_RE.match(parts[1]):
        raise ParseError("invalid CSeq method")
    return CSeq(number, parts[1].upper())


# --- building responses ---------------------------------------------------------------

REASON_PHRASES = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    420: "Bad Extension",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


def _has_tag(address: str) -> bool:
    try:
        return parse_name_addr(address).tag is not None
    except ParseError:
        return ";tag=" in address.replace(" ", "").lower()


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> Response:
    """A response copying Via, From, To, Call-ID and CSeq raw (RFC 3261 8.2.6.2).

    Copying raw header text (not re-serialising parsed values) lets us answer 400 to
    requests whose other headers are broken.
    """
    headers = Headers()
    for name in ("Via", "Record-Route"):
        for name_seen, value in request.headers:
            if name_seen == name and (name == "Via" or 100 < status < 300):
                headers.add(name, value)
    headers.add("From", request.headers.get("From") or "")
    to_value = request.headers.get("To") or ""
    if to_tag and status != 100 and not _has_tag(to_value):
        to_value = f"{to_value};tag={to_tag}"
    headers.add("To", to_value)
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", request.headers.get("CSeq") or "")
    if status == 100 and "Timestamp" in request.headers:  # RFC 3261 8.2.6.1
        headers.add("Timestamp", request.headers.get("Timestamp") or "")
    for name, value in extra_headers:
        headers.add(name, value)
    return Response(
        headers=headers,
        body=body,
        status=status,
        reason=reason or REASON_PHRASES.get(status, "Unknown"),
    )
