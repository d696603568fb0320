"""Writes brotli and gzip copies beside the vendored runtime's files, once, at set-up.

``python -m server_stub.precompress [--verbose] DIR`` (the Makefile's vendor target runs it
on static/vendor). Each file of 1 KiB or more gets `NAME.br` and `NAME.gz` beside it, and a
copy is kept only when it is at least 5 % smaller; server_stub/compression.py picks one per
request. Brotli comes from Node's zlib (quality 11), which the set-up already needs for npm,
so no Python package is added for it; gzip from Python's (level 9).
"""

import argparse
import gzip
import json
import os
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from server_stub.compression import CODINGS

MIN_SIZE = 1024  # a smaller file fits in one packet either way: a copy saves no round trip
MIN_SAVING = 0.05
# Formats that are compressed inside: skipped without trying. Measured on Pyodide's
# python_stdlib.zip, whose entries are deflated: brotli saved 2.3 %, gzip 1.7 %, for 4 s of
# brotli at set-up.
COMPRESSED_FORMATS = frozenset({".zip", ".whl", ".gz", ".br", ".png", ".jpg", ".webp", ".woff2"})

# Node's asynchronous brotli runs on its thread pool, so the files are compressed in
# parallel. Each copy is written under a temporary name first: a server running meanwhile
# never sends half a file.
_BROTLI_SCRIPT = """
const fs = require("node:fs/promises");
const zlib = require("node:zlib");
const { promisify } = require("node:util");
const brotli = promisify(zlib.brotliCompress);
const {
  BROTLI_PARAM_QUALITY: QUALITY, BROTLI_MAX_QUALITY, BROTLI_PARAM_SIZE_HINT: SIZE_HINT,
} = zlib.constants;

async function compress(file) {
  const data = await fs.readFile(file);
  const params = { [QUALITY]: BROTLI_MAX_QUALITY, [SIZE_HINT]: data.length };
  await fs.writeFile(file + ".br.tmp", await brotli(data, { params }));
  await fs.rename(file + ".br.tmp", file + ".br");
}

const files = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
Promise.all(files.map(compress)).catch((error) => {
  console.error(error);
  process.exit(1);
});
"""


def candidates(folder: Path) -> list[Path]:
    """The files under `folder` worth compressing: large enough, not compressed already."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and path.suffix.lower() not in COMPRESSED_FORMATS
        and path.stat().st_size >= MIN_SIZE
    )


def write_gzip(path: Path) -> None:
    """Write `path`.gz; no name or time in its header, so the same file gives the same copy."""
    copy = Path(f"{path}.gz")
    temporary = Path(f"{copy}.tmp")
    temporary.write_bytes(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
    temporary.replace(copy)


def precompress(files: Sequence[Path]) -> None:
    """Write both copies of every file: brotli in one Node process while Python gzips."""
    brotli = subprocess.Popen(["node", "-e", _BROTLI_SCRIPT], stdin=subprocess.PIPE, text=True)
    assert brotli.stdin is not None
    with brotli.stdin:
        brotli.stdin.write(json.dumps([str(path) for path in files]))
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(write_gzip, files))
    if brotli.wait() != 0:
        raise SystemExit(f"brotli compression failed (node exited with {brotli.returncode})")
    for path in files:
        for _, suffix in CODINGS:
            _drop_if_not_worth_it(path, Path(f"{path}{suffix}"))


def _drop_if_not_worth_it(original: Path, copy: Path) -> None:
    if copy.stat().st_size > original.stat().st_size * (1 - MIN_SAVING):
        copy.unlink()


def report(files: Iterable[Path], folder: Path) -> list[str]:
    """One line a file: its size as is, then each copy kept (a dash where none is)."""
    lines = []
    for path in files:
        sizes = [str(path.stat().st_size)]
        for _, suffix in CODINGS:
            copy = Path(f"{path}{suffix}")
            sizes.append(str(copy.stat().st_size) if copy.exists() else "-")
        lines.append(f"{path.relative_to(folder)}\t" + "\t".join(sizes))
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Compress the files under the folder given on the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m server_stub.precompress",
        description="Write NAME.br and NAME.gz beside each file under DIR worth compressing.",
    )
    parser.add_argument("folder", type=Path, metavar="DIR")
    parser.add_argument(
        "--verbose", action="store_true", help="print each file's size as is, .br and .gz"
    )
    args = parser.parse_args(argv)
    files = candidates(args.folder)
    precompress(files)
    if args.verbose:
        print("file\tidentity\t" + "\t".join(suffix for _, suffix in CODINGS))
        print("\n".join(report(files, args.folder)))
    kept = sum(Path(f"{path}{suffix}").exists() for path in files for _, suffix in CODINGS)
    print(f"precompressed {args.folder}: {kept} copies of {len(files)} files")


if __name__ == "__main__":
    main()
