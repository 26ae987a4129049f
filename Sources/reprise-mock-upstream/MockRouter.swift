import NIOCore
import NIOHTTP1

/// Turns one complete request into a `ResponsePlan`: control endpoints, fault injection, then
/// the OpenAI-compatible endpoints. Counting happens here, once per request, in arrival order.
struct MockRouter: Sendable {
    let defaults: MockDefaults
    let state: MockState

    private enum Endpoint: Equatable {
        case chatCompletions, completions, embeddings, responses, models
        /// `GET /v1/models/{id}`.
        case model(String)
    }

    func plan(head: HTTPRequestHead, body: ByteBuffer?, cache: inout AnswerCache) -> ResponsePlan {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first
            .map(String.init) ?? head.uri
        if path.hasPrefix("/_mock/") {
            return control(path: path, method: head.method, keepAlive: keepAlive)
        }
        state.record(
            .init(method: head.method.rawValue, uri: head.uri, headers: head.headers, bodyBytes: body?.readableBytes ?? 0,
                  body: body.map { String(decoding: $0.readableBytesView.prefix(MockState.recordedBodyLimit), as: UTF8.self) } ?? ""),
            path: path
        )

        var faults = MockFaults(headers: head.headers)
        if faults.status == nil { faults.status = defaults.status }
        var plan = ResponsePlan(body: .hang, keepAlive: keepAlive)
        plan.delayBeforeHead = .milliseconds(faults.latencyMilliseconds ?? defaults.latencyMilliseconds)
        plan.chunkDelay = .milliseconds(faults.chunkDelayMilliseconds ?? defaults.chunkDelayMilliseconds)
        plan.cutAfter = faults.cutAfter
        let realism = faults.realism(defaults: defaults.realism)
        if realism.splitWrites {
            plan.pauseBetweenWrites = .milliseconds(Realism.pauseBetweenSplitWrites)
        }
        plan.endDelay = .milliseconds(realism.endDelayMilliseconds)
        if faults.hang {
            return plan
        }
        if let raw = faults.rawResponse {
            plan.body = .whole(ByteBuffer(bytes: raw), bodyOffset: 0)
            plan.keepAlive = false
            return plan
        }
        if let injected = injectedFailure(faults) {
            plan.body = injected(keepAlive)
        } else {
            plan.body = answer(
                path: path,
                cache: &cache,
                method: head.method,
                body: body,
                chunks: faults.chunks ?? defaults.chunks,
                faults: faults,
                realism: realism,
                keepAlive: keepAlive
            )
            if faults.truncateChunk, let truncated = AnswerTampering.truncatedStream(plan.body) {
                plan.body = truncated.body
                plan.cutAfter = truncated.eventCount
            }
        }
        // An answer to HEAD has the GET's head and no body (RFC 9110 §9.3.2): a client reads
        // no body after it, so body bytes would be taken for the next answer.
        if head.method == .HEAD { plan.body = plan.body.headOnly }
        if faults.closeDelimited, let delimited = plan.body.closeDelimited {
            plan.body = delimited
            plan.keepAlive = false
        }
        return plan
    }

    private func endpoint(for path: String) -> Endpoint? {
        switch path {
        case "/v1/chat/completions", "/chat/completions": return .chatCompletions
        case "/v1/completions", "/completions": return .completions
        case "/v1/embeddings", "/embeddings": return .embeddings
        case "/v1/responses", "/responses": return .responses
        case "/v1/models", "/models": return .models
        default:
            for prefix in ["/v1/models/", "/models/"] where path.hasPrefix(prefix) && path.count > prefix.count {
                return .model(String(path.dropFirst(prefix.count)))
            }
            return nil
        }
    }

