"""Regenerate (or check) the command outputs shown in README.md, so they cannot drift from the code.

    python scripts/readme_samples.py            # rewrite the sample blocks in README.md
    python scripts/readme_samples.py --check    # exit 1 with a diff when a block differs

A sample block is a fenced block right after a marker comment (invisible on GitHub)::

    <!-- readme-sample [{"run": "juanji explain size 8 3 --stride 2", "lines": ":9,-2:"}] -->

one entry per command shown in the block, with:

- ``run``: the command (``juanji ...``), run in process in a scratch directory;
- ``lines`` (optional): which output lines to show, Python slices joined by commas (``":9,-2:"``
  = the first 9 and the last 2; ``""`` = none); every cut is marked by a line ``...``;
- ``show`` (optional): the command as printed after ``$ `` when it differs from ``run`` (a
  comment, a ``\\`` line break, ``| tail -3``);
- ``dots`` (optional, default true): false leaves the cuts unmarked (``| tail -3`` shows them);
- ``gap`` (optional): an empty line before this command.

The scratch directory holds ``examples/seven.png`` and the model of the README's first command,
``juanji train`` (the default digits model, trained with ``JUANJI_NUM_THREADS=1``, which juanji
makes bit for bit reproducible for a given machine), in ``runs/digits-digits``. Output is
captured at the width a pipe gets (160 columns), stdout and stderr in the order they are
printed. The scratch directory's path is removed and timings are ignored by ``--check``; numbers
percentages to 3 points and other decimals to 15 % (see ``TOLERANCE``: the last bits of
training differ between CPUs), the rest exactly.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- readme-sample (\[.*\]) -->$")
MODEL = "runs/digits-digits/"  # where `juanji train` puts the default model
TIMING = re.compile(r"\b\d+(?:\.\d+)? ?(?:s|ms)\b|[\d,]+ img/s")


def _pin_environment() -> None:
    """One thread (results identical on every machine) and English, before juanji is imported."""
    os.environ["JUANJI_NUM_THREADS"] = "1"
    for key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        os.environ.pop(key, None)
    os.environ["LC_ALL"] = "C.UTF-8"
    sys.path.insert(0, str(ROOT / "src"))


def parse_lines(spec: str, n: int) -> list[tuple[int, int]]:
    """``":9,-2:"`` over ``n`` lines -> ``[(0, 9), (n - 2, n)]`` (sorted, merged).

    >>> parse_lines(":9,-2:", 20), parse_lines("", 5), parse_lines("3:", 5)
    ([(0, 9), (18, 20)], [], [(3, 5)])
    """
    ranges = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if ":" not in part:
            raise ValueError(f"`lines` entries must be slices such as ':9' or '-2:', got {part!r}")
        start, _, stop = part.partition(":")
        ranges.append(range(n)[slice(int(start) if start else None, int(stop) if stop else None)])
    kept = sorted({i for r in ranges for i in r})
    merged: list[tuple[int, int]] = []
    for i in kept:
        if merged and merged[-1][1] == i:
            merged[-1] = (merged[-1][0], i + 1)
        else:
            merged.append((i, i + 1))
    return merged


def select(lines: list[str], spec: str | None, dots: bool) -> list[str]:
    """The lines ``spec`` keeps, with ``...`` where lines were cut (when ``dots``)."""
    if spec is None:
        return lines
    out, pos = [], 0
    for start, stop in parse_lines(spec, len(lines)):
        if start > pos and dots:
            out.append("...")
        out.extend(lines[start:stop])
        pos = stop
    if pos < len(lines) and dots and out:
        out.append("...")
    return out


def run_command(command: str) -> list[str]:
    """``juanji ARGS`` run in process; stdout and stderr together, as lines."""
    from juanji import cli

    argv = shlex.split(command)
    if argv[:1] != ["juanji"]:
        raise ValueError(f"a sample must run `juanji ...`, got {command!r}")
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            code = cli.main(argv[1:])
        except SystemExit as e:
            code = e.code
    if code not in (0, None):
        raise RuntimeError(f"`{command}` exited with {code}:\n{buffer.getvalue()}")
    # rich pads lines to the console's width; the README does not keep trailing spaces
    return [line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n")]


def render(entries: list[dict]) -> list[str]:
    block = []
    for entry in entries:
        if entry.get("gap"):
            block.append("")
        block.extend(f"$ {line}" if i == 0 else line
                     for i, line in enumerate(entry.get("show", entry["run"]).split("\n")))
        block.extend(select(run_command(entry["run"]), entry.get("lines"),
                            entry.get("dots", True)))
    return block


def prepare(scratch: Path, text: str) -> None:
    """examples/seven.png and, when a sample uses it, the README's `juanji train` model in
    ``scratch``."""
    (scratch / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "seven.png", scratch / "examples" / "seven.png")
    if not any(MARKER.match(line) and MODEL in line for line in text.split("\n")):
        return
    from juanji import cli
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["train", "--no-progress"])  # -> runs/digits-digits
    if code != 0:
        raise RuntimeError(f"`juanji train` exited with {code}")


def regenerate(text: str, scratch: Path) -> str:
    """README text with every sample block rebuilt from the commands' output."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        out.append(lines[i])
        match = MARKER.match(lines[i])
        i += 1
        if not match:
            continue
        entries = json.loads(match[1])
        if i >= len(lines) or not lines[i].startswith("```"):
            raise ValueError(f"README line {i}: a readme-sample marker must be followed by a "
                             f"fenced block")
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"README line {i + 1}: the fenced block is not closed")
        out.append(lines[i])
        out.extend(line.replace(str(scratch) + "/", "") for line in render(entries))
        out.append(lines[end])
        i = end + 1
    return "\n".join(out)


