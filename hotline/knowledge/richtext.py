"""Entry bodies are stored as sanitised HTML: an allow-list of formatting tags, no attributes
but a link's http(s)/mailto/tel address, and no script or style content. Plain text typed into
the form (no tags) becomes paragraphs. ``plain_text`` gives the words for the index and snippets.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset({
    "p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "u", "h3", "h4", "h5", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "a",
})
VOID_TAGS = frozenset({"br"})
# Everything inside these is dropped, not just the tags.
DROP_CONTENT_TAGS = frozenset({"script", "style", "iframe", "object", "embed", "template",
                               "noscript", "svg", "math"})
SAFE_URL = re.compile(r"^(https?://|mailto:|tel:)[^\s\"'<>]*$", re.IGNORECASE)
BLOCK_TAGS = frozenset({"p", "br", "li", "h3", "h4", "h5", "blockquote", "tr", "table", "ul", "ol"})
TAG_LIKE = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT_TAGS:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), "")
            if href and SAFE_URL.match(href.strip()):
                self.out.append(f'<a href="{escape(href.strip())}" rel="noopener nofollow">')
            else:
                self.out.append("<a>")
        else:
            self.out.append(f"<{tag}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS and not self.dropping:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT_TAGS:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        # Close whatever was left open inside it, so the output is always well nested.
        while self.open:
            inner = self.open.pop()
            self.out.append(f"</{inner}>")
            if inner == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(data, quote=False))

    def result(self) -> str:
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out).strip()


def sanitise_html(html: str) -> str:
    parser = _Sanitiser()
    parser.feed(html)
    return parser.result()


def text_to_html(text: str) -> str:
    """Plain text to paragraphs; single newlines become line breaks."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs if p.strip()
    )


def clean_body(text: str) -> str:
    """What the services store: sanitised HTML whether the author typed HTML or plain text."""
    if TAG_LIKE.search(text):
        return sanitise_html(text)
    return text_to_html(text)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT_TAGS:
            self.dropping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT_TAGS:
            self.dropping = max(0, self.dropping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(data)


def plain_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n\s*\n+", "\n", text).strip()
