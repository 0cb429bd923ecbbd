#!/usr/bin/env python3
"""Every module a target imports must be declared in Package.swift: one of its target dependencies, or
a product it names. SwiftPM finds undeclared modules anyway when something else in the build pulls
them in, so the gap only shows in a different build order (or as "missing required module" errors
far from the cause); this check finds it at once.

Reads `swift package dump-package`, then each target's sources. Imports of the toolchain's own modules
(Foundation, Dispatch, Testing, …) need no declaration. `--self-test` plants an undeclared import and
checks it is caught. Exit 0 when everything is declared; one line per undeclared import otherwise.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TOOLCHAIN = {"Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationXML", "Dispatch", "Glibc", "Musl", "Darwin",
             "Synchronization", "Testing", "XCTest", "_Concurrency", "Observation", "RegexBuilder", "_StringProcessing", "os",
             "CoreFoundation", "WinSDK", "Android", "Bionic"}
IMPORT = re.compile(r"^\s*(?:@_exported\s+|@testable\s+|@preconcurrency\s+|internal\s+|public\s+|package\s+|private\s+|fileprivate\s+)*"
                    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def package():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def declared(target):
    modules = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                modules.add(dependency[kind][0])
    return modules


def target_directory(target):
    if target.get("path"):
        return os.path.join(ROOT, target["path"])
    base = "Tests" if target["type"] == "test" else "Sources"
    return os.path.join(ROOT, base, target["name"])


def undeclared(name, allowed, files):
    problems = []
    for path, text in files:
        for number, line in enumerate(text.splitlines(), 1):
            match = IMPORT.match(line)
            if not match:
                continue
            module = match.group(1)
            if module in TOOLCHAIN or module in allowed or module == name:
                continue
            problems.append(f"{os.path.relpath(path, ROOT)}:{number}: imports {module}, which target {name} does not declare in Package.swift")
    return problems


def sources(directory):
    for folder, _, names in os.walk(directory):
        for file in sorted(names):
            if file.endswith(".swift"):
                path = os.path.join(folder, file)
                with open(path, encoding="utf-8") as handle:
                    yield path, handle.read()


def main():
    manifest = package()
    problems = []
    for target in manifest["targets"]:
        if target["type"] not in ("regular", "executable", "test"):
            continue
        problems += undeclared(target["name"], declared(target), list(sources(target_directory(target))))
    # The self-test always runs: a check that cannot fail is worse than none.
    planted = undeclared("Planted", {"SplitPlaneProtocol"}, [("Planted.swift", "import Foundation\nimport SplitPlaneProtocol\nimport GRDB\n")])
    if len(planted) != 1 or "imports GRDB" not in planted[0]:
        problems.append("check-imports self-test: a planted undeclared import of GRDB was not caught")
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print(f"imports: every import of {sum(1 for t in manifest['targets'] if t['type'] in ('regular', 'executable', 'test'))} targets is declared")


if __name__ == "__main__":
    main()
