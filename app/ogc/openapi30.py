"""The OGC surface's API definition as OpenAPI 3.0 (the OGC "oas30" conformance class).

FastAPI emits OpenAPI 3.1, whose schemas are JSON Schema 2020-12. OpenAPI 3.0 clients
(OGC's test suite, older generators) reject the 3.1-only keywords, so the /ogc paths are
copied and their schemas rewritten to the 3.0 subset. No maintained library converts 3.1
down to 3.0 (the converters go the other way), hence this small walker."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from app.layers import LAYERS

OGC_PREFIX = "/ogc"


def _schema_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _schema_30(value) for key, value in node.items()}
    for union in ("anyOf", "oneOf"):
        options = out.get(union)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out[union]
            if len(rest) == 1:
                out.update(rest[0])
            else:
                out[union] = rest
            out["nullable"] = True
    if isinstance(out.get("type"), list):  # ["string", "null"]
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if len(types) == 1 else types
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples and "example" not in out:
            out["example"] = examples[0]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out[bound], bool):
            out[plain] = out[bound]
            out[bound] = True
    for dropped in ("$schema", "contentMediaType", "contentEncoding", "$id"):
        out.pop(dropped, None)
    if "$ref" in out and len(out) > 1:  # 3.0 ignores siblings of $ref: keep the $ref only
        out = {"$ref": out["$ref"]}
    return out


# The OGC parameters in the shapes OGC API - Features declares them (Part 1's bbox is an
# array of 4 or 6 numbers, comma-separated), not as the plain strings the routes parse.
OGC_PARAMETER_SCHEMAS: dict[str, dict[str, Any]] = {
    "bbox": {
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "style": "form",
        "explode": False,
    },
    "crs": {"schema": {"type": "string", "format": "uri"}},
    "bbox-crs": {"schema": {"type": "string", "format": "uri"}},
    "filter-crs": {"schema": {"type": "string", "format": "uri"}},
}


def _ogc_parameters(paths: dict[str, Any]) -> dict[str, Any]:
    for item in paths.values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                shape = OGC_PARAMETER_SCHEMAS.get(parameter["name"])
                if shape is not None:
                    parameter.update(shape)
                if parameter["name"] == "collection_id":
                    parameter["schema"] = {"type": "string", "enum": list(LAYERS)}
    return paths


def ogc_openapi_30(app: FastAPI, server_url: str) -> dict[str, Any]:
    full = app.openapi()
    paths = {
        path: copy.deepcopy(item)
        for path, item in full["paths"].items()
        if path.startswith(OGC_PREFIX)
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "bordermark OGC API - Features",
            "version": full["info"]["version"],
            "description": (
                "Read-only OGC API - Features (Parts 1, 2 and 3) over bordermark's collections. "
                "Every request needs a token: `Authorization: Bearer <token>`, or HTTP "
                "Basic with any user name and the token as the password."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": _ogc_parameters(_schema_30(paths)),
        "components": _schema_30(
            {
                **full.get("components", {}),
                "securitySchemes": full.get("components", {}).get("securitySchemes", {}),
            }
        ),
    }
