#!/usr/bin/env python3
"""Counts test cases from the JUnit XML reports Bazel wrote for the given test targets.

Usage: count_tests.py TESTLOGS_DIR [--extra REPORT.xml ...] < targets (one `//pkg:name` a line)

--extra adds the cases of a JUnit report written outside Bazel (tools/check_libtorch_root.sh).

Prints `N passed, N failed` on the last line. A target with no report, or whose report is
Bazel's own (a crash or a time-out: one case carrying an <error>), counts as one failure,
so a test binary that dies is never lost from the count. Exits 1 when anything failed or
when no test ran.
"""
import os
import sys
import xml.etree.ElementTree as ET


def report_path(testlogs, target):
    pkg, name = target.lstrip("/").split(":")
    return os.path.join(testlogs, pkg, name, "test.xml")


def main(testlogs, targets, extra=()):
    passed = failed = skipped = 0
    for target, path in [(t, report_path(testlogs, t)) for t in targets] + [(e, e) for e in extra]:
        try:
            cases = list(ET.parse(path).getroot().iter("testcase"))
        except (OSError, ET.ParseError) as e:
            print(f"count_tests: {target}: no readable report ({e}); counted as 1 failure")
            failed += 1
            continue
        if not cases:
            print(f"count_tests: {target}: report has no test cases; counted as 1 failure")
            failed += 1
            continue
        for c in cases:
            if c.find("failure") is not None or c.find("error") is not None:
                failed += 1
                print(f"count_tests: FAILED {target} {c.get('classname', '')}.{c.get('name')}")
            elif c.get("status") == "notrun" or c.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    extra = [args[i + 1] for i, a in enumerate(args) if a == "--extra"]
    names = [l.strip() for l in sys.stdin if l.strip().startswith("//")]
    sys.exit(main(args[0], names, extra))
