"""The API's JSON body parser: JSON that a database can store, or a 400 naming where it is not."""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def unstorable(value: Any, path: str = "", depth: int = 0) -> str | None:
    """The path of the first text (key or value) PostgreSQL cannot store — a NUL character or an unpaired
    UTF-16 surrogate (``"\\ud800"`` is valid JSON but no valid text) — or of nesting beyond :data:`MAX_DEPTH`.

    >>> unstorable({"products": [{"title": "ok"}, {"title": "a\\u0000b"}]})
    'products.1.title'
    >>> unstorable({"k": ["fine"]}) is None
    True
    """
    if depth > MAX_DEPTH:
        return path or "(body)"
    if isinstance(value, str):
        return (path or "(body)") if _bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _bad(str(key)):
                return where
            found = unstorable(item, where, depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = unstorable(item, f"{path}.{i}" if path else str(i), depth + 1)
            if found:
                return found
    return None


def _bad(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class StorableJSONParser(JSONParser):
    """JSON, refusing text no database column can hold (a 400 instead of a failed write)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        where = unstorable(data)
        if where:
            raise ParseError(f"{where}: remove NUL characters (\\u0000) and unpaired surrogates (\\ud800–\\udfff) "
                             f"from the text, or nest the body less than {MAX_DEPTH} levels deep")
        return data
