"""Validates every line of a findings.ocsf.jsonl against the published OCSF schema.

The schema comes from the ocsf-json-schema package (the OCSF releases as data, turned into
JSON Schema draft 2020-12), the validation from jsonschema: tests/ocsf/requirements.txt.
Usage: python3 validate.py FILE. Prints `ok N` or each invalid line with its errors, and
exits 1 when any line is invalid.
"""

import json
import sys

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema


def main(path):
    validators = {}
    bad = 0
    count = 0
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            count += 1
            event = json.loads(line)
            meta = event.get("metadata", {})
            key = (meta.get("version"), event.get("class_uid"), tuple(meta.get("profiles", [])))
            if key not in validators:
                schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=key[0]))
                name = schema.lookup_class_name_from_uid(class_uid=key[1])
                validators[key] = Draft202012Validator(
                    schema.get_class_schema(name, list(key[2]))
                )
            errors = sorted(validators[key].iter_errors(event), key=lambda e: list(e.path))
            if errors:
                bad += 1
                for e in errors[:5]:
                    path_ = "/".join(str(p) for p in e.path)
                    print(f"line {number}: {path_}: {e.message[:300]}")
    print(f"ok {count - bad} bad {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
