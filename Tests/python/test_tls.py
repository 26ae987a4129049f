"""The real OpenAI Python SDK talking HTTPS to Reprise (TLS terminated by Reprise's OpenSSL),
with a throwaway PKI made by the `openssl` CLI at test time and trusted through httpx2's `verify` (the HTTP client of the SDK 3.x)."""
import re
import ssl
import subprocess
import time
import uuid

import httpx2
import openai
import pytest

from conftest import BUILD, ManagedProcess, mock_stats

HTTPS_LISTENING = re.compile(r"listening on https://\S+:(\d+)")


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a server certificate for localhost/127.0.0.1 (ECDSA P-256, two days)."""
    directory = tmp_path_factory.mktemp("tls-pki")
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", directory / "ca.key", "-out", directory / "ca.pem",
             "-days", "2", "-subj", "/CN=Reprise Python Test CA")
    _openssl("req", *ec, "-keyout", directory / "server.key", "-out", directory / "server.csr", "-subj", "/CN=localhost")
    _openssl("x509", "-req", "-in", directory / "server.csr", "-CA", directory / "ca.pem", "-CAkey", directory / "ca.key",
             "-set_serial", "0x1001", "-days", "2", "-out", directory / "server.pem", "-extfile", directory / "server.ext")
    return directory


@pytest.fixture(scope="module")
def tls_upstream():
    process = ManagedProcess([BUILD / "reprise-mock-upstream", "--port", "0", "--chunk-delay-ms", "0"])
    yield process
    process.stop()


@pytest.fixture(scope="module")
def tls_reprise(pki, tls_upstream, tmp_path_factory):
    """Reprise with its plain listener and an HTTPS one; yields the HTTPS base URL."""
    config = tmp_path_factory.mktemp("tls-config") / "reprise.yaml"
    config.write_text(
        "server:\n  tls:\n    listen: 127.0.0.1:0\n"
        f"    certificate: {pki / 'server.pem'}\n    private_key: {pki / 'server.key'}\n"
    )
    process = ManagedProcess(
        [BUILD / "reprise", "--config", config, "--listen", "127.0.0.1:0", "--upstream", tls_upstream.url]
    )
    deadline = time.monotonic() + 60
    port = None
    while port is None and time.monotonic() < deadline:
        for line in list(process.output):
            match = HTTPS_LISTENING.search(line)
            if match:
                port = int(match.group(1))
        if port is None:
            time.sleep(0.05)
    if port is None:
        process.stop()
        raise RuntimeError("reprise printed no https listening line: " + "".join(process.output))
    yield f"https://127.0.0.1:{port}"
    process.stop()


@pytest.fixture
def client(tls_reprise, pki):
    http_client = httpx2.Client(verify=ssl.create_default_context(cafile=str(pki / "ca.pem")), timeout=30)
    yield openai.OpenAI(base_url=tls_reprise + "/v1", api_key="sk-test-tls", max_retries=0, http_client=http_client)
    http_client.close()


def fresh_messages():
    return [{"role": "user", "content": f"Say something deterministic about TLS ({uuid.uuid4()})."}]


def test_chat_completion_over_https_then_a_cache_hit(client, tls_upstream):
    messages = fresh_messages()
    before = mock_stats(tls_upstream)["requests"]
    first = client.chat.completions.with_raw_response.create(model="deepseek-chat", messages=messages)
    assert first.headers.get("x-cache") == "MISS"
    answer = first.parse()
    assert answer.choices[0].message.content
    assert answer.usage.total_tokens > 0
    again = client.chat.completions.with_raw_response.create(model="deepseek-chat", messages=messages)
    assert again.headers.get("x-cache") == "HIT"
    assert again.parse().model_dump() == answer.model_dump()
    assert mock_stats(tls_upstream)["requests"] == before + 1


def test_streamed_chat_completion_over_https(client):
    messages = fresh_messages()

    def collect():
        return list(client.chat.completions.create(
            model="deepseek-chat", messages=messages, stream=True, stream_options={"include_usage": True}))

    live = collect()
    text = "".join(c.choices[0].delta.content or "" for c in live if c.choices)
    assert text
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in live)
    assert live[-1].usage is not None
    replayed = collect()
    assert [c.model_dump() for c in replayed] == [c.model_dump() for c in live]


def test_an_untrusted_certificate_is_refused_by_the_sdk(tls_reprise):
    """Without the test CA the SDK's default verification must fail: TLS is really checked."""
    http_client = httpx2.Client(timeout=30)
    sdk = openai.OpenAI(base_url=tls_reprise + "/v1", api_key="sk-test-tls", max_retries=0, http_client=http_client)
    with pytest.raises(openai.APIConnectionError):
        sdk.chat.completions.create(model="deepseek-chat", messages=fresh_messages())
    http_client.close()


@pytest.fixture(scope="module")
def https_upstream_reprise(pki, tls_reprise, tmp_path_factory):
    """A second Reprise whose upstream is `https://` (the first Reprise's TLS listener, whose
    certificate the private CA signed, trusted through `upstream.ca_file`): the production path,
    through Reprise's own OpenSSL client."""
    config = tmp_path_factory.mktemp("https-upstream-config") / "reprise.yaml"
    config.write_text(f"upstream:\n  ca_file: {pki / 'ca.pem'}\n")
    port = tls_reprise.rsplit(":", 1)[1]
    process = ManagedProcess(
        [BUILD / "reprise", "--config", config, "--listen", "127.0.0.1:0", "--upstream", f"https://localhost:{port}"]
    )
    yield process
    process.stop()


def test_the_sdk_through_an_https_upstream_json_stream_and_responses(https_upstream_reprise, tls_upstream):
    sdk = openai.OpenAI(base_url=https_upstream_reprise.url + "/v1", api_key=f"sk-{uuid.uuid4()}", max_retries=0, timeout=30)
    before = mock_stats(tls_upstream)["requests"]
    messages = fresh_messages()
    answers = [sdk.chat.completions.with_raw_response.create(model="deepseek-chat", messages=messages) for _ in range(2)]
    assert [raw.headers.get("x-cache") for raw in answers] == ["MISS", "HIT"]
    assert answers[1].parse().model_dump() == answers[0].parse().model_dump()
    stream_messages = fresh_messages()
    streams = []
    for _ in range(2):
        raw = sdk.chat.completions.with_raw_response.create(model="deepseek-chat", messages=stream_messages, stream=True)
        streams.append((raw.headers.get("x-cache"), [c.model_dump() for c in raw.parse()]))
    assert [status for status, _ in streams] == ["MISS", "HIT"]
    assert streams[1][1] == streams[0][1] and streams[0][1]
    with sdk.responses.stream(model="gpt-4o-mini", input=f"TLS responses {uuid.uuid4()}") as stream:
        final = stream.get_final_response()
    assert final.output_text
    # Three upstream calls, each through the TLS front to the mock.
    assert mock_stats(tls_upstream)["requests"] == before + 3
