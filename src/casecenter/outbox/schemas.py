"""JSON Schemas of the domain events, generated from the code that emits them.

Every ``emit("<aggregate>.<event>", key=value, …)`` in ``src/casecenter`` is
found by reading the source (``ast``), so a new event type or a new key shows
up here without anyone remembering to declare it; ``casecenter outbox schemas
--write`` regenerates ``docs/events/`` and a test fails while the committed
files differ from the generated ones.

A topic written as an f-string (``f"case.{kind}"``) is one event type per value:
the values come from the model choices named in ``FAMILIES``, or else from the
string literals passed for that parameter by the calls to the enclosing
function in the same file. A value's JSON type is read off its expression where
the expression says it for sure (``x.pk`` an integer, ``x.y_id`` an integer or
null, ``len(…)`` an integer, ``sorted(…)`` an array, ``… if … else None``
nullable); otherwise the schema leaves the type open and says which expression
the value comes from.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _choices(app_label: str, model: str) -> Callable[[], list[str]]:
    def values() -> list[str]:
        from django.apps import apps

        return list(apps.get_model(app_label, model).Kind.values)

    return values


#: f-string topics whose values are a model's ``Kind`` choices
FAMILIES: dict[str, Callable[[], list[str]]] = {
    "case.{kind}": _choices("cases", "CaseEvent"),
    "property.{kind}": _choices("property", "CustodyEvent"),
}


@dataclass
class EventType:
    topic: str
    keys: dict[str, dict] = field(default_factory=dict)  # key -> JSON Schema
    emitted_at: list[str] = field(default_factory=list)  # source files (no lines: they move)


def _value_schema(expr: ast.expr) -> dict:
    text = ast.unparse(expr)
    nullable = False
    if isinstance(expr, ast.IfExp) and _is_none(expr.orelse):
        nullable, expr = True, expr.body
    elif isinstance(expr, ast.Call) and _name(expr.func) == "getattr" and len(expr.args) == 3:
        nullable = _is_none(expr.args[2])
        if isinstance(expr.args[1], ast.Constant):
            expr = ast.Attribute(value=expr.args[0], attr=expr.args[1].value)
    json_type: str | None = None
    if isinstance(expr, ast.Attribute) and expr.attr in ("pk", "id"):
        json_type = "integer"
    elif isinstance(expr, ast.Attribute) and expr.attr.endswith("_id"):
        json_type, nullable = "integer", True  # a foreign key may be empty
    elif _is_count(expr):
        json_type = "integer"
    elif isinstance(expr, ast.Call) and _name(expr.func) == "sorted":
        json_type = "array"
    elif isinstance(expr, ast.JoinedStr) or (
        isinstance(expr, ast.Call) and _name(expr.func) == "str"
    ):
        json_type = "string"
    schema: dict = {"description": f"`{text}`"}
    if json_type:
        schema["type"] = [json_type, "null"] if nullable else json_type
    return schema


def _is_count(expr: ast.expr) -> bool:
    """``len(…)``, or a sum of them."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _is_count(expr.left) and _is_count(expr.right)
    return isinstance(expr, ast.Call) and _name(expr.func) == "len"


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _emit_calls(tree: ast.AST) -> Iterator[tuple[ast.Call, ast.FunctionDef | None]]:
    def walk(node: ast.AST, function: ast.FunctionDef | None) -> Iterator:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, ast.Call) and _name(child.func) == "emit" and child.args:
                yield child, function
            yield from walk(child, inner)

    return walk(tree, None)


def _literal_arguments(tree: ast.AST, function: ast.FunctionDef, parameter: str) -> list[str]:
    """String literals passed for ``parameter`` by calls to ``function`` in this file."""
    names = [a.arg for a in function.args.args]
    position = names.index(parameter) if parameter in names else None
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _name(node.func) == function.name):
            continue
        argument = next((k.value for k in node.keywords if k.arg == parameter), None)
        if argument is None and position is not None and len(node.args) > position:
            argument = node.args[position]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found.append(argument.value)
    return found


def _topics(call: ast.Call, tree: ast.AST, function: ast.FunctionDef | None, where: str):
    topic = call.args[0]
    if isinstance(topic, ast.Constant) and isinstance(topic.value, str):
        return [topic.value]
    if isinstance(topic, ast.JoinedStr):
        pattern = "".join(
            v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
            for v in topic.values
        )
        head, _, rest = pattern.partition("{")
        parameter = rest.rstrip("}")
        if pattern in FAMILIES:
            return [head + value for value in FAMILIES[pattern]()]
        if function is not None and (values := _literal_arguments(tree, function, parameter)):
            return [head + value for value in values]
        raise ValueError(f"{where}: cannot tell the values of the event type {pattern!r}")
    raise ValueError(f"{where}: the event type {ast.unparse(topic)} is not a string")


def event_types(source: Path = SOURCE) -> dict[str, EventType]:
    """Every event type the code emits, with its keys, by topic."""
    found: dict[str, EventType] = {}
    for path in sorted(source.rglob("*.py")):
        if "migrations" in path.parts or path.parent.name == "outbox":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call, function in _emit_calls(tree):
            where = f"{path.relative_to(source.parent)}:{call.lineno}"
            for topic in _topics(call, tree, function, where):
                event = found.setdefault(topic, EventType(topic))
                event.emitted_at.append(str(path.relative_to(source.parent)))
                for keyword in call.keywords:
                    if keyword.arg is None:
                        raise ValueError(f"{where}: **kwargs hide the keys of {topic}")
                    schema = _value_schema(keyword.value)
                    if keyword.arg in event.keys and event.keys[keyword.arg] != schema:
                        schema = {"description": "several expressions"}
                    event.keys[keyword.arg] = schema
    return dict(sorted(found.items()))


def schema_for(event: EventType) -> dict:
    """The JSON Schema of one event type's message (the CloudEvents envelope)."""
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://casecenter.invalid/events/{event.topic}.schema.json",
        "title": event.topic,
        "description": f"emitted at {', '.join(sorted(set(event.emitted_at)))}",
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "outboxseq", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "description": "<source>:<outboxseq>; the Nats-Msg-Id"},
            "source": {"type": "string", "description": "the site's subject prefix"},
            "type": {"const": event.topic},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": "application/json"},
            "outboxseq": {"type": "integer", "minimum": 1},
            "data": {
                "type": "object",
                "required": sorted(event.keys),
                "additionalProperties": False,
                "properties": dict(sorted(event.keys.items())),
            },
        },
    }


def rendered() -> dict[str, str]:
    """File name -> text of every schema, as ``docs/events/`` holds them."""
    return {
        f"{topic}.schema.json": json.dumps(schema_for(event), indent=2, ensure_ascii=False) + "\n"
        for topic, event in event_types().items()
    }
