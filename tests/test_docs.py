"""Every code block in README.md and docs/*.md runs as written, or with the tiny budget its marker states.

What runs, per fenced block:

* ``python``: the block, in a fresh interpreter (a temporary file in a temporary folder).
* ``bash``, ``sh``, ``console``: every line that starts with ``auction-env``, ``python`` or
  ``.venv/bin/python`` (after an optional ``$ `` prompt, which in ``console`` blocks marks the
  commands among output lines; ``\\`` continues a line; ``#`` starts a comment), in order, in one
  fresh interpreter per block (torch's thread count reset before each command) whose working
  folder is a temporary one (so ``--out runs/...`` and default outputs land there; repository
  paths such as ``scripts/x.py`` or ``mechanisms/training/configs/x.yaml`` are resolved against
  the repository). ``auction-env ARGS`` runs as ``python -m auction_env ARGS`` and a script as
  ``python SCRIPT ARGS``, through :mod:`runpy`, so the block pays for importing torch once
  rather than once per command; every command must exit 0. The programs in :data:`NEVER_RUN`
  are not run (the reason is next to each); any other program fails the test.
* ``yaml``: a scenario, checked with ``auction-env validate``.
* ``text`` (or no language): output, not run.

A block that takes more than a few seconds as written carries one or more HTML comments on the
lines right above its fence (GitHub does not render them)::

    <!-- docs-test: replace "--profiles 1000" "--profiles 10" -->   substitute in the block before running
                                                                    (every occurrence; it must occur)
    <!-- docs-test: skip (reason) -->                               do not run; only where running is
                                                                    impossible here

Identical blocks (the README repeats snippets of the docs pages) run once, under the id of
their first occurrence. Two more tests check that every page in docs/ is linked from the
README and that every relative link (and its #anchor) in the README and docs/ resolves.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# About three minutes on a 2-core CPU shared with another job: the slow tier, not the everyday one.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Programs a shell block may name that the test never runs, and why.
NEVER_RUN = {
    "make": "sets up .venv and runs the suite or a benchmark; this test already runs inside the venv",
    "pip": "installs packages",
    "torchrun": "starts several training processes; tests/mechanisms/test_distributed.py covers data-parallel training",
    "ray": "starts or stops a Ray cluster; tests/auction_env/test_sweep.py covers the Ray backend",
    "tensorboard": "a server that runs until stopped",
}
#: ``python -m MODULE`` lines that are never run, and why.
NEVER_RUN_MODULES = {
    "pytest": "the test suite is run by `make test`; running it from here would recurse",
}
PYTHONS = {"python", "python3", ".venv/bin/python"}
#: Where the documented commands write: never resolved against the repository, so they land in the temporary folder.
OUTPUT_FOLDERS = {"runs"}
SHELL_LANGUAGES = {"bash", "sh", "console", "shell"}
OUTPUT_LANGUAGES = {"", "text"}
LANGUAGES = {"python", "yaml"} | SHELL_LANGUAGES | OUTPUT_LANGUAGES
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&"}
#: Seconds one block may take before the test calls it hung.
TIMEOUT = 600

FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    """One fenced code block and the markers right above it."""

    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    replacements: list[tuple[str, str]] = field(default_factory=list)
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:L{self.line}"

    def runnable_code(self) -> str:
        """The code with the marker's substitutions applied (each must occur)."""
        code = self.code
        for old, new in self.replacements:
            if old not in code:
                raise AssertionError(f"{self.id}: docs-test replace {old!r} does not occur in the block")
            code = code.replace(old, new)
        return code


def parse(page: Path) -> tuple[list[Block], list[str]]:
    """The fenced blocks of a Markdown page, and the problems found with its markers."""
    blocks, problems = [], []
    lines = page.read_text(encoding="utf-8").splitlines()
    rel = page.relative_to(ROOT).as_posix()
    pending: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        text = lines[i]
        fence = FENCE.match(text)
        marker = MARKER.match(text)
        if marker:
            pending.append((i + 1, marker.group(1)))
            i += 1
            continue
        if fence is None:
            if pending:
                problems.append(f"{rel}:L{pending[0][0]}: docs-test marker not directly above a code fence")
                pending = []
            i += 1
            continue
        mark, language = fence.group(1), fence.group(2).lower()
        start = i
        body = []
        i += 1
        closing = re.compile(rf"^{re.escape(mark[0])}{{{len(mark)},}}\s*$")
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            problems.append(f"{rel}:L{start + 1}: code fence never closed")
        i += 1  # the closing fence
        block = Block(page, start + 1, language, "\n".join(body) + "\n")
        if language not in LANGUAGES:
            problems.append(f"{block.id}: unknown code block language {language!r} (use one of {sorted(LANGUAGES)})")
        for line, body_text in pending:
            problem = _apply_marker(block, body_text)
            if problem:
                problems.append(f"{rel}:L{line}: {problem}")
        pending = []
        blocks.append(block)
    if pending:
        problems.append(f"{rel}:L{pending[0][0]}: docs-test marker not directly above a code fence")
    return blocks, problems


