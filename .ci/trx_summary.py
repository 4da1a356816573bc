#!/usr/bin/env python3
"""Sums the TRX files written by `dotnet test --logger trx` into one CI verdict.

Usage: trx_summary.py --trx-dir DIR --log DOTNET_TEST_LOG --exit-code RC --summary-file FILE

Prints a per-assembly table, the failed tests and the reasons for any extra failures to stdout, and writes the
closing line `N passed, N failed, N skipped` to FILE (the caller prints it last). Besides failed test results,
each of these counts as one failure, so that a broken run can never look green:
  * a TRX that cannot be read (the test host died while writing it);
  * a test run that was aborted (test host crashed, hang timeout) - VSTest still writes a TRX for it, with
    ResultSummary outcome "Failed" and a RunInfo naming the reason, but often no failed result;
  * each project that failed to build or restore (MSBuild "error XX0000:" lines ending in "[...proj]");
  * `dotnet test` exiting non-zero (or being timed out) with none of the above to explain it.
Exits 0 whatever the verdict; the caller decides from the counts.
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
# "<file>(l,c): error CS0029: msg [/path/Project.csproj]", "/path/X.csproj : error NU1101: ... [/path/X.sln]"
BUILD_ERROR = re.compile(r"\berror [A-Z]+[0-9]+\s*:.*\[(?P<proj>[^\]]+?\.(?:csproj|fsproj|vbproj|proj|sln|slnx))(?:::[^\]]*)?\]\s*$")
ABORT_HINT = re.compile(r"aborted|crashed|inactivity time", re.IGNORECASE)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    # .NET writes 7 fractional digits; Python takes at most 6.
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def first_line(text: str | None, limit: int = 300) -> str:
    text = (text or "").strip().splitlines()
    return text[0][:limit] if text else ""


class Run:
    def __init__(self, path: str):
        self.path = path
        self.name = os.path.basename(path)
        self.passed = self.failed = self.skipped = 0
        self.crashed = 0
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.seconds: float | None = None


def read_trx(path: str) -> Run:
    run = Run(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        run.crashed = 1
        run.notes.append(f"unreadable TRX ({exc}); the test host probably died while writing it")
        return run

    # Assembly name: from the test definitions, else from a RunInfo ("No test is available in X.dll").
    code_base = root.find("t:TestDefinitions/t:UnitTest/t:TestMethod", NS)
    run_infos = [(ri.get("outcome", ""), (ri.findtext("t:Text", "", NS) or "").strip())
                 for ri in root.findall("t:ResultSummary/t:RunInfos/t:RunInfo", NS)]
    if code_base is not None and code_base.get("codeBase"):
        run.name = os.path.basename(code_base.get("codeBase"))
    else:
        for _, text in run_infos:
            m = re.search(r"in (\S+\.dll)", text)
            if m:
                run.name = os.path.basename(m.group(1))
                break

    # An aborted run under --blame leaves a sequence file (attached to the TRX) naming the assembly and the tests
    # that never completed: the best pointer to the crash or hang.
    unfinished: list[str] = []
    deployment = root.find("t:TestSettings/t:Deployment", NS)
    attach_root = os.path.join(os.path.dirname(path), deployment.get("runDeploymentRoot", "") if deployment is not None else "", "In")
    for link in root.findall("t:ResultSummary/t:CollectorDataEntries//t:A", NS):
        seq_path = os.path.join(attach_root, link.get("href", ""))
        if not os.path.basename(seq_path).startswith("Sequence_"):
            continue
        try:
            for test in ET.parse(seq_path).getroot().iter("Test"):
                if run.name.endswith(".trx") and test.get("Source"):
                    run.name = os.path.basename(test.get("Source"))
                if test.get("Completed") == "False":
                    unfinished.append(test.get("Name", "?"))
        except (ET.ParseError, OSError):
            pass

    for result in root.iter("{%s}UnitTestResult" % NS["t"]):
        # Data-driven tests nest their rows in InnerResults; the parent's own outcome aggregates them, so count
        # only leaves.
        if result.find("t:InnerResults", NS) is not None:
            continue
        outcome = result.get("outcome", "")
        if outcome == "Passed":
            run.passed += 1
        elif outcome == "NotExecuted":
            run.skipped += 1
        else:
            run.failed += 1
            message = first_line(result.findtext("t:Output/t:ErrorInfo/t:Message", "", NS))
            run.failures.append(f"{result.get('testName', '?')} [{outcome}] {message}".rstrip())

    summary = root.find("t:ResultSummary", NS)
    outcome = summary.get("outcome", "") if summary is not None else ""
    abort_texts = [text for _, text in run_infos if ABORT_HINT.search(text)]
    aborted = any("aborted" in t.lower() for t in abort_texts)
    if aborted or (outcome in ("Error", "Failed", "Timeout", "Aborted") and run.failed == 0):
        run.crashed = 1
        ordered = sorted(abort_texts, key=lambda t: "aborted" not in t.lower())
        reason = "; ".join(first_line(t) for t in ordered) or f"ResultSummary outcome={outcome}"
        run.notes.append(f"test run aborted: {reason}")
        if unfinished:
            run.notes.append("tests that never completed: " + ", ".join(unfinished[:10]))

    times = root.find("t:Times", NS)
    if times is not None:
        start, finish = parse_time(times.get("start")), parse_time(times.get("finish"))
        if start and finish:
            run.seconds = max(0.0, (finish - start).total_seconds())
    return run


def build_errors(log_path: str) -> tuple[list[str], list[str]]:
    """Distinct MSBuild error lines and the distinct projects they name."""
    lines: list[str] = []
    projects: list[str] = []
    try:
        with open(log_path, encoding="utf-8", errors="replace") as log:
            for raw in log:
                line = raw.rstrip("\n")
                m = BUILD_ERROR.search(line)
                if not m:
                    continue
                if line.strip() not in lines:
                    lines.append(line.strip())
                proj = m.group("proj")
                if proj not in projects:
                    projects.append(proj)
    except OSError:
        pass
    # A project-level error lists the project; a solution-level one (restore) lists the solution only.
    real = [p for p in projects if not p.endswith((".sln", ".slnx"))]
    return lines, (real or projects)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trx-dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--exit-code", type=int, required=True)
    ap.add_argument("--summary-file", required=True)
    args = ap.parse_args()

    runs = [read_trx(p) for p in sorted(glob.glob(os.path.join(args.trx_dir, "**", "*.trx"), recursive=True))]
    passed = sum(r.passed for r in runs)
    skipped = sum(r.skipped for r in runs)
    failed = sum(r.failed + r.crashed for r in runs)
    extra: list[str] = []

    if runs:
        print("Test assemblies (from TRX):")
        width = max(len(r.name) for r in runs)
        for r in sorted(runs, key=lambda r: r.name):
            secs = f"{r.seconds:7.1f}s" if r.seconds is not None else "      ?"
            flag = "  CRASHED" if r.crashed else ""
            print(f"  {r.name:<{width}}  passed {r.passed:5d}  failed {r.failed:4d}  skipped {r.skipped:4d}  {secs}{flag}")
            for note in r.notes:
                print(f"      {note}")
    else:
        print("No TRX file was written: no test assembly ran.")

    failures = [f"{r.name}: {f}" for r in runs for f in r.failures]
    if failures:
        print(f"Failed tests ({len(failures)}):")
        for f in failures[:100]:
            print(f"  {f}")
        if len(failures) > 100:
            print(f"  ... and {len(failures) - 100} more (see the TRX files)")

    error_lines, error_projects = build_errors(args.log)
    if error_lines:
        print(f"Build/restore errors in {len(error_projects)} project(s), each counted as one failure:")
        for p in error_projects:
            print(f"  {p}")
        for line in error_lines[:40]:
            print(f"  {line}")
        if len(error_lines) > 40:
            print(f"  ... and {len(error_lines) - 40} more error lines")
        failed += len(error_projects)

    if args.exit_code == 124:
        extra.append("dotnet test was stopped by the CI time limit (timeout); counted as one failure")
        failed += 1
    elif args.exit_code != 0 and failed == 0:
        extra.append(f"dotnet test exited {args.exit_code} without a failed test, crash or build error that "
                     "explains it; counted as one failure (see the log)")
        failed += 1
    for line in extra:
        print(line)
    if not runs and not error_lines and args.exit_code == 0:
        print("WARNING: dotnet test succeeded but ran no test.")

    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    with open(args.summary_file, "w", encoding="utf-8") as out:
        out.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
