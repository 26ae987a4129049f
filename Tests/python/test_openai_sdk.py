"""The real OpenAI Python SDK talking to the mock upstream through Reprise (pass-through of
first-time questions: each test asks its own question, so the cache answers none of them)."""
import uuid

import openai
import pytest

from conftest import mock_stats


@pytest.fixture
def client(reprise):
    return openai.OpenAI(base_url=reprise.url + "/v1", api_key="sk-test-e2e", max_retries=0, timeout=30)


@pytest.fixture
def direct(mock_upstream):
    return openai.OpenAI(base_url=mock_upstream.url + "/v1", api_key="sk-test-e2e", max_retries=0, timeout=30)


def fresh_messages():
    return [{"role": "user", "content": f"Say something deterministic about caching ({uuid.uuid4()})."}]


def test_chat_completion_matches_the_upstream(client, direct):
    MESSAGES = fresh_messages()
    via_proxy = client.chat.completions.create(model="deepseek-chat", messages=MESSAGES)
    straight = direct.chat.completions.create(model="deepseek-chat", messages=MESSAGES)
    assert via_proxy.model_dump() == straight.model_dump()
    assert via_proxy.choices[0].message.content
    assert via_proxy.usage.total_tokens > 0


def test_streamed_chat_completion_matches_the_upstream(client, direct):
    MESSAGES = fresh_messages()
    def collect(sdk):
        chunks = list(
            sdk.chat.completions.create(
                model="deepseek-chat", messages=MESSAGES, stream=True,
                stream_options={"include_usage": True},
            )
        )
        return chunks

    via_proxy = collect(client)
    straight = collect(direct)
    assert [c.model_dump() for c in via_proxy] == [c.model_dump() for c in straight]
    text = "".join(c.choices[0].delta.content or "" for c in via_proxy if c.choices)
    assert text
    assert via_proxy[-1].usage is not None
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in via_proxy)


def test_raw_response_headers_carry_the_cache_status(client):
    raw = client.chat.completions.with_raw_response.create(model="deepseek-chat", messages=fresh_messages())
    assert raw.headers.get("x-cache") == "MISS"
    assert raw.parse().choices[0].message.content


def test_upstream_errors_reach_the_sdk_as_api_errors(client, mock_upstream):
    MESSAGES = fresh_messages()
    before = mock_stats(mock_upstream)["requests"]
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="deepseek-chat", messages=MESSAGES,
            # Longer than upstream.retry.max_retry_after: Reprise passes the 429 on, no retry.
            extra_headers={"X-Mock-Status": "429", "X-Mock-Retry-After": "120"},
        )
    assert info.value.status_code == 429
    assert info.value.response.headers.get("retry-after") == "120"
    assert info.value.response.headers.get("x-reprise-attempts") == "1"
    assert mock_stats(mock_upstream)["requests"] == before + 1


def test_models_list_passes_through(client):
    models = client.models.list()
    assert len(models.data) > 0
