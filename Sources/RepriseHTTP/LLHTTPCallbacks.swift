internal import CLLHTTP

/// The handlers every parser gives llhttp (through reprise_llhttp.c): each finds its
/// `RequestHeadParser` from the context and returns what llhttp expects (0, -1, or
/// `REPRISE_LLHTTP_PAUSED` to stop at an event).
enum LLHTTPCallbacks {
    nonisolated(unsafe) static let handlers: UnsafeMutablePointer<reprise_llhttp_handlers> = {
        let handlers = UnsafeMutablePointer<reprise_llhttp_handlers>.allocate(capacity: 1)
        handlers.initialize(to: reprise_llhttp_handlers(
            message_begin: { RequestHeadParser.of($0).messageBegan() },
            span: { RequestHeadParser.of($0).span(part($1), $2, $3) },
            part_complete: { context, completed in
                let parser = RequestHeadParser.of(context)
                switch part(completed) {
                case .name: return parser.nameEnded()
                case .value: return parser.valueEnded()
                case .method, .target, .version: return parser.partEnded()
                }
            },
            headers_complete: { RequestHeadParser.of($0).headersComplete() },
            body: { RequestHeadParser.of($0).body($1, $2) },
            message_complete: { RequestHeadParser.of($0).messageComplete() }
        ))
        return handlers
    }()

    private static func part(_ part: reprise_llhttp_part) -> HeadRangeBuilder.Part {
        switch part {
        case REPRISE_LLHTTP_METHOD: .method
        case REPRISE_LLHTTP_TARGET: .target
        case REPRISE_LLHTTP_VERSION: .version
        case REPRISE_LLHTTP_NAME: .name
        default: .value
        }
    }
}
