#!/usr/bin/env python3
"""Writes src/integrations/shapes.json: the output shapes of the AWS operations whose mocked
results TestState validates (fieldValidationMode), taken from the service models botocore
ships (the version pinned in tests/moto/requirements.lock, installed by scripts/test.sh).

Run it again after changing the pin or the service list:
    tests/moto/.venv/bin/python scripts/shapes.py
With --check it only says whether the committed file is what the pinned botocore gives.
"""
import gzip
import json
import pathlib
import sys

import botocore

# Step Functions' service names (aws-sdk:<name>, optimised integrations) → botocore's.
SERVICES = {
    "dynamodb": "dynamodb",
    "eventbridge": "events",
    "events": "events",
    "kms": "kms",
    "lambda": "lambda",
    "s3": "s3",
    "secretsmanager": "secretsmanager",
    "sfn": "stepfunctions",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
    "states": "stepfunctions",
    "sts": "sts",
}
NUMBERS = {"integer", "long", "float", "double"}


def pascal(member):
    return member[:1].upper() + member[1:]


def model(name):
    base = pathlib.Path(botocore.__file__).parent / "data" / name
    version = sorted(p.name for p in base.iterdir() if p.is_dir())[-1]
    path = base / version / "service-2.json"
    if path.exists():
        return json.loads(path.read_text())
    return json.loads(gzip.decompress((base / version / "service-2.json.gz").read_bytes()))


def compact(shapes, name, out):
    if name in out:
        return
    s = shapes[name]
    t = s["type"]
    if t == "structure":
        # Step Functions' integrations name members as the AWS SDKs' classes do: capitalised.
        out[name] = {"t": "o", "m": [], "r": [pascal(r) for r in s.get("required", [])]}
        out[name]["m"] = [[pascal(m), v["shape"]] for m, v in s.get("members", {}).items()]
        for _, ref in out[name]["m"]:
            compact(shapes, ref, out)
    elif t == "list":
        out[name] = {"t": "a", "i": s["member"]["shape"]}
        compact(shapes, s["member"]["shape"], out)
    elif t == "map":
        out[name] = {"t": "m", "v": s["value"]["shape"]}
        compact(shapes, s["value"]["shape"], out)
    elif t in NUMBERS:
        c = {"t": "n"}
        if "min" in s:
            c["n"] = s["min"]
        if "max" in s:
            c["x"] = s["max"]
        out[name] = c
    elif t == "string":
        c = {"t": "s"}
        if "enum" in s:
            c["e"] = s["enum"]
        if "min" in s:
            c["n"] = s["min"]
        out[name] = c
    elif t in ("blob", "timestamp"):
        out[name] = {"t": "s"}
    elif t == "boolean":
        out[name] = {"t": "b"}
    else:
        out[name] = {"t": "any"}


def main():
    services = {}
    models = {}
    for sfn_name, boto_name in SERVICES.items():
        if boto_name not in models:
            m = model(boto_name)
            shapes = {}
            ops = {}
            for op, spec in m["operations"].items():
                output = spec.get("output", {}).get("shape")
                if output:
                    ops[op] = output
                    compact(m["shapes"], output, shapes)
            models[boto_name] = {"ops": ops, "shapes": shapes}
        services[sfn_name] = boto_name
    doc = {
        "botocore": botocore.__version__,
        "services": services,
        "models": models,
    }
    target = pathlib.Path(__file__).resolve().parent.parent / "src/integrations/shapes.json"
    text = json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n"
    if "--check" in sys.argv:
        if target.read_text() != text:
            sys.exit(f"{target.name} is stale: run scripts/shapes.py")
        return
    target.write_text(text)
    print(f"{target.name}: {target.stat().st_size} bytes from botocore {botocore.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