    private func answer(
        path: String,
        cache: inout AnswerCache,
        method: HTTPMethod,
        body: ByteBuffer?,
        chunks: Int,
        faults: MockFaults,
        realism: Realism,
        keepAlive: Bool
    ) -> ResponsePlan.Body {
        guard let endpoint = endpoint(for: path) else {
            return error(
                404,
                message: "Unknown request URL: \(method.rawValue) \(path). Please check the URL for typos.",
                type: "invalid_request_error",
                code: "unknown_url",
                keepAlive: keepAlive
            )
        }
        let expectedMethod: HTTPMethod
        switch endpoint {
        case .models, .model: expectedMethod = .GET
        case .chatCompletions, .completions, .embeddings, .responses: expectedMethod = .POST
        }
        guard method == expectedMethod else {
            return error(
                405,
                message: "Method \(method.rawValue) not allowed on \(path): use \(expectedMethod.rawValue).",
                type: "invalid_request_error",
                code: "method_not_allowed",
                keepAlive: keepAlive
            )
        }
        let catalogAnswer: (status: Int, json: String)?
        switch endpoint {
        case .models: catalogAnswer = (200, ModelCatalog.listJSON)
        case .model(let id) where ModelCatalog.ids.contains(id): catalogAnswer = (200, ModelCatalog.objectJSON(id))
        case .model(let id): catalogAnswer = (404, ModelCatalog.notFoundJSON(id))
        case .chatCompletions, .completions, .embeddings, .responses: catalogAnswer = nil
        }
        if let catalogAnswer {
            return ResponseBytes.whole(
                status: catalogAnswer.status,
                reason: HTTPResponseStatus(statusCode: catalogAnswer.status).reasonPhrase,
                json: catalogAnswer.json,
                extraHeaders: [("x-request-id", "req_models")],
                keepAlive: keepAlive
            )
        }

        let bytes = body.map { Array($0.readableBytesView) } ?? []
        let hash = FNV1a.hash(bytes)
        let cacheKey = AnswerCache.Key(
            bodyHash: hash,
            path: path,
            chunks: max(1, chunks),
            realism: realism,
            keepAlive: keepAlive
        )
        if !faults.altersAnswer, let cached = cache.lookup(cacheKey, body: bytes) {
            return cached
        }
        let request: JSONValue
        do {
            request = try JSONParser.parse(bytes)
        } catch {
            return self.error(
                400,
                message: "We could not parse the JSON body of your request (\(error)).",
                type: "invalid_request_error",
                code: "invalid_json",
                keepAlive: keepAlive
            )
        }
        guard let model = request["model"]?.stringValue, !model.isEmpty else {
            return error(
                400,
                message: "You must provide a model parameter.",
                type: "invalid_request_error",
                code: "missing_required_parameter",
                param: "model",
                keepAlive: keepAlive
            )
        }
        // A Responses answer is seeded without the stream switches, so the streamed and the
        // JSON answer to one question are the same answer (ids, text, usage).
        let seedBytes = endpoint == .responses ? Array(Self.withoutStreamSwitches(request).jsonText.utf8) : bytes
        let seed = AnswerSeed(
            hash: endpoint == .responses ? FNV1a.hash(seedBytes) : hash,
            bodyByteCount: seedBytes.count,
            request: request,
            model: model,
            chunks: max(1, chunks),
            usageOverride: faults.usageJSON,
            realistic: realism.realisticAnswers
        )
        let stream = request["stream"]?.boolValue ?? false
        var answer: AnswerBody
        switch endpoint {
        case .chatCompletions: answer = ChatCompletionAnswer.make(seed, stream: stream)
        case .completions: answer = TextCompletionAnswer.make(seed, stream: stream)
        case .responses: answer = ResponsesAnswer.make(seed, stream: stream)
        case .embeddings, .models, .model: answer = EmbeddingAnswer.make(seed)
        }
        if faults.errorBodyWith200 {
            answer = AnswerTampering.errorDocument(replacing: answer)
        }
        if let marker = faults.marker {
            answer = AnswerTampering.marked(answer, marker: marker)
        }
        var extraHeaders = [("x-request-id", "req_" + seed.idSuffix(salt: 0x4E9))]
        if let lineBreak = faults.headerLineBreak {
            extraHeaders.append(lineBreak.header)
        }
        if let bigHeaderBytes = faults.bigHeaderBytes {
            extraHeaders.append(("x-mock-big", String(repeating: "b", count: bigHeaderBytes)))
        }
        let encoded: ResponsePlan.Body
        switch answer {
        case .json(let json):
            encoded = ResponseBytes.whole(status: 200, reason: "OK", json: json, extraHeaders: extraHeaders, keepAlive: keepAlive)
        case .events(let events):
            encoded = ResponseBytes.stream(events: events, realism: realism, extraHeaders: extraHeaders, keepAlive: keepAlive)
        }
        if !faults.altersAnswer {
            cache.store(cacheKey, body: bytes, answer: encoded)
        }
        return encoded
    }

