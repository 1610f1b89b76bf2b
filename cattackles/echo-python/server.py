"""The reference cattackle in Python: tools `echo`, `ping` and `joke` on the official MCP SDK.

Runs on the SDK 2.x (stdio, Streamable HTTP) and 1.x (also WebSocket, which 2.x removed).
Every tool answers one text block holding {"data": "<string>", "error": "<string>" | null}.
Logs go to stderr only: over stdio, stdout is the protocol.

    python server.py --transport stdio|http|websocket [--host 127.0.0.1] [--port 8000]

The network transports serve at /mcp.
"""

import argparse
import json
import logging
import sys
import time

try:  # SDK 2.x
    from mcp.server.mcpserver import MCPServer as Server

    SDK_MAJOR = 2
except ImportError:  # SDK 1.x
    from mcp.server.fastmcp import FastMCP as Server

    SDK_MAJOR = 1

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

ECHO_USAGE = (
    "Please provide some text to echo. Usage: /echo_echo <your text> or send messages first then use /echo_echo"
)
JOKE_USAGE = (
    "Please provide some text to create a joke about. "
    "Usage: /echo_joke <your topic> or send a message first then use /echo_joke"
)
JOKES = [
    "Why did the {} cross the road? To get to the other side of the standup.",
    "I told my cat a joke about {}. It knocked it off the table.",
    "{} walks into a bar. The bartender says: we don't serve your kind here, only JSON.",
    "My therapist says I talk about {} too much. I said that's a retryable error.",
    "There are 10 kinds of people: those who understand {}, and those who time out.",
]

server = Server("echo-python")


def answer(data: str = "", error: str | None = None) -> str:
    return json.dumps({"data": data, "error": error})


@server.tool(description="Echoes the text, or the accumulated messages joined with '; '.")
def echo(text: str = "", accumulated_params: list[str] | None = None, extra: dict | None = None) -> str:
    if accumulated_params:
        return answer("; ".join(accumulated_params))
    if text.strip():
        return answer(text)
    return answer(ECHO_USAGE)


@server.tool(description="Answers pong, saying which parameters it received.")
def ping(text: str = "", accumulated_params: list[str] | None = None, extra: dict | None = None) -> str:
    if accumulated_params:
        return answer(f"pong (received {len(accumulated_params)} accumulated params)")
    if text.strip():
        return answer(f"pong (received immediate param: '{text}')")
    return answer("pong")


@server.tool(description="Tells a short joke about the text (built-in list, no network).")
def joke(text: str = "", accumulated_params: list[str] | None = None, extra: dict | None = None) -> str:
    topic = (accumulated_params[0].strip() if accumulated_params else "") or text.strip()
    if not topic:
        return answer("", JOKE_USAGE)
    pick = 0
    for byte in topic.encode():
        pick = (pick * 31 + byte) % (1 << 64)
    return answer(JOKES[pick % len(JOKES)].replace("{}", topic))


@server.tool(description="Works for the seconds given in the text (at most 60), blocking: a busy cattackle.")
def busy(text: str = "", accumulated_params: list[str] | None = None, extra: dict | None = None) -> str:
    try:
        seconds = min(max(float(text.strip() or 0), 0.0), 60.0)
    except ValueError:
        return answer("", f"busy: not a number of seconds: {text!r}")
    time.sleep(seconds)  # on purpose: the event loop stops reading stdin, as a busy server does
    return answer(f"worked {seconds:g}s")


def serve_websocket(host: str, port: int) -> None:
    if SDK_MAJOR != 1:
        sys.exit("the WebSocket transport needs the SDK 1.x (pip install 'mcp[ws]<2')")
    import uvicorn
    from mcp.server.websocket import websocket_server
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute

    lowlevel = server._mcp_server

    async def endpoint(websocket) -> None:
        async with websocket_server(websocket.scope, websocket.receive, websocket.send) as (read, write):
            await lowlevel.run(read, write, lowlevel.create_initialization_options())

    app = Starlette(routes=[WebSocketRoute("/mcp", endpoint)])
    uvicorn.run(app, host=host, port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=["stdio", "http", "websocket"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run("stdio")
    elif args.transport == "websocket":
        serve_websocket(args.host, args.port)
    elif SDK_MAJOR == 2:
        server.run("streamable-http", host=args.host, port=args.port, streamable_http_path="/mcp")
    else:
        server.settings.host = args.host
        server.settings.port = args.port
        server.run("streamable-http")


if __name__ == "__main__":
    main()
