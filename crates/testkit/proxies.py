#!/usr/bin/env python3
"""Proxies for flightdeck's tests, on 127.0.0.1, with the Python standard
library only:

  proxies.py connect LOG          an HTTP CONNECT proxy (as behind a bastion)
  proxies.py socks5 LOG           a SOCKS5 proxy (no authentication)
  proxies.py fault UPSTREAM CONTROL LOG
                                  an HTTP proxy in front of UPSTREAM (host:port)
                                  that injects the fault named in the file
                                  CONTROL: pass, reset, stall, 503, 429,
                                  garbage, truncated (lists cut short, watches
                                  sent to list again), silent (a watch that
                                  stays open and says nothing)

Each prints "listening on PORT" once it listens, and appends a line per
connection (or request) to LOG, so a test can assert the traffic went
through it.
"""

import asyncio
import json
import sys


def log(path, line):
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def tunnel(client_reader, client_writer, host, port):
    upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
    await asyncio.gather(
        pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer)
    )


async def read_head(reader):
    """The request line and headers of an HTTP/1.1 message."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return head, lines[0], headers


def connect_proxy(log_path):
    async def handle(reader, writer):
        try:
            _, request_line, _ = await read_head(reader)
            method, target, _ = request_line.split(" ", 2)
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            host, port = target.rsplit(":", 1)
            log(log_path, f"CONNECT {target}")
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await tunnel(reader, writer, host, int(port))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            writer.close()

    return handle


def socks5_proxy(log_path):
    async def handle(reader, writer):
        try:
            version, count = await reader.readexactly(2)
            await reader.readexactly(count)
            if version != 5:
                writer.close()
                return
            writer.write(b"\x05\x00")  # no authentication
            await writer.drain()
            _, command, _, kind = await reader.readexactly(4)
            if kind == 1:
                host = ".".join(str(b) for b in await reader.readexactly(4))
            elif kind == 3:
                length = (await reader.readexactly(1))[0]
                host = (await reader.readexactly(length)).decode()
            else:
                writer.close()
                return
            port = int.from_bytes(await reader.readexactly(2), "big")
            if command != 1:
                writer.write(b"\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00")
                writer.close()
                return
            log(log_path, f"SOCKS5 {host}:{port}")
            writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00")
            await writer.drain()
            await tunnel(reader, writer, host, port)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()

    return handle


def status_body(code, reason, message):
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
    ).encode()


def fault_proxy(upstream, control, log_path):
    up_host, up_port = upstream.rsplit(":", 1)

    def mode():
        try:
            with open(control, encoding="utf-8") as f:
                return f.read().strip() or "pass"
        except FileNotFoundError:
            return "pass"

    async def answer(writer, status, reason, body, extra=""):
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{extra}connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    async def handle(reader, writer):
        try:
            head, request_line, headers = await read_head(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        fault = mode()
        log(log_path, f"{fault} {request_line}")
        body = b""
        length = int(headers.get("content-length", "0") or 0)
        if length:
            body = await reader.readexactly(length)
        watch = "watch=true" in request_line or "watch=1" in request_line
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                import socket
                import struct

                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
            return
        if fault == "stall":
            await asyncio.sleep(3600)
            return
        if fault == "503":
            await answer(writer, 503, "Service Unavailable",
                         status_body(503, "ServiceUnavailable", "the server is currently unable to handle the request"))
            return
        if fault == "429":
            await answer(writer, 429, "Too Many Requests",
                         status_body(429, "TooManyRequests", "too many requests, please try again later"),
                         "retry-after: 1\r\n")
            return
        if fault == "garbage":
            await answer(writer, 200, "OK", b"<html><body>proxy error page</body></html>")
            return
        if fault == "truncated" and watch:
            # A watch that ends cut short tells a client nothing (it resumes);
            # a list cut short does. Make the client list again: its
            # resourceVersion is "gone", as after an etcd compaction.
            gone = json.dumps({"type": "ERROR", "object": json.loads(
                status_body(410, "Expired", "too old resource version"))}).encode() + b"\n"
            await answer(writer, 200, "OK", gone)
            return
        # pass, truncated, silent: forward to the upstream, one connection per request.
        try:
            up_reader, up_writer = await asyncio.open_connection(up_host, int(up_port))
        except ConnectionError:
            await answer(writer, 502, "Bad Gateway", status_body(502, "BadGateway", "upstream down"))
            return
        request = head.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1)
        request = request.replace(b"Connection: keep-alive\r\n", b"")
        up_writer.write(request + body)
        await up_writer.drain()
        try:
            response_head = await up_reader.readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            return
        response_head = response_head.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n", 1)
        writer.write(response_head)
        await writer.drain()
        if fault == "truncated":
            data = await up_reader.read(64)
            writer.write(data)
            await writer.drain()
            writer.close()
            up_writer.close()
            return
        if fault == "silent" and watch:
            # Headers, then nothing: a watch that goes quiet and stays open.
            await asyncio.sleep(3600)
            return
        await pipe(up_reader, writer)
        up_writer.close()

    return handle


async def main():
    kind = sys.argv[1]
    if kind == "connect":
        handler = connect_proxy(sys.argv[2])
    elif kind == "socks5":
        handler = socks5_proxy(sys.argv[2])
    elif kind == "fault":
        handler = fault_proxy(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown proxy {kind}")
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
