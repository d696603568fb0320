"""A delay line on loopback: every byte crosses it `delay` seconds late, in each direction.

Browsers connect here instead of to the server, so every tab of every contestant sees the
same round trip (2 x delay) without any bandwidth limit. Chromium's own network emulation
is per tab and per request, which distorts runs with two tabs; a TCP delay line does not.

    python bench/proxy.py --port 8100 --upstream 127.0.0.1:8000 [--delay-ms 50]
"""

import argparse
import asyncio
import contextlib
from collections.abc import Sequence

CHUNK = 64 * 1024


async def _read_into(reader: asyncio.StreamReader, line: asyncio.Queue, delay: float) -> None:
    """Stamp each chunk read with the time it may leave; an empty chunk marks the end."""
    loop = asyncio.get_running_loop()
    try:
        while chunk := await reader.read(CHUNK):
            line.put_nowait((loop.time() + delay, chunk))
    except (ConnectionError, OSError):
        pass
    finally:
        line.put_nowait((loop.time() + delay, b""))


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


async def _one_way(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float):
    line: asyncio.Queue = asyncio.Queue()
    reading = asyncio.create_task(_read_into(reader, line, delay))
    try:
        await _write_from(line, writer)
    finally:
        reading.cancel()


class DelayLine:
    """Accepts connections and joins each to a new upstream connection through two delays."""

    def __init__(self, upstream_host: str, upstream_port: int, delay: float) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.delay = delay

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
                _one_way(client_reader, upstream_writer, self.delay),
                _one_way(upstream_reader, client_writer, self.delay),
            )
        finally:
            for writer in (client_writer, upstream_writer):
                writer.close()


async def serve(port: int, upstream: str, delay: float, host: str = "127.0.0.1") -> None:
    """Listen on host:port until cancelled."""
    upstream_host, _, upstream_port = upstream.rpartition(":")
    line = DelayLine(upstream_host or "127.0.0.1", int(upstream_port), delay)
    server = await asyncio.start_server(line.handle, host, port)
    print(f"delay line on {host}:{port} -> {upstream}, {delay * 1000:g} ms each way", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the delay line from the command line until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the real server")
    parser.add_argument(
        "--delay-ms", type=float, default=50.0, help="delay each way (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.upstream, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
