#!/usr/bin/env python3
"""A local stand-in for a Slack incoming webhook, for `make demo` and scripts/e2e.sh.

The real Slack is unreachable from these machines. This server accepts exactly what Slack's
incoming webhooks accept (POST, JSON body with `text` and `blocks`; also an interaction's
response_url, whose body says `replace_original`), answers `200 ok` as Slack does,
appends each raw message to <dir>/slack.jsonl and prints it roughly as the channel would show it to
<dir>/slack.txt. Usage: slack-sink.py PORT DIR
"""
import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, directory = int(sys.argv[1]), sys.argv[2]


def plain(text):
    text = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)  # date tokens: their fallback text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render(message):
    lines = []
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind == "header":
            lines.append("\033[1m" + plain(block["text"]["text"]) + "\033[0m")
        elif kind == "section" and "fields" in block:
            lines.append("   ".join(plain(f["text"]).replace("*", "").replace("\n", ": ") for f in block["fields"]))
        elif kind == "section":
            lines.extend(plain(block["text"]["text"]).splitlines())
        elif kind == "context":
            lines.extend(plain(e.get("text", "")) for e in block.get("elements", []))
        elif kind == "actions":
            lines.append("  ".join("[ " + e["text"]["text"] + " ]" for e in block.get("elements", [])))
    if not lines:
        lines.append(plain(message.get("text", "")))
    stamp = time.strftime("%H:%M:%S")
    if message.get("replace_original"):
        stamp += " · replaces the clicked message"
    width = min(100, max(len(re.sub(r"\033\[[0-9;]*m", "", l)) for l in lines) + 2)
    return "\n".join([f"┌─ #team-channel · {stamp} " + "─" * max(0, width - 24)] + ["│ " + l for l in lines] + ["└" + "─" * (width + 1)]) + "\n"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            message = json.loads(body)
        except ValueError:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"invalid_payload")
            return
        with open(f"{directory}/slack.jsonl", "a") as raw:
            raw.write(json.dumps(message) + "\n")
        with open(f"{directory}/slack.txt", "a") as shown:
            shown.write(render(message))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):  # readiness for the scripts
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
