"""`juanji ... | head` ends quietly, as Unix tools do when their reader goes away."""

import os
import subprocess
import sys


def test_a_closed_pipe_ends_quietly(tmp_path):
    # The reader leaves before juanji has started (Python alone takes longer than `true`), so
    # the first write hits EPIPE whatever the pipe's buffer size.
    cmd = (f"{sys.executable} -m juanji summary lenet5 --json | true; "
           "echo \" rc=${PIPESTATUS[0]}\"")
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert r.stderr == ""  # no "error: [Errno 32] Broken pipe", no traceback
    assert r.stdout.startswith(" rc=")
    assert int(r.stdout.split("=")[1]) in (0, 141)


def test_main_reports_a_broken_pipe_as_141_without_a_message(monkeypatch, capsys):
    import juanji.cli as cli

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe")

    # Route `summary` to a command whose write fails, through the parser's defaults.
    real_build = cli.build_parser

    def build():
        p = real_build()
        sub = next(a for a in p._actions if a.dest == "command")
        sub.choices["summary"].set_defaults(func=broken)
        return p

    monkeypatch.setattr(cli, "build_parser", build)
    assert cli.main(["summary", "lenet5"]) == 141
    assert capsys.readouterr().err == ""
