#!/usr/bin/env python3
"""Summarises the JUnit reports of scripts/schemathesis: one line per distinct failure (check
code, operation, and for schema_valid_data_is_not_invalid the rejected field and the service's
message), with the roles that hit it. Usage: st_summary.py <junit-ROLE.xml>...
"""

import collections
import os
import re
import sys
import xml.etree.ElementTree as ET

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def operation_of(name: str, text: str) -> str:
    if not name.lower().startswith("stateful"):
        return name
    match = re.search(r"curl -X (\w+) .*?'?(https?://[^\s']+)", text)
    if not match:
        return name
    path = re.sub(r"^https?://[^/]+", "", match.group(2)).split("?")[0]
    return f"{match.group(1)} {UUID.sub('{id}', path)} (stateful)"


def main() -> int:
    found = collections.defaultdict(set)
    for report in sys.argv[1:]:
        role = re.sub(r"^junit-|\.xml$", "", os.path.basename(report))
        try:
            root = ET.parse(report).getroot()
        except (OSError, ET.ParseError) as error:
            print(f"  (no report {report}: {error})")
            continue
        for case in root.iter("testcase"):
            for failure in list(case.iter("failure")) + list(case.iter("error")):
                text = failure.text or ""
                for block in re.split(r"\n(?=\d+\. Test Case ID:)", text):
                    operation = operation_of(case.get("name", "?"), block)
                    codes = re.findall(r"^- (ST\d+) (.*)$", block, re.M) or [(failure.get("message", "?"), "")]
                    said = re.findall(r"^\s*Service said: (.*)$", block, re.M)
                    for code, title in codes:
                        if code == "ST902" and said:
                            for item in said[0].split("; "):
                                found[(code, operation, item)].add(role)
                        else:
                            found[(code, operation, title)].add(role)
    if not found:
        print("  no failures")
        return 0
    for (code, operation, detail), roles in sorted(found.items()):
        print(f"  {code} {operation}: {detail} [{', '.join(sorted(roles))}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
