"""Decode problems as messages a person can read, with the allowed values of enum fields.

msgspec says ``Invalid enum value 'x'`` or ``Expected `str` matching regex '^...$'``; the API
answers ``segment must be one of: ...`` (the values also in ``data.allowed``) and ``email must
be an email address``. The field's declared type (walked with ``msgspec.inspect``) supplies the
allowed values and a ``Meta(description=...)`` that says what a pattern means.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import msgspec.inspect

_KINDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
    "decimal": "a decimal string",
}


def _kind(name: str) -> str:
    """``int | null`` -> ``an integer`` (null is implied by the field being optional)."""
    parts = [p.strip() for p in name.split("|") if p.strip() != "null"] or ["null"]
    return " or ".join(_KINDS.get(p, f"`{p}`") for p in parts)


def field_info(annotation: Any, path: str | None) -> Any:
    """The msgspec type info of the field at dotted ``path`` inside ``annotation``."""
    try:
        info: Any = msgspec.inspect.type_info(annotation)
    except (TypeError, ValueError):
        return None
    for part in path.split(".") if path else []:
        info = _unwrap(info)
        if isinstance(info, msgspec.inspect.StructType | msgspec.inspect.DataclassType):
            info = next((f.type for f in info.fields if f.encode_name == part), None)
        elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.SetType):
            info = info.item_type
        elif isinstance(info, msgspec.inspect.DictType):
            info = info.value_type
        else:
            return None
    return info


def _unwrap(info: Any) -> Any:
    if isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        kinds = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(kinds) == 1:
            return _unwrap(kinds[0])
    return info


def _allowed(info: Any) -> list[Any] | None:
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.EnumType):
        return [member.value for member in info.cls]
    if isinstance(info, msgspec.inspect.LiteralType):
        return list(info.values)
    return None


def _description(info: Any) -> str | None:
    if isinstance(info, msgspec.inspect.UnionType):
        kinds = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        info = kinds[0] if len(kinds) == 1 else info
    if isinstance(info, msgspec.inspect.Metadata) and info.extra_json_schema:
        text = info.extra_json_schema.get("description")
        return str(text) if text else None
    return None


_BOUND = re.compile(r"^Expected `(?:int|float|decimal)[^`]*` (>=|<=|>|<) (\S+)$")
_LENGTH = re.compile(r"^Expected `(?:str|array|object)[^`]*` of length (>=|<=) (\d+)$")
_TYPE = re.compile(r"^Expected `([^`]*)`, got `([^`]*)`$")
_WORDS = {">=": "at least", "<=": "at most", ">": "greater than", "<": "less than"}


def readable_problem(
    message: str, field: str | None, info: Any = None
) -> tuple[str, dict[str, Any] | None]:
    """A message a person can read for a decode/convert problem, and the allowed values."""
    name = field or "the body"
    allowed = _allowed(info)
    if allowed is not None and (
        message.startswith("Invalid enum value")
        or "Expected `str" in message
        or "Expected `int" in message
    ):
        shown = ", ".join(str(v) for v in allowed)
        return f"{name} must be one of: {shown}", {"allowed": allowed}
    if "matching regex" in message:
        what = _description(info)
        return (f"{name} must be {what}" if what else f"{name} is not in the expected format"), None
    if (bound := _BOUND.match(message)) is not None:
        return f"{name} must be {_WORDS[bound.group(1)]} {bound.group(2)}", None
    if (length := _LENGTH.match(message)) is not None:
        unit = "characters" if "`str" in message else "items"
        unit = unit if length.group(2) != "1" else unit[:-1]
        return f"{name} must have {_WORDS[length.group(1)]} {length.group(2)} {unit}", None
    if (typed := _TYPE.match(message)) is not None:
        return f"{name} must be {_kind(typed.group(1))}, not {_kind(typed.group(2))}", None
    if message.startswith("Object missing required field"):
        return f"{name} is required", None
    if message.startswith("Object contains unknown field"):
        return f"{name} is not a field of this request", None
    if message.startswith("Invalid"):  # "Invalid UUID", "Invalid decimal string", ...
        return f"{name}: {message[0].lower()}{message[1:]}", None
    return f"{name}: {message}", None
