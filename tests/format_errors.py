"""Bad input to /v1/responses and /v1/messages through the real clients.

Usage: format_errors.py BASE_URL (the server's root). Prints one JSON
object: per format and case, the exception the client raised, its status
and body.
"""
import json
import sys

import anthropic
import openai

base = sys.argv[1]
oai = openai.OpenAI(base_url=base + "/v1", api_key="sk-caller", max_retries=0)
ant = anthropic.Anthropic(base_url=base, api_key="sk-caller", max_retries=0)
JSON = {"Content-Type": "application/json"}
BIG = "x" * (80 * 1024)


def raised(module, fn):
    try:
        fn()
        return {"raised": None}
    except module.APIStatusError as e:
        return {"raised": type(e).__name__, "status": e.status_code, "body": e.body}


def o(fn):
    return raised(openai, fn)


def a(fn):
    return raised(anthropic, fn)


USER = [{"role": "user", "content": "hi"}]
out = {"responses": {
    "malformed": o(lambda: oai.post("/responses", cast_to=object, content=b'{"model": "gpt-fake", "input": ',
                                    options={"headers": JSON})),
    "not_object": o(lambda: oai.post("/responses", cast_to=object, body=["gpt-fake", "hi"])),
    "missing_model": o(lambda: oai.responses.create(input="hi")),
    "model_type": o(lambda: oai.responses.create(model=5, input="hi")),
    "input_type": o(lambda: oai.responses.create(model="gpt-fake", input=5)),
    "input_item": o(lambda: oai.responses.create(model="gpt-fake", input=["hello"])),
    "content_type": o(lambda: oai.responses.create(model="gpt-fake", input=[{"role": "user", "content": 7}])),
    "instructions_type": o(lambda: oai.responses.create(model="gpt-fake", input="hi", instructions=["x"])),
    "huge": o(lambda: oai.responses.create(model="gpt-fake", input=BIG)),
    "huge_streamed": o(lambda: list(oai.responses.create(model="gpt-fake", input=BIG, stream=True))),
}, "messages": {
    "malformed": a(lambda: ant.post("/v1/messages", cast_to=object, content=b'{"model": "claude-fake", ',
                                    options={"headers": JSON})),
    "not_object": a(lambda: ant.post("/v1/messages", cast_to=object, body=["claude-fake"])),
    "missing_model": a(lambda: ant.post("/v1/messages", cast_to=object, body={"max_tokens": 5, "messages": USER})),
    "model_type": a(lambda: ant.messages.create(model=5, max_tokens=5, messages=USER)),
    "max_tokens_type": a(lambda: ant.post("/v1/messages", cast_to=object,
                                          body={"model": "claude-fake", "max_tokens": "five", "messages": USER})),
    "messages_type": a(lambda: ant.messages.create(model="claude-fake", max_tokens=5, messages="hi")),
    "message_item": a(lambda: ant.messages.create(model="claude-fake", max_tokens=5, messages=["hi"])),
    "content_type": a(lambda: ant.messages.create(model="claude-fake", max_tokens=5,
                                                  messages=[{"role": "user", "content": 7}])),
    "huge": a(lambda: ant.messages.create(model="claude-fake", max_tokens=5,
                                          messages=[{"role": "user", "content": BIG}])),
    "huge_streamed": a(lambda: list(ant.messages.create(model="claude-fake", max_tokens=5, stream=True,
                                                        messages=[{"role": "user", "content": BIG}]))),
}}
print(json.dumps(out))
