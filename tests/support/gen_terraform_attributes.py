"""Generate compiler/data/terraform_attributes.json from the vendored provider schemas.

The compiler checks `overrides.terraform` against the provider's attributes at compile time
(an unknown or computed-only attribute is MLC-E055), but the provider schemas are large and
live with the tests. This keeps only what that check needs: per resource type, the settable
attributes, the computed-only ones and the nested blocks (recursively).
Run `python -m tests.support.gen_terraform_attributes` after vendoring a new provider schema;
tests/targets/test_overrides.py fails while the data file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMAS = REPO / "tests" / "support" / "upstream_schemas" / "terraform"
TARGET = REPO / "compiler" / "data" / "terraform_attributes.json"


def _block(block: dict[str, Any]) -> dict[str, Any]:
    attributes = block.get("attributes") or {}
    settable = sorted(n for n, a in attributes.items() if a.get("required") or a.get("optional"))
    read_only = sorted(n for n, a in attributes.items() if a.get("computed") and not (a.get("required") or a.get("optional")))
    blocks = {name: _block(nested["block"]) for name, nested in sorted((block.get("block_types") or {}).items())}
    out: dict[str, Any] = {"set": settable}
    if read_only:
        out["read_only"] = read_only
    if blocks:
        out["blocks"] = blocks
    return out


def generate() -> str:
    types: dict[str, Any] = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        for provider in json.loads(path.read_text(encoding="utf-8"))["provider_schemas"].values():
            for rtype, schema in (provider.get("resource_schemas") or {}).items():
                types[rtype] = _block(schema["block"])
    return json.dumps(dict(sorted(types.items())), sort_keys=True, separators=(",", ":")) + "\n"


if __name__ == "__main__":
    TARGET.write_text(generate(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET.relative_to(REPO)}\n")
