"""The one HTML-to-text function every HTML source uses: text as the author wrote it."""

from __future__ import annotations

import pytest

from collectors.base import plain_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # Mastodon wraps the word of a hashtag or a handle in its own span: one word again.
        ('<a class="mention hashtag" href="https://x.example/tags/fibre">#<span>Fibre</span></a>', "#Fibre"),
        ('<span class="h-card"><a class="u-url">@<span>lumio</span></a></span> merci', "@lumio merci"),
        ("<b>Lumio</b>, <i>vraiment</i> !", "Lumio, vraiment !"),
        ("un<br>deux<br/>trois", "un\ndeux\ntrois"),
        ("<p>un</p><p>deux</p>", "un\n\ndeux"),
        ("<ul><li>un</li><li>deux</li></ul>", "un\ndeux"),
        ("a&nbsp;?", "a\xa0?"),  # a no-break space is the author's, not layout
        ("<pre>  x = 1\n  y = 2</pre>", "x = 1\n  y = 2"),
        ("<p>vu<script>alert(1)</script><!-- note --></p>", "vu"),
        ("  plain   text,\n no markup ", "plain text, no markup"),
    ],
)
def test_inline_runs_stay_together_and_blocks_become_lines(html: str, text: str):
    assert plain_text(html) == text


def test_deeply_nested_markup_is_read_without_recursion_limits():
    html = "<span>" * 5000 + "#fond" + "</span>" * 5000
    assert plain_text(html) == "#fond"