def _apply_marker(block: Block, text: str) -> str | None:
    """Record one marker on ``block``; return a problem, or None."""
    word, _, rest = text.partition(" ")
    if word == "skip":
        reason = rest.strip()
        if not (reason.startswith("(") and reason.endswith(")") and len(reason) > 2):
            return "docs-test skip needs a reason in parentheses: <!-- docs-test: skip (reason) -->"
        block.skip = reason[1:-1]
        return None
    if word == "replace":
        try:
            parts = shlex.split(rest)
        except ValueError as error:
            return f"docs-test replace: {error}"
        if len(parts) != 2 or not parts[0]:
            return 'docs-test replace takes two quoted strings: <!-- docs-test: replace "OLD" "NEW" -->'
        block.replacements.append((parts[0], parts[1]))
        return None
    return f'unknown docs-test marker {text!r} (known: skip (reason), replace "OLD" "NEW")'


def _all_blocks() -> tuple[list[Block], list[str]]:
    blocks, problems = [], []
    for page in PAGES:
        found, wrong = parse(page)
        blocks += found
        problems += wrong
    return blocks, problems


BLOCKS, MARKER_PROBLEMS = _all_blocks()


def shell_commands(block: Block, code: str) -> tuple[list[list], list[str]]:
    """``[display, kind, target, args]`` per runnable line of a shell block, and the programs not run."""
    commands, not_run = [], []
    logical, current = [], ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    for line in logical:
        line = line.strip()
        if block.language == "console":
            if not line.startswith("$ "):
                continue  # output
            line = line[2:]
        elif line.startswith("$ "):
            line = line[2:]
        tokens = shlex.split(line, comments=True)
        if not tokens:
            continue
        operators = SHELL_OPERATORS.intersection(tokens)
        if operators:
            raise AssertionError(
                f"{block.id}: keep one plain command per line (found {' '.join(sorted(operators))}): {line}"
            )
        program, args = tokens[0], tokens[1:]
        if program == "auction-env":
            commands.append([line, "module", "auction_env", _repository_paths(args)])
        elif program in PYTHONS:
            if args[:1] == ["-m"]:
                module, rest = args[1], args[2:]
                if module in NEVER_RUN_MODULES:
                    not_run.append(f"python -m {module}")
                    continue
                commands.append([line, "module", module, _repository_paths(rest)])
            else:
                script = ROOT / args[0]
                assert script.is_file(), f"{block.id}: {args[0]} does not exist"
                commands.append([line, "script", str(script), _repository_paths(args[1:])])
        elif program in NEVER_RUN:
            not_run.append(program)
        else:
            raise AssertionError(
                f"{block.id}: the test does not know the program {program!r}; run it through auction-env or python, "
                f"or add it to NEVER_RUN in tests/test_docs.py with the reason: {line}"
            )
    return commands, not_run


def _repository_paths(args: list[str]) -> list[str]:
    """Arguments naming repository files (or globs over them) made absolute; ``--out`` values stay relative."""
    resolved = []
    for k, arg in enumerate(args):
        if (
            arg.startswith("-")
            or "/" not in arg
            or (k and args[k - 1] == "--out")
            or arg.split("/")[0] in OUTPUT_FOLDERS
        ):
            resolved.append(arg)
        elif any(ch in arg for ch in "*?["):
            matches = sorted(str(p) for p in ROOT.glob(arg))
            resolved.extend(matches or [arg])
        elif (ROOT / arg).exists():
            resolved.append(str(ROOT / arg))
        else:
            resolved.append(arg)
    return resolved


