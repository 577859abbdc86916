"""Text from users (file names, network names, link values) shown as typed, never as markup."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def plain(text: object) -> str:
    """``text`` escaped for st.markdown, so a file or network name shows as typed and never as markup.

    (A name like ``![x](http://…)`` would otherwise make every viewer's browser fetch that address.)
    """
    return _MARKDOWN.sub(r"\\\1", str(text))
