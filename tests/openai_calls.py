"""Calls through the real `openai` Python client, one per line of a JSON
list on standard input, and what the client saw of each.

    python openai_calls.py BASE_URL < calls.json

Each call is `{"key", "model", "content", "stream"?, "max_tokens"?}`; each
result is `{"ok": true, "content"}` or `{"ok": false, "raised", "status",
"code", "message", "headers"}` (the exception class the client raised, and
the `retry-after` and `x-ratelimit-*` headers of the answer). The Rust tests assert
on the list printed.
"""
import json
import sys

import openai

base = sys.argv[1]
results = []
for call in json.load(sys.stdin):
    client = openai.OpenAI(base_url=base, api_key=call["key"], max_retries=0, timeout=60)
    try:
        kwargs = dict(model=call["model"], messages=[{"role": "user", "content": call["content"]}])
        if "max_tokens" in call:
            kwargs["max_tokens"] = call["max_tokens"]
        if call.get("stream"):
            text = "".join(
                c.choices[0].delta.content or ""
                for c in client.chat.completions.create(stream=True, **kwargs)
                if c.choices
            )
        else:
            text = client.chat.completions.create(**kwargs).choices[0].message.content
        results.append({"ok": True, "content": text})
    except openai.APIStatusError as e:
        headers = {
            k: v for k, v in e.response.headers.items() if k == "retry-after" or k.startswith("x-ratelimit-")
        }
        results.append(
            {
                "ok": False,
                "raised": type(e).__name__,
                "status": e.status_code,
                "code": e.code,
                "message": e.message,
                "headers": headers,
            }
        )
print(json.dumps(results))
