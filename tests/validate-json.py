#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# validate-json.py SCHEMA FILE...: each FILE holds one latchkeyctl --json
# document that must validate against SCHEMA (exit 1 naming the first
# violation). Needs python3-jsonschema; exit 77 (skip) without it.
import json
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed")
    sys.exit(77)

schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
for path in sys.argv[2:]:
    try:
        doc = json.load(open(path, "rb"))
    except ValueError as e:
        print(f"FAIL: {path} is not JSON: {e}")
        sys.exit(1)
    # oneOf reports only "not valid under any"; the closest branch says why.
    err = jsonschema.exceptions.best_match(validator.iter_errors(doc), key=jsonschema.exceptions.relevance)
    if err is not None:
        ctx = min(err.context, key=lambda e: len(e.path), default=err) if err.context else err
        print(f"FAIL: {path} does not validate: {ctx.message} at {list(ctx.absolute_path)}")
        sys.exit(1)
print("valid")
