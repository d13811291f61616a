"""Run the reliability suites and print the README's reliability table.

The suites in ``tests/reliability`` count what they do -- kill points survived,
concurrent operations, property-test examples, bad inputs tried -- and what went
wrong (acknowledged data lost, cross-scope leaks) into a JSON report; this script
runs them at the chosen size and prints that report as a Markdown table, with the
pytest outcome. Every figure is measured in this run.

Usage:
    python benchmarks/reliability_table.py                # README size, slow tests included
    python benchmarks/reliability_table.py --scale 2      # twice as many kills, ops, examples
    python benchmarks/reliability_table.py --fast         # skip the slow tests
    python benchmarks/reliability_table.py --report r.json  # print an existing report only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "tests" / "reliability"


def run_suites(scale: float, fast: bool, report: Path, extra: list[str]) -> tuple[int, float]:
    """Run pytest on the reliability suites; return its exit code and the wall time."""
    env = dict(os.environ)
    env["ZETTELMEM_RELIABILITY_REPORT"] = str(report)
    env["ZETTELMEM_RELIABILITY_SCALE"] = str(scale)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    marks = "not slow" if fast else "slow or not slow"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-q",
        "-m",
        marks,
        "-p",
        "no:cacheprovider",
    ]
    started = time.perf_counter()
    done = subprocess.run([*command, *extra], cwd=ROOT, env=env)
    return done.returncode, time.perf_counter() - started


def figure(tally: dict[str, int], key: str) -> str:
    return f"{tally[key]:,}" if key in tally else "not run"


def outcome(tally: dict[str, int], key: str) -> str:
    """A must-be-zero figure; 'n/a' when the suite did not measure it."""
    if key not in tally:
        return "n/a"
    return f"**{tally[key]:,}**" if tally[key] else "0"


def rows(counters: dict[str, dict[str, int]]) -> list[tuple[str, str, str, str]]:
    """(suite, what was measured, data lost, cross-scope leaks) per suite."""
    crash, conc, prop, bad, tenant, server, llm, writers = (
        counters.get(name, {})
        for name in (
            "crash",
            "concurrency",
            "property",
            "bad_input",
            "tenant",
            "server",
            "llm_faults",
            "server_two_writers",
        )
    )
    table = [
        (
            "Crash safety (SIGKILL mid-ingest)",
            f"{figure(crash, 'runs')} kill points survived; "
            f"{figure(crash, 'notes_checked')} acknowledged notes checked; "
            f"{figure(crash, 'interrupted_deletes')} interrupted deletes; "
            f"{figure(crash, 'reopens_repaired')} reopenings repaired a half-done write; "
            f"{figure(crash, 'injected_failures')} injected store failures",
            outcome(crash, "data_lost"),
            outcome(crash, "leaks"),
        ),
        (
            "Concurrency (6 threads, one instance)",
            f"{figure(conc, 'runs')} concurrent operations",
            outcome(conc, "data_lost"),
            outcome(conc, "leaks"),
        ),
        (
            "State machine (Hypothesis)",
            f"{figure(prop, 'runs')} examples, {figure(prop, 'steps')} steps",
            outcome(prop, "data_lost"),
            outcome(prop, "leaks"),
        ),
        (
            "Bad input",
            f"{figure(bad, 'runs')} bad inputs tried (store snapshot compared after each)",
            outcome(bad, "data_lost"),
            "n/a",
        ),
        (
            "Tenant isolation",
            f"{figure(tenant, 'runs')} scoped checks; delete_all among "
            f"{figure(tenant, 'delete_all_notes')} notes",
            "n/a",
            outcome(tenant, "leaks"),
        ),
        (
            "Server mode (chroma run + HttpClient)",
            f"{figure(server, 'runs')} checks, {figure(server, 'restarts')} server restarts",
            outcome(server, "data_lost"),
            outcome(server, "leaks"),
        ),
        (
            "LLM faults (exceptions, timeouts, garbage)",
            f"{figure(llm, 'runs')} notes added under faults",
            outcome(llm, "data_lost"),
            outcome(llm, "leaks"),
        ),
    ]
    if writers:
        table.append(
            (
                "Known limitation: 2 writers on one server",
                f"{figure(writers, 'runs')} concurrent adds; "
                f"{figure(writers, 'link_updates_lost')} link updates lost",
                "n/a",
                "n/a",
            )
        )
    return table


def render(counters: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| Suite | Measured | Data lost | Cross-scope leaks |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(counters)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="size factor for the loops")
    parser.add_argument("--fast", action="store_true", help="skip the slow tests")
    parser.add_argument("--report", type=Path, help="print this existing report; run nothing")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args()
    if args.report is not None:
        print(render(json.loads(args.report.read_text())))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "reliability.json"
        code, seconds = run_suites(args.scale, args.fast, report, args.pytest_args)
        if not report.exists():
            print(f"pytest exited with {code} before writing a report", file=sys.stderr)
            return code or 1
        counters = json.loads(report.read_text())
    print()
    print(render(counters))
    print()
    status = "all passed" if code == 0 else f"pytest exit code {code}: see the failures above"
    print(f"scale {args.scale:g}, {'fast' if args.fast else 'full'} run, {seconds:.0f} s, {status}")
    return code


if __name__ == "__main__":
    sys.exit(main())
