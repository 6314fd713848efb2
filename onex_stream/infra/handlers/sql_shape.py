"""The shape of a SQL statement: its ``$n`` placeholders and suspicious patterns."""

from __future__ import annotations

import re

# Skipped: E'...' escape strings (a backslash escapes the next character), '...' strings,
# "identifiers", comments and $tag$ strings; an identifier may hold $ (col$1 is no $1).
_SQL_TOKEN = re.compile(
    r"(?P<skip>(?<![\w$])E'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\""
    r"|--[^\n]*|/\*.*?\*/|(?<![\w$])(?P<tag>\$(?:[A-Za-z_]\w*)?\$).*?(?P=tag))"
    r"|(?<![\w$])\$(?P<param>\d+)|(?P<semi>;)|(?P<open>\()|(?P<close>\))|(?P<union>\bunion\b)",
    re.S | re.I,
)


def sql_shape(sql: str) -> tuple[set[int], list[str]]:
    """The ``$n`` placeholders and suspicious patterns (``;--``, stacked statements, UNION
    outside a subquery) of ``sql``, ignoring literals, quoted identifiers and comments."""
    placeholders: set[int] = set()
    suspicious: list[str] = []
    depth = 0
    for match in _SQL_TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "param":
            placeholders.add(int(match["param"]))
        elif kind in ("open", "close"):
            depth += 1 if kind == "open" else -1
        elif kind == "union" and depth <= 0:
            suspicious.append("UNION outside a subquery")
        elif kind == "semi":
            rest = sql[match.end() :].lstrip()
            if rest.startswith(("--", "/*")):
                suspicious.append("comment after ';' (;--)")
            elif rest:
                suspicious.append("stacked statements")
    return placeholders, list(dict.fromkeys(suspicious))
