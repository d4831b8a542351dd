"""Checks every Block Kit payload the test suite had the local workspace
accept (written to MOMENTUM_BLOCKS_DIR) with Slack's own Python SDK: each
block and view must parse into slack_sdk's models and pass their limit
checks (validate_json), and messages must keep Slack's message limits."""

import json
import pathlib
import sys

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000


def check_blocks(blocks, limit):
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks; at most {limit}")
    for raw in blocks:
        block = Block.parse(raw)
        if block is None or block.type != raw.get("type"):
            raise ValueError(f"slack_sdk does not know block {raw.get('type')!r}")
        block.validate_json()
        # Parsing drops fields the model does not know: a block that does
        # not round-trip carries something Slack would refuse.
        missing = set(raw) - set(block.to_dict())
        if missing:
            raise ValueError(f"{raw.get('type')} block: unknown fields {sorted(missing)}")


def check(kind, payload):
    if kind == "message":
        text = payload.get("text") or ""
        if not text.strip():
            raise ValueError("a message without notification text")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text of {len(text)} characters")
        check_blocks(payload.get("blocks", []), MAX_MESSAGE_BLOCKS)
    else:
        view = View(**payload)
        view.validate_json()
        if view.type != kind:
            raise ValueError(f"a {view.type} view kept as {kind}")
        check_blocks(payload["blocks"], MAX_VIEW_BLOCKS)


def main(folder):
    files = sorted(pathlib.Path(folder).glob("*.json"))
    kinds = {}
    failures = []
    for f in files:
        kind = f.name.split("-", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        try:
            check(kind, json.loads(f.read_text()))
        except Exception as e:  # every failure is reported, not just the first
            failures.append(f"{f.name}: {e}")
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    if not files or "message" not in kinds or "home" not in kinds or "modal" not in kinds:
        print(f"expected messages, home tabs and modals from the tests; found: {summary or 'nothing'}")
        return 1
    for line in failures[:50]:
        print(line)
    print(f"Block Kit: {len(files)} payloads ({summary}) checked with slack_sdk; {len(failures)} refused")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