def normalise(text: str) -> str:
    """Timings vary from run to run; nothing else may."""
    return TIMING.sub("<time>", text)


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _skeleton_and_numbers(text: str) -> tuple[str, list[str]]:
    """The text with every number replaced by ``#`` (runs of spaces and of table rules collapsed,
    since a number one digit longer widens its column) and the numbers in order."""
    text = normalise(text)
    skeleton = re.sub(r"[ \t]+", " ", NUMBER.sub("#", text))
    return re.sub(r"([─━═-])\1+", r"\1", skeleton), NUMBER.findall(text)


def _close(a: str, b: str) -> bool:
    if a.endswith("%") or b.endswith("%"):  # a probability or an accuracy: within 3 points
        return a.endswith("%") and b.endswith("%") and abs(_value(a) - _value(b)) <= 3.0
    if "." not in a + b and "e" not in a + b:  # counts, labels, indices, sizes: exact
        return a == b
    x, y = _value(a), _value(b)
    return abs(x - y) <= max(TOLERANCE * max(abs(x), abs(y)), 1e-3)


def _value(text: str) -> float:
    return float(text.rstrip("%").replace(",", ""))


# A trained model's numbers move in their last digits with the BLAS kernel a CPU picks (AVX2 or
# AVX-512 summation orders differ in the last bit, and training carries that on), so a check on
# another machine compares percentages to 3 points and other decimals to 15 %; integers (counts,
# labels, indices, sizes), the words, the commands and the columns must match exactly. The
# README's old drift (a saliency of 0.816 where the code printed 1.988) is far outside that.
TOLERANCE = 0.15


def samples_match(written: str, printed: str) -> bool:
    """Whether the README's samples say what the code prints (see `TOLERANCE`)."""
    (s1, n1), (s2, n2) = _skeleton_and_numbers(written), _skeleton_and_numbers(printed)
    return s1 == s2 and len(n1) == len(n2) and all(_close(a, b) for a, b in zip(n1, n2))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 with a diff when a sample differs")
    parser.add_argument("--readme", type=Path, default=README, help="default: README.md")
    args = parser.parse_args(argv)
    _pin_environment()
    text = args.readme.read_text(encoding="utf-8")
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="juanji-readme-") as tmp:
        scratch = Path(tmp).resolve()
        os.chdir(scratch)
        try:
            prepare(scratch, text)
            new = regenerate(text, scratch)
        finally:
            os.chdir(home)
    if args.check:
        if samples_match(text, new):
            print(f"{args.readme}: every sample matches what the code prints")
            return 0
        diff = difflib.unified_diff(text.split("\n"), new.split("\n"), "README.md (as written)",
                                    "README.md (as the code prints it)", lineterm="")
        print("\n".join(diff))
        print(f"\n{args.readme}: samples differ from the code; run python "
              f"scripts/readme_samples.py to rewrite them", file=sys.stderr)
        return 1
    if new != text:
        tmp_path = args.readme.with_suffix(".md.tmp")
        tmp_path.write_text(new, encoding="utf-8")
        os.replace(tmp_path, args.readme)  # atomically: a reader sees the old or the new file
        print(f"rewrote the samples in {args.readme}")
    else:
        print(f"{args.readme}: already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
