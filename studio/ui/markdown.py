"""Showing a user's words inside Markdown literally (no Gradio: usable and tested without it)."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_md(text: object) -> str:
    """``text`` (a voice name, a transcript, a user's words) shown literally inside ``gr.Markdown``.

    HTML is turned into entities and Markdown punctuation backslash-escaped, so
    a name like ``<img src=x onerror=...>`` or ``![](http://...)`` is shown, never rendered or fetched.
    """
    value = html.escape(str(text), quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", value)