    /// `X-Mock-Status` (always, or only for the first `X-Mock-Fail-Times` requests of the
    /// `X-Mock-Scenario`); `nil` when this request should be answered normally.
    private func injectedFailure(_ faults: MockFaults) -> ((Bool) -> ResponsePlan.Body)? {
        let status: Int
        if let failTimes = faults.failTimes {
            guard state.shouldFail(scenario: faults.scenario ?? "", failTimes: failTimes) else { return nil }
            status = faults.status.flatMap { $0 >= 400 ? $0 : nil } ?? 500
        } else if let injected = faults.status, injected >= 400, injected <= 599 {
            status = injected
        } else {
            return nil
        }
        var headers: [(String, String)] = []
        if let retryAfter = faults.retryAfterSeconds ?? (status == 429 ? 1 : nil) {
            headers.append(("retry-after", String(retryAfter)))
        }
        let (type, code, message): (String, String, String)
        switch status {
        case 429: (type, code, message) = ("requests", "rate_limit_exceeded", "Rate limit reached (injected by X-Mock-Status).")
        case 500...: (type, code, message) = ("server_error", "server_error", "The server had an error while processing your request (injected).")
        default: (type, code, message) = ("invalid_request_error", "mock_injected_error", "Injected error status \(status).")
        }
        return { keepAlive in
            error(status, message: message, type: type, code: code, extraHeaders: headers, keepAlive: keepAlive)
        }
    }

    private func error(
        _ status: Int,
        message: String,
        type: String,
        code: String,
        param: String? = nil,
        extraHeaders: [(String, String)] = [],
        keepAlive: Bool
    ) -> ResponsePlan.Body {
        ResponseBytes.whole(
            status: status,
            reason: HTTPResponseStatus(statusCode: status).reasonPhrase,
            json: OpenAIError.json(message: message, type: type, code: code, param: param),
            extraHeaders: extraHeaders,
            keepAlive: keepAlive
        )
    }

    private func control(path: String, method: HTTPMethod, keepAlive: Bool) -> ResponsePlan {
        let body: ResponsePlan.Body
        switch (method, path) {
        case (.GET, "/_mock/stats"):
            body = ResponseBytes.whole(status: 200, reason: "OK", json: state.statsJSON(), keepAlive: keepAlive)
        case (.POST, "/_mock/reset"):
            state.reset()
            body = ResponseBytes.whole(status: 200, reason: "OK", json: "{\"reset\":true}", keepAlive: keepAlive)
        case (.GET, "/_mock/last-request"):
            if let json = state.lastRequestJSON() {
                body = ResponseBytes.whole(status: 200, reason: "OK", json: json, keepAlive: keepAlive)
            } else {
                body = error(404, message: "No request recorded yet.", type: "invalid_request_error", code: "no_request", keepAlive: keepAlive)
            }
        default:
            body = error(
                404,
                message: "Unknown mock control endpoint: \(method.rawValue) \(path).",
                type: "invalid_request_error",
                code: "unknown_url",
                keepAlive: keepAlive
            )
        }
        return ResponsePlan(body: body, keepAlive: keepAlive)
    }

    private static func withoutStreamSwitches(_ request: JSONValue) -> JSONValue {
        guard var members = request.objectValue else { return request }
        members["stream"] = nil
        members["stream_options"] = nil
        return .object(members)
    }
}
