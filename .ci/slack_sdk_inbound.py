"""Talks to a running `momentum serve` the way Slack does, with requests
signed by Slack's own SDK (slack_sdk.signature.SignatureVerifier): signed
requests are accepted; tampered, stale and oversized ones are refused with
a 4xx; an event delivered twice is answered 200 both times; malformed
payloads get a 4xx, never a 5xx."""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from slack_sdk.signature import SignatureVerifier

BASE, SECRET = sys.argv[1], sys.argv[2]
signer = SignatureVerifier(SECRET)
failures = []

# The service was just started: wait until it answers.
for _ in range(100):
    try:
        urllib.request.urlopen(BASE + "/healthz", timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)


def post(path, body, content_type, ts=None, sign_body=None):
    ts = str(int(time.time()) if ts is None else ts)
    signature = signer.generate_signature(timestamp=ts, body=sign_body if sign_body is not None else body)
    req = urllib.request.Request(
        BASE + path,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def expect(name, got, want):
    status = got[0]
    ok = want(status) if callable(want) else status == want
    print(f"{'ok ' if ok else 'BAD'} {name}: {status}")
    if not ok:
        failures.append(f"{name}: {got}")


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
challenge = {"type": "url_verification", "token": "x", "challenge": "c-123"}
got = post("/slack/events", json.dumps(challenge), JSON)
expect("url_verification signed by slack_sdk", got, 200)
if "c-123" not in got[1]:
    failures.append(f"challenge not echoed: {got}")
# slack_sdk's own verifier accepts what it signed (the reference for the check above).
ts = str(int(time.time()))
body = json.dumps(challenge)
assert signer.is_valid(body=body, timestamp=ts, signature=signer.generate_signature(timestamp=ts, body=body))

expect("tampered body", post("/slack/events", json.dumps(challenge), JSON, sign_body="{}"), 401)
expect("stale timestamp (6 minutes)", post("/slack/events", json.dumps(challenge), JSON, ts=int(time.time()) - 360), 401)
expect("future timestamp (6 minutes)", post("/slack/events", json.dumps(challenge), JSON, ts=int(time.time()) + 360), 401)
big = json.dumps({"type": "event_callback", "padding": "x" * (600 * 1024)})
expect("oversized body", post("/slack/events", big, JSON), lambda s: 400 <= s < 500)

event = {
    "type": "event_callback", "team_id": "T0CI", "api_app_id": "A0CI", "event_id": "Ev0CI1",
    "event_time": int(time.time()), "event": {"type": "app_home_opened", "user": "U0CI", "tab": "home"},
}
expect("event", post("/slack/events", json.dumps(event), JSON), 200)
expect("the same event again (Slack's retry)", post("/slack/events", json.dumps(event), JSON), 200)

command = urllib.parse.urlencode({"team_id": "T0CI", "user_id": "U0CI", "command": "/momentum", "text": "help"})
got = post("/slack/commands", command, FORM)
expect("slash command", got, 200)
if got[0] == 200 and "ephemeral" not in got[1]:
    failures.append(f"slash command reply is not ephemeral: {got}")

# A verified tap on a button this version does not know (an old message's
# after an upgrade): 200, so Slack shows no error icon.
unknown_button = {
    "type": "block_actions", "team": {"id": "T0CI", "domain": "ci"}, "api_app_id": "A0CI",
    "user": {"id": "U0CI", "team_id": "T0CI", "username": "ci", "name": "ci"},
    "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "D0CI", "is_ephemeral": False},
    "channel": {"id": "D0CI", "name": "directmessage"}, "trigger_id": "1.2.ci",
    "response_url": "https://hooks.slack.com/actions/T0CI/1/ci",
    "actions": [{"type": "button", "action_id": "from_a_newer_version", "block_id": "b1", "value": "7",
                 "action_ts": "1700000001.000200", "text": {"type": "plain_text", "text": "New"}}],
}
expect("a button this version does not know",
       post("/slack/interactions", "payload=" + urllib.parse.quote(json.dumps(unknown_button)), FORM), 200)

for name, path, body, ctype in [
    ("interaction without payload", "/slack/interactions", "x=1", FORM),
    ("interaction payload not JSON", "/slack/interactions", "payload=%7Bnope", FORM),
    ("interaction of unknown shape", "/slack/interactions", "payload=" + urllib.parse.quote('{"type":"block_actions"}'), FORM),
    ("event not JSON", "/slack/events", "{", JSON),
    ("event without type", "/slack/events", "{}", JSON),
    ("command without fields", "/slack/commands", "text=help", FORM),
    ("deeply nested event", "/slack/events", "[" * 5000 + "]" * 5000, JSON),
]:
    expect(name, post(path, body, ctype), lambda s: 400 <= s < 500)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("Slack inbound: slack_sdk-signed requests accepted, every bad one refused with a 4xx")
