"""The real `openai` and `anthropic` clients' view of streamed answers whose
shapes the scripted upstreams do not make (tests/stream_envelope.rs).

    python stream_envelope_client.py RAILYARD_BASE UPSTREAM_BASE

Each case is an answer the Rust test registered on its replaying upstream
(the prompt `REPLAY:<name>` picks it). A case is asked through railyard
and, where the test compares, of the upstream directly. Prints one JSON
object: per case, what the client assembled.
"""
import json
import sys

import anthropic
import openai

rail, up = sys.argv[1], sys.argv[2]


def oai(base):
    return openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0, timeout=30)


def claude(base):
    return anthropic.Anthropic(base_url=base, api_key="sk-test", max_retries=0, timeout=30)


def chat_final(base, name):
    with oai(base).chat.completions.stream(
        model="gpt-test", messages=[{"role": "user", "content": f"REPLAY:{name}"}]
    ) as s:
        final = s.get_final_completion()
    return final.choices[0].message.model_dump(exclude_none=True, exclude={"parsed"})


def messages_final(base, name):
    with claude(base).messages.stream(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": f"REPLAY:{name}"}]
    ) as s:
        final = s.get_final_message()
    return [b.model_dump(exclude_none=True) for b in final.content]


def messages_unstreamed(base, name):
    m = claude(base).messages.create(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": f"REPLAY:{name}"}]
    )
    return [b.model_dump(exclude_none=True) for b in m.content]


out = {}
for name in ["chat_name_split", "chat_annotations"]:
    out[name] = {"rail": chat_final(rail, name), "direct": chat_final(up, name)}
for name in ["chat_name_email", "chat_annotations_card"]:
    out[name] = {"rail": chat_final(rail, name)}
out["server_tool"] = {
    "rail": messages_final(rail, "server_tool"),
    "direct": messages_final(up, "server_tool"),
    "unstreamed": messages_unstreamed(rail, "server_tool"),
}
out["server_tool_card"] = {
    "rail": messages_final(rail, "server_tool_card"),
    "unstreamed": messages_unstreamed(rail, "server_tool_card"),
}
out["citations"] = {
    "rail": messages_final(rail, "citations"),
    "direct": messages_final(up, "citations"),
    "unstreamed": messages_unstreamed(rail, "citations"),
}
out["citations_card"] = {
    "rail": messages_final(rail, "citations_card"),
    "unstreamed": messages_unstreamed(rail, "citations_card"),
}
print(json.dumps(out))
