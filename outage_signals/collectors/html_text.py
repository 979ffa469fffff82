"""Mastodon posts arrive as HTML; keyword matching and the classifier need plain text.

:func:`html_to_text` keeps what a reader sees: paragraphs become blank-line-separated blocks,
``<br>`` a line break, entities are decoded, and the text of links (mentions, hashtags, URLs)
is kept. Mastodon splits long link texts into ``invisible`` and ``ellipsis`` spans for display;
their text is concatenated, which gives back the full URL.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose end starts a new block (a blank line between paragraphs, a line otherwise).
_PARAGRAPHS = frozenset({"p", "blockquote", "pre", "ul", "ol"})
_LINES = frozenset({"li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr"})
#: Elements whose content is never shown.
_HIDDEN = frozenset({"script", "style", "template"})
#: No-break spaces too: "slack&nbsp;down" must match "slack down".
_SPACES = re.compile(r"[ \t\r\n\f\v\xa0]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        # convert_charrefs decodes &amp;, &#39; and friends inside handle_data.
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            # Whitespace in HTML source is layout, not content: line breaks come from tags.
            self.parts.append(_SPACES.sub(" ", data))


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML fragment: blocks separated by a blank line, ``<br>`` as a newline,
    spaces collapsed, entities decoded. ``None`` or ``""`` gives ``""``."""
    if not html:
        return ""
    parser = _TextCollector()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    # Collapse runs of empty lines to one blank line, and drop them at both ends.
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
