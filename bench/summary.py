"""Run every benchmark and print each headline figure, then one table of them all.

Run: ``python -m bench.summary`` (``make bench``). Each benchmark prints lines of the form
``bench: NAME = VALUE UNIT (target OP NUMBER)``; this collects them and says which targets hold.
"""

from __future__ import annotations

import re
import subprocess
import sys

BENCHMARKS = ["bench.nomination_import", "bench.lesson_page", "bench.testwise",
              "bench.assessment_load",
              "bench.credentials", "bench.register", "bench.dashboards", "bench.tutoring",
              "bench.safeguarding", "bench.research"]
LINE = re.compile(
    r"^bench: (?P<name>\S+) = (?P<value>[-\d.]+) (?P<unit>\S+) "
    r"\(target (?P<op><=|>=|==) (?P<target>[-\d.]+)\)$"
)


def met(value: float, op: str, target: float) -> bool:
    return {"<=": value <= target, ">=": value >= target, "==": value == target}[op]


def main() -> int:
    rows = []
    failed = False
    for module in BENCHMARKS:
        result = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True)
        for line in result.stdout.splitlines():
            print(line)
            match = LINE.match(line)
            if match:
                rows.append(match.groupdict())
        if result.returncode != 0:
            failed = True
            print(f"{module} failed:\n{result.stderr[-3000:]}", file=sys.stderr)
    print()
    print(f"| {'figure':<45} | {'value':>10} | {'unit':<8} | target      | met |")
    print(f"|{'-' * 47}|{'-' * 12}|{'-' * 10}|-------------|-----|")
    for row in rows:
        ok = met(float(row["value"]), row["op"], float(row["target"]))
        failed |= not ok
        print(f"| {row['name']:<45} | {row['value']:>10} | {row['unit']:<8} | "
              f"{row['op']} {row['target']:<8} | {'yes' if ok else 'NO'} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