#: Runs ``[display, kind, target, args]`` commands in order in this one interpreter; stops at the first failure.
DRIVER = r"""
import json, os, runpy, sys
threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
for display, kind, target, args in json.loads(sys.argv[1]):
    print(f"$ {display}", flush=True)
    if "torch" in sys.modules:  # a command may have raised torch's thread count (train uses all cores)
        sys.modules["torch"].set_num_threads(threads)
    saved_path = list(sys.path)
    try:
        if kind == "module":
            sys.argv = [target, *args]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [target, *args]
            sys.path.insert(0, os.path.dirname(target))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exit:
        if exit.code not in (None, 0):
            print(f"docs-test: exit status {exit.code!r} from: {display}", file=sys.stderr, flush=True)
            sys.exit(exit.code if isinstance(exit.code, int) else 1)
    finally:
        sys.path[:] = saved_path
"""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    # one thread each: the blocks' workloads are tiny, and the suite may share the machine
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", TQDM_DISABLE="1")
    return env


def _run(argv: list[str], cwd: Path, block: Block) -> None:
    result = subprocess.run(argv, cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=TIMEOUT)
    if result.returncode != 0:
        pytest.fail(
            f"{block.id} ({block.language}) exited {result.returncode}\n--- stdout ---\n{result.stdout[-4000:]}"
            f"\n--- stderr ---\n{result.stderr[-6000:]}",
            pytrace=False,
        )


def _params() -> list:
    params, seen = [], set()
    for block in BLOCKS:
        if block.language in OUTPUT_LANGUAGES or block.language not in LANGUAGES:
            continue
        key = (block.language, block.code, tuple(block.replacements))
        if key in seen:
            continue
        seen.add(key)
        marks = [pytest.mark.skip(reason=block.skip)] if block.skip else []
        params.append(pytest.param(block, id=block.id, marks=marks))
    return params


def test_markers_are_well_formed() -> None:
    """Every docs-test marker parses and sits right above a fence; every block has a known language."""
    assert not MARKER_PROBLEMS, "\n".join(MARKER_PROBLEMS)


@pytest.mark.parametrize("block", _params())
def test_code_block_runs(block: Block, tmp_path: Path) -> None:
    """The block runs to completion (with its marker's substitutions) and every command exits 0."""
    code = block.runnable_code()
    if block.language == "python":
        path = tmp_path / "block.py"
        path.write_text(code, encoding="utf-8")
        _run([sys.executable, str(path)], tmp_path, block)
    elif block.language == "yaml":
        path = tmp_path / "scenario.yaml"
        path.write_text(code, encoding="utf-8")
        commands = [["auction-env validate scenario.yaml", "module", "auction_env", ["validate", str(path)]]]
        _run([sys.executable, "-c", DRIVER, json.dumps(commands)], tmp_path, block)
    else:
        commands, not_run = shell_commands(block, code)
        if not commands:
            reasons = "; ".join(
                f"{p}: {NEVER_RUN.get(p) or NEVER_RUN_MODULES.get(p.split()[-1])}" for p in dict.fromkeys(not_run)
            )
            pytest.skip(f"only commands that are never run ({reasons})")
        _run([sys.executable, "-c", DRIVER, json.dumps(commands)], tmp_path, block)


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _prose(page: Path) -> str:
    """The page without fenced blocks and inline code, where links are not links."""
    text, inside, kept = page.read_text(encoding="utf-8"), None, []
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence and (inside is None or line.strip().startswith(inside)):
            inside = None if inside else fence.group(1)
            continue
        if inside is None:
            kept.append(re.sub(r"(`+).*?\1", "", line))
    return "\n".join(kept)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown page."""
    anchors = set()
    for line in _prose(page).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            anchors.add(re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-"))
    return anchors


def test_every_docs_page_is_linked_from_the_readme() -> None:
    """The README's table of contents reaches every page in docs/."""
    linked = {(ROOT / target.split("#")[0]).resolve() for target in LINK.findall(_prose(ROOT / "README.md"))}
    unlinked = [p.relative_to(ROOT).as_posix() for p in PAGES[1:] if p.resolve() not in linked]
    assert not unlinked, f"not linked from README.md: {unlinked}"


def test_relative_links_resolve() -> None:
    """Every relative link or image in the README and docs/ names an existing file (and heading)."""
    broken = []
    for page in PAGES:
        for target in LINK.findall(_prose(page)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT).as_posix()}: {target}"
            if not file.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{where} (no heading #{anchor})")
    assert not broken, "\n".join(broken)
