"""The latency report (issue 13): every figure on SQLite and PostgreSQL, a table and a CDF in docs/.

Run:  .venv/bin/python bench/report.py [--postgres-url URL] [--quick] [--no-write]

Runs, once per database (a fresh SQLite file; a fresh PostgreSQL database beside --postgres-url, dropped
afterwards): bench/emit_latency.py, bench/commit_to_receipt.py (100 and 1,000 events/s),
bench/auth.py, bench/relay_throughput.py (at a pusher-js subscriber) and bench/takeover.py. It prints each
script's output, then writes the table of figures against the targets, and a PNG of the commit-to-receipt
latency CDF (both rates, both databases), into docs/benchmarks.md between the report's markers (replacing
the previous report) and docs/latency-cdf.png. Every figure depends on the machine's load: run it on a
quiet machine (the load average is printed beside the table). `--quick` shortens every run, for trying it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "latency-cdf.png"
BEGIN = "<!-- bench/report.py: begin -->"
END = "<!-- bench/report.py: end -->"
DATABASES = ("SQLite", "PostgreSQL")

# (figure, unit, PostgreSQL target, SQLite target, lower is better)
TARGETS = {
    "emit p50": ("ms", 0.5, 1.0, True),
    "emit p99": ("ms", 1.5, 3.0, True),
    "100/s p50": ("ms", 3.0, 5.0, True),
    "100/s p99": ("ms", 15.0, 30.0, True),
    "1000/s p50": ("ms", 5.0, 10.0, True),
    "1000/s p99": ("ms", 30.0, 100.0, True),
    "auth req/s": ("req/s", 2500.0, 2000.0, False),
    "auth p99": ("ms", 20.0, 20.0, True),
    "relay speed-up": ("x", 20.0, 20.0, False),
    "takeover max": ("s", 5.0, 5.0, True),
}
LABELS = {
    "emit p50": "added by `emit`, p50",
    "emit p99": "added by `emit`, p99",
    "100/s p50": "commit → pusher-js receipt at 100 ev/s, p50",
    "100/s p99": "commit → pusher-js receipt at 100 ev/s, p99",
    "1000/s p50": "commit → pusher-js receipt at 1,000 ev/s, p50",
    "1000/s p99": "commit → pusher-js receipt at 1,000 ev/s, p99",
    "auth req/s": "channel auth, one worker, req/s",
    "auth p99": "channel auth, one worker, p99",
    "relay speed-up": "relay vs SDK `trigger` loop, at one pusher-js subscriber of 10 channels",
    "takeover max": "a SIGKILLed relay's channel taken over (max of the trials)",
}


@dataclass
class Run:
    """What the scripts printed and measured for one database."""

    database: str
    figures: dict[str, float] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)


def run_script(run: Run, name: str, *args: str) -> str:
    """Run one bench script, echo and keep its output."""
    command = [sys.executable, str(BENCH / name), *args]
    print(f"\n$ {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    output = done.stdout + (f"\n(exit {done.returncode}) {done.stderr[-2000:]}" if done.returncode else "")
    print(output, flush=True)
    run.outputs.append(f"$ {' '.join(command[1:])}\n{output}")
    return output


def number(pattern: str, text: str) -> float | None:
    """The first group of `pattern` in `text` as a number (commas allowed), or None."""
    found = re.search(pattern, text)
    return float(found.group(1).replace(",", "")) if found else None


def measure(run: Run, url: str | None, quick: bool) -> None:
    """Every figure of the report for one database."""
    database = ["--database-url", url] if url else []
    output = run_script(run, "emit_latency.py", *database, "--requests", "300" if quick else "2000")
    run.figures["emit p50"] = number(r"emit adds: p50 ([-+\d.]+) ms", output) or float("nan")
    run.figures["emit p99"] = number(r"emit adds: p50 [-+\d.]+ ms\s+p99 ([-+\d.]+) ms", output) or float(
        "nan"
    )
    with tempfile.TemporaryDirectory() as folder:
        samples = Path(folder) / "samples.json"
        seconds = "2" if quick else "5"
        output = run_script(
            run, "commit_to_receipt.py", *database, "--seconds", seconds, "--samples", str(samples)
        )
        if samples.exists():
            run.latencies = json.loads(samples.read_text())
    for rate in ("100", "1000"):
        line = rf"\s*{rate} events/s: p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms"
        found = re.search(line, output)
        if found:
            run.figures[f"{rate}/s p50"] = float(found.group(1))
            run.figures[f"{rate}/s p99"] = float(found.group(2))
    output = run_script(run, "auth.py", *database, "--duration", "3" if quick else "10")
    private = re.search(
        r"POST /pusher/auth private-workspace-N\.chats\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", output
    )
    if private:
        run.figures["auth req/s"] = float(private.group(1))
        run.figures["auth p99"] = float(private.group(3))
    events = ["--events", "5000", "--baseline-events", "500"] if quick else []
    output = run_script(run, "relay_throughput.py", *database, *events)
    run.figures["relay speed-up"] = number(r"speed-up: ([\d.]+)x", output) or float("nan")
    output = run_script(run, "takeover.py", *database, "--trials", "2" if quick else "5")
    run.figures["takeover max"] = number(r"takeover: max ([\d.]+) s", output) or float("nan")


def verdict(key: str, value: float, database: str) -> str:
    """The figure with its unit, and whether it meets the target."""
    unit, postgres, sqlite, lower = TARGETS[key]
    target = postgres if database == "PostgreSQL" else sqlite
    if value != value:  # NaN: the script did not print it
        return "n/a"
    met = value < target if lower else value >= target
    shown = f"{value:,.0f}" if unit == "req/s" else f"{value:.1f}" if unit == "x" else f"{value:.2f}"
    sign = "<" if lower else "≥"
    return f"{shown} {unit} {'✅' if met else '❌'} ({sign} {target:g})"


def table(runs: dict[str, Run]) -> str:
    """The markdown table of every figure against its target."""
    lines = ["| figure | PostgreSQL | SQLite |", "|---|---|---|"]
    for key, label in LABELS.items():
        cells = [verdict(key, runs[db].figures.get(key, float("nan")), db) for db in ("PostgreSQL", "SQLite")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def plot(runs: dict[str, Run]) -> None:
    """The commit-to-receipt latency CDF, both rates and both databases, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    for database, run in runs.items():
        for rate, values in sorted(run.latencies.items(), key=lambda item: int(item[0])):
            ordered = sorted(values)
            if not ordered:
                continue
            fractions = [(n + 1) / len(ordered) for n in range(len(ordered))]
            style = "-" if database == "PostgreSQL" else "--"
            axis.plot(ordered, fractions, style, label=f"{database}, {int(rate):,} events/s")
    axis.set_xscale("log")
    axis.set_xlabel("commit → pusher-js receipt (ms, log scale)")
    axis.set_ylabel("fraction of events")
    axis.set_title("Commit to pusher-js receipt (bench/commit_to_receipt.py)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(PLOT)
    plt.close(figure)


def write(runs: dict[str, Run], command: str, load: tuple[float, float, float]) -> None:
    """Replace the report's section of docs/benchmarks.md (or append it)."""
    section = "\n".join(
        [
            BEGIN,
            "## Latency report (issue 13)",
            "",
            f"Command: `{command}` — {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}; load average at the end "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min). The relay, the local Pusher "
            "server and Node share the machine's cores. Each script's full output is printed by the command.",
            "",
            table(runs),
            "",
            "![Commit to pusher-js receipt, CDF](latency-cdf.png)",
            END,
        ]
    )
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "WAXOS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
        help="a database whose server may create and drop throw-away databases",
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs, for trying the command")
    parser.add_argument("--no-write", action="store_true", help="print the table; leave docs/ alone")
    args = parser.parse_args()
    runs = {database: Run(database) for database in DATABASES}
    measure(runs["SQLite"], None, args.quick)
    # Each script makes its own throw-away database beside this one.
    measure(runs["PostgreSQL"], args.postgres_url, args.quick)
    command = " ".join([".venv/bin/python", "bench/report.py", *sys.argv[1:]])
    load = os.getloadavg()
    print(f"\ncommand: {command}")
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*load))
    print(table(runs))
    if not args.no_write:
        plot(runs)
        write(runs, command, load)
        print(f"wrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
