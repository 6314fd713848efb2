"""sql_shape's tokenizer: placeholders inside literals, identifiers and comments don't count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.infra.handlers.db import DbHandler, sql_shape
from tests.infra.handlers.conftest import Database, command

Start = Callable[..., Awaitable[Any]]


@pytest.mark.parametrize(
    ("sql", "placeholders"),
    [
        # E'...' escape strings: a backslash escapes the next character, a quote included
        (r"SELECT E'\'$1'", set()),
        (r"SELECT e'\'$1'", set()),
        (r"SELECT E'it\'s $1' || $2", {2}),
        (r"SELECT E'\\', $1", {1}),  # an escaped backslash ends the string
        (r"SELECT E'\\\'$1', $2", {2}),
        (r"SELECT E'a''$1' || $2", {2}),  # '' doubling works in E-strings too
        ("SELECT E'\\\n$1'", set()),  # the escaped character may be a line break
        # standard strings: a backslash is a plain character, '' is a quote
        (r"SELECT '\', $1", {1}),
        ("SELECT 'it''s $1', $2", {2}),
        ("SELECT '$1'", set()),
        ("SELECT U&'$1', X'01', N'$2', $3", {3}),
        ("SELECT date '2024-01-02', $1", {1}),
        ("SELECTE'$1'", set()),  # no E prefix inside a word: a standard string
        # quoted identifiers, dollar quotes, comments
        ('SELECT 1 AS "$1", $2', {2}),
        ('SELECT 1 AS "a""$1", $2', {2}),
        ("SELECT $$ $1 $$, $2", {2}),
        ("SELECT $tag$ it's $1 $tag$, $2", {2}),
        ("SELECT $a$ $b$ $1 $a$", set()),
        ("SELECT $1 -- and $2", {1}),
        ("SELECT /* $2\n $3 */ $1", {1}),
        # an identifier may hold $: col$1 is a column name, not a placeholder
        ("SELECT col$1, $1 FROM t", {1}),
        ("SELECT $1, $10, $2", {1, 2, 10}),
    ],
)
def test_sql_shape_finds_only_the_placeholders_outside_literals_and_comments(
    sql: str, placeholders: set[int]
) -> None:
    assert sql_shape(sql) == (placeholders, [])


@pytest.mark.parametrize(
    ("sql", "finding"),
    [
        (r"SELECT E'\';' ; DROP TABLE t", "stacked statements"),
        (r"SELECT E'\'' UNION SELECT 'x'", "UNION outside a subquery"),
        (r"SELECT E'\';--'; -- trailing", "comment after ';' (;--)"),
    ],
)
def test_sql_shape_still_reports_patterns_after_an_escape_string(sql: str, finding: str) -> None:
    assert sql_shape(sql)[1] == [finding]


@pytest.mark.parametrize(
    "sql",
    [
        r"SELECT E'\'; DROP TABLE t; UNION --'",
        "SELECT 'a;b UNION c'",
        "SELECT $x$ ; UNION $x$",
        'SELECT 1 AS ";union"',
    ],
)
def test_semicolons_and_unions_inside_literals_are_not_suspicious(sql: str) -> None:
    assert sql_shape(sql) == (set(), [])


async def test_postgres_runs_an_escape_string_holding_a_quote_and_dollar_one(
    started: Start, database: Database
) -> None:
    handler = await started(DbHandler(), dsn=database.dsn)
    payload = {"sql": r"SELECT E'\'$1' AS a, e'\\' AS b", "parameters": []}
    result = await handler.execute(command("db.query", payload))
    assert result is not None
    assert result["rows"] == [{"a": "'$1", "b": "\\"}]
