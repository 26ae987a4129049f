"""Issue 19: every answer a real client asks for twice is served from cache.

The mock upstream runs in its realistic mode (`--realistic`): events written in several TCP
writes with multi-byte characters split between them, keep-alive comment lines, and a pause
before the chunked body's terminating chunk, as the real APIs send it. The OpenAI SDK hangs up
as soon as it read `data: [DONE]`, before that terminating chunk: the stream must be stored
anyway. Each shape is asked twice through the SDK; the second ask is a HIT, costs zero upstream
calls and parses to the same result as the first.
"""
import uuid

import openai
import pytest

from conftest import BUILD, ManagedProcess, mock_stats

CHAT_TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
RESPONSES_TOOLS = [{
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]


@pytest.fixture(scope="module")
def realistic_mock():
    process = ManagedProcess([BUILD / "reprise-mock-upstream", "--port", "0", "--realistic", "--end-delay-ms", "300"])
    yield process
    process.stop()


@pytest.fixture(scope="module")
def realistic_reprise(realistic_mock):
    process = ManagedProcess([BUILD / "reprise", "--listen", "127.0.0.1:0", "--upstream", realistic_mock.url])
    yield process
    process.stop()


@pytest.fixture
def client(realistic_reprise):
    # A tenant of its own per test: earlier tests' entries cannot interfere.
    return openai.OpenAI(base_url=realistic_reprise.url + "/v1", api_key=f"sk-{uuid.uuid4()}", max_retries=0, timeout=30)


class UpstreamCalls:
    """Counts the upstream calls a block of asks made."""

    def __init__(self, mock):
        self.mock = mock
        self.start = mock_stats(mock)["requests"]

    @property
    def made(self):
        return mock_stats(self.mock)["requests"] - self.start


def prompt(topic="caching"):
    return f"Explain {topic}, variant {uuid.uuid4()}"


# --- chat completions -------------------------------------------------------------------------

def chat_json(client, msgs, model="deepseek-chat", **extra):
    raw = client.chat.completions.with_raw_response.create(model=model, messages=msgs, **extra)
    return raw.headers.get("x-cache"), raw.parse()


def chat_stream(client, msgs, model="deepseek-chat", **extra):
    raw = client.chat.completions.with_raw_response.create(model=model, messages=msgs, stream=True, **extra)
    return raw.headers.get("x-cache"), list(raw.parse())


def assembled(chunks):
    """What a stream says, in the form a JSON answer says it."""
    text, reasoning, finish, usage, calls = "", "", None, None, {}
    for chunk in chunks:
        if chunk.usage:
            usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reasoning += getattr(choice.delta, "reasoning_content", None) or ""
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": None, "name": None, "arguments": ""})
                entry["id"] = call.id or entry["id"]
                if call.function:
                    entry["name"] = call.function.name or entry["name"]
                    entry["arguments"] += call.function.arguments or ""
    return {"text": text, "reasoning": reasoning, "finish": finish, "usage": usage, "tool_calls": [calls[i] for i in sorted(calls)]}


def said(completion):
    choice = completion.choices[0]
    message = choice.message
    return {
        "text": message.content or "",
        "reasoning": getattr(message, "reasoning_content", None) or "",
        "finish": choice.finish_reason,
        "usage": completion.usage.model_dump() if completion.usage else None,
        "tool_calls": [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments} for c in message.tool_calls or []],
    }


def test_chat_json(client, realistic_mock):
    msgs = [{"role": "user", "content": prompt("caf\u00e9 caching")}]
    calls = UpstreamCalls(realistic_mock)
    status, live = chat_json(client, msgs)
    assert status == "MISS"
    status, cached = chat_json(client, msgs)
    assert status == "HIT"
    assert cached.model_dump() == live.model_dump()
    assert calls.made == 1


