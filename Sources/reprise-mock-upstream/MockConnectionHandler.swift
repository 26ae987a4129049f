import NIOCore
import NIOHTTP1

/// One connection: collects requests (pipelined ones queue up in order), asks the router for a
/// plan and plays it out — delays, stream events, cuts — on the connection's event loop.
///
/// Writes are flushed only when the handler is about to wait (a delay, a hang, an empty queue)
/// or close, so a pipelined batch leaves in one `writev`.
final class MockConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private let router: MockRouter
    private var answers = AnswerCache()
    private var receivingHead: HTTPRequestHead?
    private var receivingBody: ByteBuffer?
    private var waiting = CircularBuffer<ResponsePlan>(initialCapacity: 4)
    /// A response has started (or is scheduled, or hangs) and has not finished.
    private var responding = false
    private var scheduled: Scheduled<Void>?
    /// Set when the mock itself closes (cut, `Connection: close`), which is no client disconnect.
    private var closingOnPurpose = false

    init(router: MockRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            receivingHead = head
            receivingBody = nil
        case .body(var part):
            if receivingBody == nil {
                receivingBody = part
            } else {
                receivingBody!.writeBuffer(&part)
            }
        case .end:
            guard let head = receivingHead, !closingOnPurpose else { return }
            receivingHead = nil
            waiting.append(router.plan(head: head, body: receivingBody, cache: &answers))
            receivingBody = nil
            if !responding {
                startNext(context: context)
            }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        router.state.recordConnectionAccepted()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
        if !closingOnPurpose {
            router.state.recordClientDisconnects((responding ? 1 : 0) + waiting.count)
        }
        responding = false
        waiting.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !responding {
            let body = ResponseBytes.whole(
                status: 400,
                reason: "Bad Request",
                json: OpenAIError.json(message: "Malformed HTTP request: \(error).", type: "invalid_request_error", code: "bad_http"),
                keepAlive: false
            )
            if case .whole(let buffer, _) = body {
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
        }
        close(context: context)
    }

    private func startNext(context: ChannelHandlerContext) {
        guard !responding, let plan = waiting.popFirst() else {
            context.flush()
            return
        }
        responding = true
        if plan.delayBeforeHead > .zero {
            context.flush()
            scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: plan.delayBeforeHead) {
                self.writeResponse(context: context, plan: plan)
            }
        } else {
            writeResponse(context: context, plan: plan)
        }
    }

    private func writeResponse(context: ChannelHandlerContext, plan: ResponsePlan) {
        scheduled = nil
        switch plan.body {
        case .hang:
            context.flush()
        case .whole(let buffer, let bodyOffset):
            if plan.cutAfter != nil {
                let bodyLength = buffer.readableBytes - bodyOffset
                context.write(wrapOutboundOut(buffer.getSlice(at: buffer.readerIndex, length: bodyOffset + bodyLength / 2)!), promise: nil)
                close(context: context)
            } else {
                context.write(wrapOutboundOut(buffer), promise: nil)
                finish(context: context, plan: plan)
            }
        case .stream(let head, let events):
            context.write(wrapOutboundOut(head), promise: nil)
            writeEvents(context: context, plan: plan, events: events, from: 0)
        }
    }

    /// Writes events from `start` (its writes from `startWrite`), pausing where the plan says:
    /// between the writes of a split event, between events, before the terminating chunk.
    private func writeEvents(
        context: ChannelHandlerContext,
        plan: ResponsePlan,
        events: [FramedEvent],
        from start: Int,
        write startWrite: Int = 0
    ) {
        scheduled = nil
        var index = start
        var write = startWrite
        while index < events.count {
            if write == 0, let cut = plan.cutAfter, index >= cut {
                close(context: context)
                return
            }
            let writes = events[index].writes
            context.write(wrapOutboundOut(writes[write]), promise: nil)
            write += 1
            if write < writes.count {
                // A split event: each piece leaves in its own write.
                context.flush()
                if plan.pauseBetweenWrites > .zero {
                    schedule(context: context, after: plan.pauseBetweenWrites) {
                        self.writeEvents(context: context, plan: plan, events: events, from: index, write: write)
                    }
                    return
                }
                continue
            }
            write = 0
            index += 1
            if plan.chunkDelay > .zero, index < events.count {
                context.flush()
                let next = index
                schedule(context: context, after: plan.chunkDelay) {
                    self.writeEvents(context: context, plan: plan, events: events, from: next)
                }
                return
            }
        }
        if plan.cutAfter != nil {
            // Every event went out, yet the stream is still broken: no terminating chunk.
            close(context: context)
            return
        }
        if plan.endDelay > .zero {
            // The last event leaves now, the end of the body later, in a write of its own.
            context.flush()
            schedule(context: context, after: plan.endDelay) {
                self.scheduled = nil
                context.write(self.wrapOutboundOut(ResponsePlan.endOfChunks), promise: nil)
                self.finish(context: context, plan: plan)
            }
            return
        }
        context.write(wrapOutboundOut(ResponsePlan.endOfChunks), promise: nil)
        finish(context: context, plan: plan)
    }

    private func schedule(context: ChannelHandlerContext, after delay: TimeAmount, _ task: @escaping () -> Void) {
        scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: delay, task)
    }

    private func finish(context: ChannelHandlerContext, plan: ResponsePlan) {
        responding = false
        if plan.keepAlive {
            startNext(context: context)
        } else {
            close(context: context)
        }
    }

    private func close(context: ChannelHandlerContext) {
        guard !closingOnPurpose else { return }
        closingOnPurpose = true
        responding = false
        waiting.removeAll()
        scheduled?.cancel()
        scheduled = nil
        context.flush()
        context.close(promise: nil)
    }
}
