#!/usr/bin/env python3
"""Prints fields of a JSON file, one `path: value` a line (values as JSON).

  json_field.py FILE PATH...

A PATH is keys joined by `/` (`best/epoch`); a missing one prints `<missing>`.
"""

import json
import sys


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    for path in sys.argv[2:]:
        value = data
        for key in path.split("/"):
            if not isinstance(value, dict) or key not in value:
                value = "<missing>"
                break
            value = value[key]
        print(f"{path}: {value if value == '<missing>' else json.dumps(value)}")


if __name__ == "__main__":
    main()