@pytest.mark.parametrize("shape", [
    {},
    {"stream_options": {"include_usage": True}},
    {"tools": CHAT_TOOLS},
    {"model": "deepseek-reasoner"},
    {"model": "deepseek-reasoner", "stream_options": {"include_usage": True}},
], ids=["plain", "include_usage", "tool_call", "reasoning", "reasoning_usage"])
def test_chat_stream_asked_twice(client, realistic_mock, shape):
    msgs = [{"role": "user", "content": prompt("\u65e5\u672c\u8a9e streams")}]
    calls = UpstreamCalls(realistic_mock)
    status, live = chat_stream(client, msgs, **shape)
    assert status == "MISS"
    status, cached = chat_stream(client, msgs, **shape)
    assert status == "HIT"
    assert [c.model_dump() for c in cached] == [c.model_dump() for c in live]
    assert calls.made == 1
    if "tools" in shape:
        assert assembled(live)["tool_calls"][0]["name"] == "get_weather"
    if shape.get("model") == "deepseek-reasoner":
        assert assembled(live)["reasoning"]
    if "stream_options" in shape:
        assert assembled(live)["usage"] is not None


@pytest.mark.parametrize("shape", [{}, {"tools": CHAT_TOOLS}, {"model": "deepseek-reasoner"}], ids=["plain", "tool_call", "reasoning"])
def test_chat_stream_then_json(client, realistic_mock, shape):
    msgs = [{"role": "user", "content": prompt("cross shapes \U0001F600")}]
    calls = UpstreamCalls(realistic_mock)
    status, live = chat_stream(client, msgs, stream_options={"include_usage": True}, **shape)
    assert status == "MISS"
    status, cached = chat_json(client, msgs, **shape)
    assert status == "HIT"
    assert said(cached) == assembled(live)
    assert calls.made == 1


@pytest.mark.parametrize("shape", [{}, {"tools": CHAT_TOOLS}, {"model": "deepseek-reasoner"}], ids=["plain", "tool_call", "reasoning"])
def test_chat_json_then_stream(client, realistic_mock, shape):
    msgs = [{"role": "user", "content": prompt("the other way")}]
    calls = UpstreamCalls(realistic_mock)
    status, live = chat_json(client, msgs, **shape)
    assert status == "MISS"
    status, cached = chat_stream(client, msgs, stream_options={"include_usage": True}, **shape)
    assert status == "HIT"
    replayed = assembled(cached)
    assert replayed == said(live)
    assert calls.made == 1


def test_chat_stream_helper_on_a_replayed_answer(client, realistic_mock):
    msgs = [{"role": "user", "content": prompt("helpers")}]
    calls = UpstreamCalls(realistic_mock)
    status, live = chat_stream(client, msgs)
    assert status == "MISS"
    with client.chat.completions.stream(model="deepseek-chat", messages=msgs) as stream:
        texts = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(texts) == assembled(live)["text"] == final.choices[0].message.content
    assert final.choices[0].finish_reason == "stop"
    assert calls.made == 1


def test_completions_and_embeddings(client, realistic_mock):
    text = prompt("legacy completions")
    calls = UpstreamCalls(realistic_mock)
    asks = [client.completions.with_raw_response.create(model="deepseek-chat", prompt=text, max_tokens=16) for _ in range(2)]
    assert [raw.headers.get("x-cache") for raw in asks] == ["MISS", "HIT"]
    first = asks[0].parse()
    assert asks[1].parse().model_dump() == first.model_dump()
    streamed = client.completions.with_raw_response.create(model="deepseek-chat", prompt=text, max_tokens=16, stream=True)
    assert streamed.headers.get("x-cache") == "HIT"
    assert "".join(c.choices[0].text for c in streamed.parse() if c.choices) == first.choices[0].text
    embeddings = [client.embeddings.with_raw_response.create(model="text-embedding-3-small", input=text) for _ in range(2)]
    assert [raw.headers.get("x-cache") for raw in embeddings] == ["MISS", "HIT"]
    assert embeddings[1].parse().data[0].embedding == embeddings[0].parse().data[0].embedding
    assert calls.made == 2


# --- the Responses API ------------------------------------------------------------------------

def responses_json(client, **request):
    raw = client.responses.with_raw_response.create(model="gpt-4o-mini", **request)
    return raw.headers.get("x-cache"), raw.parse()


def responses_stream(client, **request):
    raw = client.responses.with_raw_response.create(model="gpt-4o-mini", stream=True, **request)
    return raw.headers.get("x-cache"), list(raw.parse())


def final_response(events):
    terminal = [e for e in events if e.type in ("response.completed", "response.incomplete")]
    assert len(terminal) == 1 and events[-1] is terminal[0]
    return terminal[0].response


