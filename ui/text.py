"""Text from users (file names, network names) shown as typed inside Streamlit's markdown, never as markup."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def plain(text: object) -> str:
    """``text`` (a file or network name) made to show literally inside Streamlit's markdown.

    Markdown punctuation is backslash-escaped, so an image, link or LaTeX is shown, never fetched or rendered;
    a zero-width space after each colon stops Streamlit's ``:icon:`` and ``:color[...]`` directives (escaping the
    colon does not: ``\\:material/home:`` still became an icon in Chromium) and web-address autolinks;
    line breaks become spaces.
    """
    return " ".join(_MARKDOWN.sub(r"\\\1", str(text)).replace(":", ":\u200b").split())
