"""The four replay shapes of a cached answer, parsed by the real OpenAI Python SDK exactly like
a live answer (issue 3): JSON->JSON, stream->stream, JSON entry->stream request, stream
entry->JSON request. Each test uses its own prompt (its own cache key)."""
import uuid

import openai
import pytest

from conftest import mock_stats

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}]


@pytest.fixture
def client(reprise):
    # A tenant of its own per test, so earlier tests' entries cannot interfere.
    return openai.OpenAI(base_url=reprise.url + "/v1", api_key=f"sk-{uuid.uuid4()}", max_retries=0, timeout=30)


def messages():
    return [{"role": "user", "content": f"Explain caching, variant {uuid.uuid4()}"}]


def stream_chunks(client, msgs, **extra):
    raw = client.chat.completions.with_raw_response.create(
        model="deepseek-chat", messages=msgs, stream=True, stream_options={"include_usage": True}, **extra
    )
    return raw.headers.get("x-cache"), list(raw.parse())


def json_answer(client, msgs, **extra):
    raw = client.chat.completions.with_raw_response.create(model="deepseek-chat", messages=msgs, **extra)
    return raw.headers.get("x-cache"), raw.parse()


def stream_text(chunks):
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def stream_tool_calls(chunks):
    calls = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": None, "name": None, "arguments": ""})
                if call.id:
                    entry["id"] = call.id
                if call.function and call.function.name:
                    entry["name"] = call.function.name
                if call.function and call.function.arguments:
                    entry["arguments"] += call.function.arguments
    return [calls[i] for i in sorted(calls)]


def test_json_to_json(client, mock_upstream):
    msgs = messages()
    before = mock_stats(mock_upstream)["requests"]
    status, live = json_answer(client, msgs)
    assert status == "MISS"
    status, cached = json_answer(client, msgs)
    assert status == "HIT"
    assert cached.model_dump() == live.model_dump()
    assert mock_stats(mock_upstream)["requests"] == before + 1


def test_stream_to_stream(client, mock_upstream):
    msgs = messages()
    before = mock_stats(mock_upstream)["requests"]
    status, live = stream_chunks(client, msgs)
    assert status == "MISS"
    status, cached = stream_chunks(client, msgs)
    assert status == "HIT"
    assert [c.model_dump() for c in cached] == [c.model_dump() for c in live]
    assert cached[-1].usage is not None
    assert mock_stats(mock_upstream)["requests"] == before + 1


def test_json_entry_answers_a_stream_request(client, mock_upstream):
    msgs = messages()
    before = mock_stats(mock_upstream)["requests"]
    _, live = json_answer(client, msgs)
    status, chunks = stream_chunks(client, msgs)
    assert status == "HIT"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert stream_text(chunks) == live.choices[0].message.content
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == [live.choices[0].finish_reason]
    assert chunks[-1].usage.total_tokens == live.usage.total_tokens
    assert {c.id for c in chunks} == {live.id}
    assert mock_stats(mock_upstream)["requests"] == before + 1


def test_stream_entry_answers_a_json_request(client, mock_upstream):
    msgs = messages()
    before = mock_stats(mock_upstream)["requests"]
    _, chunks = stream_chunks(client, msgs)
    status, answer = json_answer(client, msgs)
    assert status == "HIT"
    assert answer.object == "chat.completion"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == stream_text(chunks)
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage.total_tokens == chunks[-1].usage.total_tokens
    assert answer.id == chunks[0].id
    assert mock_stats(mock_upstream)["requests"] == before + 1


def test_tool_calls_survive_both_conversions(client, mock_upstream):
    streamed_first = messages()
    _, chunks = stream_chunks(client, streamed_first, tools=TOOLS)
    status, answer = json_answer(client, streamed_first, tools=TOOLS)
    assert status == "HIT"
    live_calls = stream_tool_calls(chunks)
    assert live_calls and live_calls[0]["name"] == "get_weather"
    calls = answer.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        (c["id"], c["name"], c["arguments"]) for c in live_calls
    ]
    assert answer.choices[0].finish_reason == "tool_calls"

    json_first = messages()
    _, live = json_answer(client, json_first, tools=TOOLS)
    status, chunks = stream_chunks(client, json_first, tools=TOOLS)
    assert status == "HIT"
    rebuilt = stream_tool_calls(chunks)
    assert [(c["id"], c["name"], c["arguments"]) for c in rebuilt] == [
        (c.id, c.function.name, c.function.arguments) for c in live.choices[0].message.tool_calls
    ]


def test_stream_without_usage_gets_no_usage_chunk_from_an_entry_that_has_one(client):
    msgs = messages()
    stream_chunks(client, msgs)  # recorded with include_usage
    raw = client.chat.completions.with_raw_response.create(model="deepseek-chat", messages=msgs, stream=True)
    assert raw.headers.get("x-cache") == "HIT"
    chunks = list(raw.parse())
    assert all(c.choices for c in chunks), "a usage-only chunk (empty choices) was replayed to a client that did not ask"