@pytest.mark.parametrize("shape", [{}, {"tools": RESPONSES_TOOLS}, {"instructions": "Be brief."}], ids=["text", "function_call", "instructions"])
def test_responses_json_asked_twice(client, realistic_mock, shape):
    request = {"input": prompt("responses \u00e9t\u00e9"), **shape}
    calls = UpstreamCalls(realistic_mock)
    status, live = responses_json(client, **request)
    assert status == "MISS"
    status, cached = responses_json(client, **request)
    assert status == "HIT"
    assert cached.model_dump() == live.model_dump()
    assert calls.made == 1


@pytest.mark.parametrize("shape", [{}, {"tools": RESPONSES_TOOLS}], ids=["text", "function_call"])
def test_responses_stream_asked_twice(client, realistic_mock, shape):
    request = {"input": prompt("responses streams \u65e5\u672c"), **shape}
    calls = UpstreamCalls(realistic_mock)
    status, live = responses_stream(client, **request)
    assert status == "MISS"
    status, cached = responses_stream(client, **request)
    assert status == "HIT"
    assert [e.model_dump() for e in cached] == [e.model_dump() for e in live]
    assert calls.made == 1


@pytest.mark.parametrize("shape", [{}, {"tools": RESPONSES_TOOLS}], ids=["text", "function_call"])
def test_responses_stream_then_json(client, realistic_mock, shape):
    request = {"input": prompt("recorded stream, JSON ask"), **shape}
    calls = UpstreamCalls(realistic_mock)
    status, live = responses_stream(client, **request)
    assert status == "MISS"
    status, cached = responses_json(client, **request)
    assert status == "HIT"
    assert cached.model_dump() == final_response(live).model_dump()
    assert cached.output_text == final_response(live).output_text
    assert calls.made == 1


@pytest.mark.parametrize("shape", [{}, {"tools": RESPONSES_TOOLS}], ids=["text", "function_call"])
def test_responses_json_then_stream_and_helper(client, realistic_mock, shape):
    request = {"input": prompt("stored JSON, streamed ask"), **shape}
    calls = UpstreamCalls(realistic_mock)
    status, live = responses_json(client, **request)
    assert status == "MISS"
    status, cached = responses_stream(client, **request)
    assert status == "HIT"
    assert final_response(cached).model_dump() == live.model_dump()
    deltas = "".join(e.delta for e in cached if e.type == "response.output_text.delta")
    assert deltas == live.output_text
    with client.responses.stream(model="gpt-4o-mini", **request) as stream:
        streamed_text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert streamed_text == live.output_text
    assert final.output_text == live.output_text
    assert [item.type for item in final.output] == [item.type for item in live.output]
    assert calls.made == 1


def test_responses_are_never_shared_between_credentials(realistic_reprise, realistic_mock):
    request = {"input": prompt("tenancy")}
    first = openai.OpenAI(base_url=realistic_reprise.url + "/v1", api_key=f"sk-{uuid.uuid4()}", max_retries=0)
    second = openai.OpenAI(base_url=realistic_reprise.url + "/v1", api_key=f"sk-{uuid.uuid4()}", max_retries=0)
    assert responses_json(first, **request)[0] == "MISS"
    assert responses_json(second, **request)[0] == "MISS"
    assert responses_json(first, **request)[0] == "HIT"


def test_requests_on_mutable_server_state_pass_through(client, realistic_mock):
    calls = UpstreamCalls(realistic_mock)
    for _ in range(2):
        status, _answer = responses_json(client, input=prompt("conversation"), conversation="conv_123")
        assert status == "BYPASS"
    assert calls.made == 2


# --- model lists ------------------------------------------------------------------------------

def test_model_list_and_model_are_served_from_cache(client, realistic_mock):
    calls = UpstreamCalls(realistic_mock)
    lists = [client.models.with_raw_response.list() for _ in range(2)]
    assert [raw.headers.get("x-cache") for raw in lists] == ["MISS", "HIT"]
    models = [m.id for m in lists[1].parse()]
    assert models == [m.id for m in lists[0].parse()] and models
    one = [client.models.with_raw_response.retrieve(models[0]) for _ in range(2)]
    assert [raw.headers.get("x-cache") for raw in one] == ["MISS", "HIT"]
    assert one[1].parse().id == models[0]
    assert calls.made == 2
