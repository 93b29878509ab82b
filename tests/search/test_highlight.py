"""Highlighting: escaping before marking, and the snippet window."""

from __future__ import annotations

from hotline.search.highlight import highlight, snippet


def test_highlight_escapes_html_before_marking() -> None:
    html = str(highlight('<script>alert("停水")</script> & 停水', ["停水"]))
    assert "<script>" not in html
    assert html == ('&lt;script&gt;alert(&quot;<mark>停水</mark>&quot;)&lt;/script&gt; &amp; '
                    "<mark>停水</mark>")
    # A term that looks like markup is escaped too.
    assert str(highlight("a<b>c", ["<b>"])) == "a<mark>&lt;b&gt;</mark>c"
    # No term may match inside an entity the escaping produced.
    assert str(highlight("x & y", ["amp"])) == "x &amp; y"


def test_snippet_is_a_window_around_the_first_match() -> None:
    text = "开头" * 100 + "临时停水" + "结尾" * 100
    html = str(snippet(text, ["停水"], width=40))
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>停水</mark>" in html
