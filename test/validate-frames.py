"""Validates the generated schemas and a run's frames with Python's jsonschema.

Usage: python3 validate-frames.py SCHEMA_DIR FRAMES_FILE
FRAMES_FILE holds one JSON object a line: {"primitive": P, "frame": F, "valid": true|false}.
Every *.schema.json must be a valid draft-07 schema; each frame is validated against
P.wire.schema.json and must be accepted exactly when "valid" is true. Prints one line per
failure and a summary; exits 1 on any failure.
"""
import json
import os
import sys

import jsonschema

schema_dir, frames_file = sys.argv[1], sys.argv[2]
failures = 0
schemas = 0
for name in sorted(os.listdir(schema_dir)):
    if name.endswith(".schema.json"):
        with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
            doc = json.load(f)
        try:
            jsonschema.Draft7Validator.check_schema(doc)
            schemas += 1
        except jsonschema.SchemaError as e:
            failures += 1
            print("%s is not a valid schema: %s" % (name, e.message))

validators = {}
accepted = refused = 0
with open(frames_file, encoding="utf-8") as f:
    for line in f:
        item = json.loads(line)
        p = item["primitive"]
        if p not in validators:
            with open(os.path.join(schema_dir, p + ".wire.schema.json"), encoding="utf-8") as s:
                validators[p] = jsonschema.Draft7Validator(json.load(s))
        errors = list(validators[p].iter_errors(item["frame"]))
        if item["valid"] and errors:
            failures += 1
            print("refused %s: %s" % (json.dumps(item["frame"]), errors[0].message))
        elif not item["valid"] and not errors:
            failures += 1
            print("accepted %s" % json.dumps(item["frame"]))
        elif errors:
            refused += 1
        else:
            accepted += 1
print("%d schemas valid, %d frames accepted, %d bad frames refused, %d failures" % (schemas, accepted, refused, failures))
sys.exit(1 if failures else 0)
