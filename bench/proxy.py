"""A delay line on loopback: every byte crosses it `delay` seconds late, in each direction,
and, with a rate, no faster than a link of that many bits a second.

Browsers connect here instead of to the server, so every tab of every contestant sees the
same round trip (2 x delay). Chromium's own network emulation is per tab and per request,
which distorts runs with two tabs; a TCP delay line does not.

With `--rate-mbit`, each direction is one link shared by every connection: bytes leave one
piece (PIECE bytes) at a time, each once the link has sent the one before, whichever
connection it belongs to, so connections share the link as TCP flows roughly do. A piece
arrives `delay` after its last byte left. What this leaves out: TCP's slow start and loss.

    python -m bench.proxy --port 8100 --upstream 127.0.0.1:8000 [--delay-ms 50] [--rate-mbit 10]
"""

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

CHUNK = 64 * 1024
PIECE = 4 * 1024  # 3.3 ms at 10 Mbit/s: fine enough to interleave connections


class Link:
    """One direction of a link of limited rate: bytes leave one after another, in turn."""

    def __init__(self, bytes_per_second: float) -> None:
        self.bytes_per_second = bytes_per_second
        self.free_at = 0.0  # when the link has sent everything given to it so far

    def send(self, size: int, now: float) -> tuple[float, float]:
        """When `size` bytes handed over at `now` start to leave, and when the last has left."""
        start = max(now, self.free_at)
        self.free_at = start + size / self.bytes_per_second
        return start, self.free_at


async def _read_into(
    reader: asyncio.StreamReader, line: asyncio.Queue, delay: float, link: Link | None
) -> None:
    """Stamp each chunk read with the time it arrives; an empty chunk marks the end.

    On a link, a chunk goes piece by piece, and reading waits until each piece starts to
    leave: the sender then waits for the link as it would behind a slow one (its socket
    fills), and the link never idles while a connection has bytes for it.
    """
    loop = asyncio.get_running_loop()
    try:
        while chunk := await reader.read(CHUNK):
            if link is None:
                line.put_nowait((loop.time() + delay, chunk))
                continue
            for offset in range(0, len(chunk), PIECE):
                piece = chunk[offset : offset + PIECE]
                start, sent = link.send(len(piece), loop.time())
                line.put_nowait((sent + delay, piece))
                if (wait := start - loop.time()) > 0:
                    await asyncio.sleep(wait)
    except (ConnectionError, OSError):
        pass
    finally:
        done = max(loop.time(), link.free_at if link else 0.0)
        line.put_nowait((done + delay, b""))


async def _write_from(line: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
    """Write each chunk once its time has come, in order; half-close after the last."""
    loop = asyncio.get_running_loop()
    while True:
        due, chunk = await line.get()
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        if not chunk:
            if writer.can_write_eof():
                with contextlib.suppress(OSError):
                    writer.write_eof()
            return
        writer.write(chunk)
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            return


async def _one_way(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, link: Link | None
):
    line: asyncio.Queue = asyncio.Queue()
    reading = asyncio.create_task(_read_into(reader, line, delay, link))
    try:
        await _write_from(line, writer)
    finally:
        reading.cancel()


class DelayLine:
    """Accepts connections and joins each to a new upstream connection through two delays.

    With a rate (bytes a second), every connection shares one link each way.
    """

    def __init__(
        self, upstream_host: str, upstream_port: int, delay: float, rate: float | None = None
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.delay = delay
        self.up = Link(rate) if rate else None
        self.down = Link(rate) if rate else None

    async def handle(self, client_reader, client_writer) -> None:
        """Carry one client connection both ways until both sides have finished."""
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                _one_way(client_reader, upstream_writer, self.delay, self.up),
                _one_way(upstream_reader, client_writer, self.delay, self.down),
            )
        finally:
            for writer in (client_writer, upstream_writer):
                writer.close()


async def serve(
    port: int, upstream: str, delay: float, rate_mbit: float = 0, host: str = "127.0.0.1"
) -> None:
    """Listen on host:port until cancelled; a `rate_mbit` of 0 sets no rate."""
    upstream_host, _, upstream_port = upstream.rpartition(":")
    rate = rate_mbit * 1e6 / 8 if rate_mbit else None
    line = DelayLine(upstream_host or "127.0.0.1", int(upstream_port), delay, rate)
    server = await asyncio.start_server(line.handle, host, port)
    limit = f", {rate_mbit:g} Mbit/s each way" if rate else ", no rate limit"
    print(
        f"delay line on {host}:{port} -> {upstream}, {delay * 1000:g} ms each way{limit}",
        flush=True,
    )
    async with server:
        await server.serve_forever()


def launch(
    port: int, upstream_port: int, delay_ms: float, log: Path, *options: str
) -> subprocess.Popen[bytes]:
    """Start a delay line on `port` of loopback in front of `upstream_port`, in a process of
    its own; return once it listens. `options` go to it as they are (--rate-mbit 10)."""
    process = subprocess.Popen(
        [
            sys.executable,
            *("-m", "bench.proxy", "--port", str(port)),
            *("--upstream", f"127.0.0.1:{upstream_port}", "--delay-ms", str(delay_ms)),
            *options,
        ],
        cwd=Path(__file__).resolve().parents[1],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port)
    return process


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Return once something listens on `port` of loopback (a delay line just started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the delay line did not listen on port {port}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the delay line from the command line until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the real server")
    parser.add_argument(
        "--delay-ms", type=float, default=50.0, help="delay each way (default: %(default)s)"
    )
    parser.add_argument(
        "--rate-mbit", type=float, default=0, help="link rate each way, Mbit/s (default: none)"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.upstream, args.delay_ms / 1000, args.rate_mbit))


if __name__ == "__main__":
    main()
