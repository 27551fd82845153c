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
for path in sys.argv[2:]:
    try:
        jsonschema.validate(json.load(open(path, "rb")), schema, cls=jsonschema.Draft7Validator)
    except (jsonschema.ValidationError, ValueError) as e:
        print(f"FAIL: {path} does not validate: {e}")
        sys.exit(1)
print("valid")
