"""``juanji data list|download``: which data sets juanji knows, what is on disk, and fetching them.

Examples::

    juanji data list                      # a table: images, download size, licence, found where
    juanji data list --json
    juanji data download cifar10          # into $JUANJI_DATA_DIR or ~/.cache/juanji, verified
    juanji data download mnist --data-dir ~/data

`add_parser(sub, common)` registers the command on the ``juanji`` parser (`juanji.cli`).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..data import cache
from ..data import download as dl
from ..data.registry import DATASETS
from ._common import UsageError, console


def add_parser(sub, common) -> None:
    """Add ``data`` with its ``list`` and ``download`` subcommands to the subparsers ``sub``."""
    p = sub.add_parser("data", parents=[common], help="list and download data sets",
                       description="List the data sets juanji reads and download the public "
                       "ones (MNIST, Fashion-MNIST, CIFAR-10) with SHA-256 verification.")
    actions = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    q = actions.add_parser("list", parents=[common], help="data sets, sizes, licences, presence",
                           description="Each data set with its image counts, download size, "
                           "licence and where it was found on this machine.")
    q.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="look here (and in DIR/<name>) instead of the usual places")
    q.add_argument("--json", action="store_true", help="print JSON only")
    q.set_defaults(func=cmd_list, parser=q)

    q = actions.add_parser("download", parents=[common], help="fetch and verify a data set",
                           description="Download a data set into the per-user data directory "
                           "($JUANJI_DATA_DIR if set, else $XDG_CACHE_HOME/juanji or "
                           "~/.cache/juanji), resuming partial files and checking SHA-256 "
                           f"digests. ${dl.MIRROR_ENV} replaces the servers with a mirror.")
    q.add_argument("name", choices=dl.DOWNLOADABLE, metavar="NAME",
                   help=f"one of {', '.join(dl.DOWNLOADABLE)}")
    q.add_argument("--data-dir", type=Path, metavar="DIR", help="download into DIR/<name>")
    q.add_argument("--no-progress", action="store_true", help="no progress bar")
    q.add_argument("--force", action="store_true",
                   help="download even when a copy is already on this machine elsewhere")
    q.set_defaults(func=cmd_download, parser=q)


def locate(name: str, data_dir=None) -> str | None:
    """Where the files of ``name`` were found (``"embedded"`` for digits), or None."""
    return DATASETS[name].where(data_dir)


def rows(data_dir=None) -> list[dict]:
    """One JSON-able dict per data set (what `juanji data list` shows)."""
    out = []
    for name, info in DATASETS.items():
        downloadable = name in dl.REMOTES
        out.append({
            "name": name, "title": info.title, "input_shape": list(info.input_shape),
            "num_classes": info.num_classes, "train_size": info.train_size,
            "test_size": info.test_size, "downloadable": downloadable,
            "download_bytes": dl.download_size(name) if downloadable else None,
            "license": info.license, "source": info.source,
            "present": locate(name, data_dir),
        })
    return out


def _how_to_get(row: dict) -> str:
    if row["present"] == "embedded":
        return "embedded"
    if row["downloadable"]:
        return f"download {row['download_bytes'] / 2**20:.1f} MiB"
    return DATASETS[row["name"]].how_to_get


def cmd_list(args) -> int:
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise UsageError(f"--data-dir {str(args.data_dir)!r} is not a directory")
    table_rows = rows(args.data_dir)
    if args.json:
        print(json.dumps(table_rows))
        return 0
    from rich.table import Table
    table = Table(title="juanji data sets",
                  caption="`juanji data download NAME` fetches the downloadable ones")
    for col in ("name", "images (train + test)", "shape", "classes", "get it", "licence",
                "present"):
        table.add_column(col, justify="right" if col in ("classes",) else "left")
    for r in table_rows:
        where = r["present"]
        table.add_row(r["name"], f"{r['train_size']:,} + {r['test_size']:,}",
                      "x".join(map(str, r["input_shape"])), str(r["num_classes"]),
                      _how_to_get(r), r["license"],
                      "[red]no[/red]" if where is None else
                      "[green]yes[/green] (embedded)" if where == "embedded" else
                      f"[green]yes[/green] {where}")
    console().print(table)
    return 0


def cmd_download(args) -> int:
    if args.data_dir is not None and args.data_dir.exists() and not args.data_dir.is_dir():
        raise UsageError(f"--data-dir {str(args.data_dir)!r} is not a directory")
    target = cache.download_dir(args.name, args.data_dir)
    found = locate(args.name, args.data_dir)
    if found is not None and not args.force and not _inside(Path(found), target):
        # Another copy (Debian's package, $JUANJI_DATA_DIR, ...) that `train` reads already.
        console().print(f"{args.name}: already on this machine in {found}; `juanji train "
                        f"--dataset {args.name}` reads it from there, so nothing was downloaded "
                        f"(--force downloads a copy into {target})", markup=False)
        return 0
    folder = dl.download(args.name, args.data_dir, progress=not args.no_progress)
    print(f"{args.name}: verified and ready in {folder}")
    return 0


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (then `download` verifies those files)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents
