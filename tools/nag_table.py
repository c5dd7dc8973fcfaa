"""Print the cdk-nag acknowledgements of a synthesised app as a Markdown table (for docs/security.md).

Usage: .venv/bin/python tools/nag_table.py cdk.out/validation-report.json
"""

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    rows: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pack in report["pluginReports"]:
        for finding in pack.get("suppressedViolations", []):
            rule = finding["ruleName"].split("[")[0]
            for construct in finding["violatingConstructs"]:
                path_ = construct["constructPath"].split("/", 1)[1].rsplit("/Resource", 1)[0]
                rows[(rule, finding["reason"])].add(
                    path_.replace("/DefaultPolicy", "").replace("/ServiceRole", "")
                )
    print("| rule | resources | reason |\n|---|---|---|")
    for (rule, reason), paths in sorted(rows.items()):
        shown = ", ".join(sorted(paths)[:6]) + (f" (+{len(paths) - 6} more)" if len(paths) > 6 else "")
        print(f"| {rule} | {shown} | {reason} |")


if __name__ == "__main__":
    main(sys.argv[1])
