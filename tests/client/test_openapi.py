"""The client matches the served ``openapi.json``: every operation it uses exists with the
query parameters and headers it sends, and every field of every model it sends or reads exists
there with the same type (a field the client requires, the server always sends)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from roughy.client import operations as ops
from roughy.client.steps import Operation

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def document(anon: httpx.Client) -> Schema:
    r = anon.get("/v1/openapi.json")
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def anon(server: Any) -> Any:
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        yield c


class Resolver:
    def __init__(self, defs: Schema) -> None:
        self.defs = defs

    def __call__(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = self.defs[schema["$ref"].rsplit("/", 1)[1]]
        return schema


def _branches(schema: Schema, resolve: Resolver) -> list[Schema]:
    schema = resolve(schema)
    if "anyOf" in schema or "oneOf" in schema:
        return [b for s in schema.get("anyOf", schema.get("oneOf")) for b in _branches(s, resolve)]
    return [schema]


def _values(schema: Schema) -> set[Any]:
    return {schema["const"]} if "const" in schema else set(schema["enum"])


def _kind(schema: Schema) -> str:
    if "const" in schema or "enum" in schema:
        return "enum"
    if "properties" in schema:
        return "object"
    return str(schema.get("type", "any"))


@dataclass(frozen=True)
class Sides:
    """The client's schemas and the server's; ``reading``: the client reads what the server
    sends (it must know every value the server may send), else it sends (the server must
    know every value the client may send)."""

    mine: Resolver
    theirs: Resolver
    reading: bool


def compare(mine: Schema, theirs: Schema, sides: Sides, where: str) -> list[str]:
    """Where the client's schema differs from the server's, from the client's side."""
    our_branches = _branches(mine, sides.mine)
    served_branches = _branches(theirs, sides.theirs)
    ours = {_kind(b): b for b in our_branches}
    served = {_kind(b): b for b in served_branches}
    if set(ours) != set(served):
        return [f"{where}: the client has {sorted(ours)}, the server {sorted(served)}"]
    problems: list[str] = []
    for kind, branch in ours.items():
        if kind == "array":
            problems += compare(branch["items"], served[kind]["items"], sides, f"{where}[]")
        elif kind == "object":  # a union of objects: each of ours against its namesake
            objects = [b for b in our_branches if _kind(b) == kind]
            theirs_by_title = {b.get("title"): b for b in served_branches if _kind(b) == kind}
            for mine_object in objects:
                title = mine_object.get("title")
                match = theirs_by_title.get(title, served[kind])
                at = f"{where}<{title}>" if len(objects) > 1 else where
                problems += _compare_objects(mine_object, match, sides, at)
        elif kind == "enum":
            unknown = _unknown_values(branch, served[kind], sides.reading)
            if unknown:
                problems.append(f"{where}: values one side does not know: {sorted(unknown)}")
    return problems


def _unknown_values(mine: Schema, theirs: Schema, reading: bool) -> set[Any]:
    return _values(theirs) - _values(mine) if reading else _values(mine) - _values(theirs)


def _compare_objects(mine: Schema, theirs: Schema, sides: Sides, where: str) -> list[str]:
    problems: list[str] = []
    for name, field in mine["properties"].items():
        if name not in theirs["properties"]:
            problems.append(f"{where}.{name}: not in the served document")
            continue
        problems += compare(field, theirs["properties"][name], sides, f"{where}.{name}")
        required = name in mine.get("required", [])
        if sides.reading and required and name not in theirs.get("required", []):
            problems.append(f"{where}.{name}: required by the client, optional on the server")
    return problems


def _model_problems(
    model: type[BaseModel], served: Schema, document: Schema, where: str, *, reading: bool
) -> list[str]:
    mine = model.model_json_schema(mode="validation" if reading else "serialization")
    sides = Sides(
        Resolver(mine.get("$defs", {})), Resolver(document["components"]["schemas"]), reading
    )
    return compare(mine, served, sides, where)


def _operation(document: Schema, op: Operation) -> Schema:
    assert op.path in document["paths"], f"{op.path} is not served"
    methods = document["paths"][op.path]
    assert op.method.lower() in methods, f"{op.method} {op.path} is not served"
    return dict(methods[op.method.lower()])


@pytest.mark.parametrize("op", ops.ALL, ids=lambda op: f"{op.method} {op.path}")
def test_every_operation_the_client_uses_is_served_as_it_uses_it(
    document: Schema, op: Operation
) -> None:
    served = _operation(document, op)
    parameters = {(p["in"], p["name"]) for p in served.get("parameters", [])}
    for name in op.query:
        assert ("query", name) in parameters, f"{op.path} has no query parameter {name}"
    for name in op.headers:
        assert ("header", name) in parameters, f"{op.path} documents no header {name}"
    for name in op.path.replace("}", "{").split("{")[1::2]:
        assert ("path", name) in parameters, f"{op.path} has no path parameter {name}"
    problems: list[str] = []
    if op.body is not None:
        body = served["requestBody"]["content"]["application/json"]["schema"]
        where = f"{op.method} {op.path} body"
        problems += _model_problems(op.body, body, document, where, reading=False)
    if op.response is not None:
        ok = next(code for code in served["responses"] if code.startswith("2"))
        answer = served["responses"][ok]["content"]["application/json"]["schema"]
        where = f"{op.method} {op.path}"
        problems += _model_problems(op.response, answer, document, where, reading=True)
    assert not problems, "\n".join(problems)


def test_the_comparison_catches_a_drifted_field(document: Schema) -> None:
    """The check itself can fail: a model whose field changed type, one the server lacks."""

    class Drifted(BaseModel):
        id: int  # a string on the server
        name: str
        colour: str  # not on the server

    served = {"$ref": "#/components/schemas/ProjectOut"}
    problems = _model_problems(Drifted, served, document, "Project", reading=True)
    assert any(p.startswith("Project.id:") for p in problems), problems
    assert any(p.startswith("Project.colour:") for p in problems), problems
    assert not any(p.startswith("Project.name") for p in problems), problems


def test_the_comparison_reads_each_object_of_a_union(document: Schema) -> None:
    """Each object of a union (an override: a take or a span) is held against its namesake."""

    class TakeOverride(BaseModel):
        lines: int  # `line` on the server
        take: int

    class SpanOverride(BaseModel):
        start: float
        end: float
        keep: bool

    class Body(BaseModel):
        asset_id: str
        overrides: list[TakeOverride | SpanOverride] | None = None

    served = {"$ref": "#/components/schemas/CutCreate"}
    problems = _model_problems(Body, served, document, "CutCreate", reading=False)
    assert problems == ["CutCreate.overrides[]<TakeOverride>.lines: not in the served document"]
