"""Field types of node input/output models: parsing, JSON Schema, and which is narrower."""

from __future__ import annotations

import re
from typing import Any

from onex_stream.core.contracts.node_contract import ModelDataModelSpec

#: A parsed type: the union of its atoms; an atom is a name or ``("list", item type)``.
Atom = str | tuple[str, "FieldType"]
FieldType = frozenset[Atom]

_ALIASES = {
    "str": "string",
    "text": "string",
    "int": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "dict": "object",
    "mapping": "object",
    "none": "null",
    "date-time": "datetime",
    "array": "list",
    "sequence": "list",
}
_LIST = re.compile(r"^(?:list|array|sequence)\[(?P<item>.+)\]$", re.IGNORECASE)
_OPTIONAL = re.compile(r"^optional\[(?P<item>.+)\]$", re.IGNORECASE)
#: (narrower, wider) pairs between distinct atoms: every value of the first is one of the second.
_WIDENINGS = frozenset(
    {
        ("integer", "number"),
        ("integer", "decimal"),
        ("uuid", "string"),
        ("datetime", "string"),
        ("date", "string"),
    }
)
_JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "uuid": {"type": "string", "format": "uuid"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "decimal": {"type": ["number", "string"], "description": "a decimal number"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "null": {"type": "null"},
    "any": {},
    "list": {"type": "array"},
}


def parse_type(text: str) -> FieldType:
    """Parse a declared type such as ``string``, ``list[int]`` or ``int | None``."""
    atoms: set[Atom] = set()
    for part in _split_union(text.strip()):
        optional = _OPTIONAL.match(part)
        listed = _LIST.match(part)
        if optional:
            atoms |= parse_type(optional.group("item")) | {"null"}
        elif listed:
            atoms.add(("list", parse_type(listed.group("item"))))
        else:
            name = _ALIASES.get(part.lower(), part.lower())
            atoms.add(name if name in _JSON_SCHEMAS else part)
    return frozenset(atoms)


def is_subtype(narrow: FieldType, wide: FieldType) -> bool:
    """Whether every value of ``narrow`` is also a value of ``wide``."""
    return all(any(_atom_within(a, b) for b in wide) for a in narrow)


def type_schema(field_type: FieldType) -> dict[str, Any]:
    """A JSON Schema (draft 7 subset) of a parsed type; unknown names are described only."""
    schemas = [_atom_schema(atom) for atom in sorted(field_type, key=str)]
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def model_schema(spec: ModelDataModelSpec) -> dict[str, Any]:
    """A JSON Schema of a node's declared input or output model."""
    properties = {}
    for spec_field in spec.fields:
        declared = f"declared type: {spec_field.type}"
        described = f"{spec_field.description} ({declared})" if spec_field.description else declared
        properties[spec_field.name] = {
            **type_schema(parse_type(spec_field.type)),
            "description": described,
        }
    schema: dict[str, Any] = {"type": "object", "title": spec.name, "properties": properties}
    required = [f.name for f in spec.fields if f.required]
    if required:
        schema["required"] = required
    return schema


def _atom_within(narrow: Atom, wide: Atom) -> bool:
    if wide in ("any", narrow):
        return True
    if isinstance(narrow, tuple):
        return wide == "list" or (isinstance(wide, tuple) and is_subtype(narrow[1], wide[1]))
    return (narrow, wide) in _WIDENINGS


def _atom_schema(atom: Atom) -> dict[str, Any]:
    if isinstance(atom, tuple):
        return {"type": "array", "items": type_schema(atom[1])}
    if atom in _JSON_SCHEMAS:
        return dict(_JSON_SCHEMAS[atom])
    return {"description": f"{atom}: a type the node contract names but does not define"}


def _split_union(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]
