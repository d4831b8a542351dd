"""Checks the Teams app package `momentum teams-package` writes: manifest.json
against Microsoft's schema for its manifestVersion (from the npm package
@microsoft/app-manifest), the icons Teams requires (color.png 192×192,
outline.png 32×32 white on transparency) and that the files it names exist."""

import io
import json
import pathlib
import sys
import zipfile

from jsonschema.validators import Draft4Validator
from PIL import Image


def main(package, schemas):
    z = zipfile.ZipFile(package)
    names = set(z.namelist())
    manifest = json.loads(z.read("manifest.json"))
    version = manifest["manifestVersion"]
    schema_file = pathlib.Path(schemas) / f"v{version}" / "MicrosoftTeams.schema.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8-sig"))
    problems = [
        f"manifest.json {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft4Validator(schema).iter_errors(manifest)
    ]
    for key, size in (("color", 192), ("outline", 32)):
        name = manifest["icons"][key]
        if name not in names:
            problems.append(f"{name} is named in the manifest but not in the package")
            continue
        image = Image.open(io.BytesIO(z.read(name))).convert("RGBA")
        if image.size != (size, size):
            problems.append(f"{name} is {image.size}, Teams wants {size}x{size}")
        if key == "outline":
            pixels = list(image.getdata())
            if any(a > 0 and (r, g, b) != (255, 255, 255) for r, g, b, a in pixels):
                problems.append(f"{name} must be white on transparency")
            if all(a == 0 for *_, a in pixels):
                problems.append(f"{name} is empty")
    bots = manifest.get("bots", [])
    if not bots or bots[0].get("botId") != manifest.get("id"):
        problems.append("the bot must be the app's own id")
    for p in problems:
        print(p)
    print(f"Teams app package (manifest v{version}): {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
