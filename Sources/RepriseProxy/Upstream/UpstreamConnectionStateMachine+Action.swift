import NIOCore
import NIOHTTP1

extension UpstreamConnectionStateMachine {
    /// What `UpstreamConnection` does after an event. The machine has already moved to its next
    /// state when it returns one, so an action may feed further events (releasing to the pool
    /// can start the next call on this connection before the ended call is finished).
    ///
    /// "The call" is the one the handler holds: it takes it out before telling it anything, so
    /// nothing reaches a call twice.
    enum Action {
        /// Nothing to do: a 1xx head, a read held back, an event on a connection going away.
        case none

        /// Only from `callStarted`: keep the call, write its request (head, body, end; one
        /// flush), and make sure a wake-up comes by `wakeUpBy`.
        case sendRequest(wakeUpBy: NIODeadline)

        /// Only from `callStarted`: fail the call being started with this error; the call in
        /// progress (if any) is not touched.
        case refuseCall(UpstreamCallError)

        /// Make sure a wake-up comes by this time, then report it with `wakeUpFired(now:)`. A
        /// wake-up already due earlier serves.
        case armWakeUp(by: NIODeadline)

        /// Give the call's sink the response head.
        case forwardHead(HTTPResponseHead)

        /// Give the call's sink the part; when the future it returns completes, report
        /// `bodyPartTaken`.
        case forwardBodyPart(ByteBuffer)

        /// Pass a read on (a held one, now that the sink took its part, or one that needs no
        /// holding).
        case read

        /// The answer ended on a connection kept alive: give the connection back to the pool
        /// (closed instead when the pool is gone), then finish the call.
        case releaseAndFinishCall

        /// The answer ended on a connection not kept alive: close it, then finish the call.
        case closeAndFinishCall

        /// The call was abandoned and fails itself (`.cancelled`): drop it without telling it,
        /// and close.
        case forgetCallAndClose

        /// Close the connection, then fail the call with this error.
        case closeAndFailCall(UpstreamCallError)

        /// Close the connection (no call is in progress, or its end comes with the channel's).
        case close

        /// The channel is inactive: tell the pool (which forgets the connection and may open
        /// another for a waiting call).
        case reportClosed

        /// As `reportClosed`, then fail the call in progress with this error.
        case reportClosedAndFailCall(UpstreamCallError)
    }
}

extension UpstreamConnectionStateMachine.Action: Equatable {
    /// Errors compare by what they say: `UpstreamCallError` is not `Equatable` (it carries TLS
    /// errors), and the ones this machine decides differ in their descriptions.
    static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none), (.read, .read), (.releaseAndFinishCall, .releaseAndFinishCall),
             (.closeAndFinishCall, .closeAndFinishCall), (.forgetCallAndClose, .forgetCallAndClose),
             (.close, .close), (.reportClosed, .reportClosed):
            return true
        case (.sendRequest(let lhs), .sendRequest(let rhs)), (.armWakeUp(let lhs), .armWakeUp(let rhs)):
            return lhs == rhs
        case (.refuseCall(let lhs), .refuseCall(let rhs)), (.closeAndFailCall(let lhs), .closeAndFailCall(let rhs)),
             (.reportClosedAndFailCall(let lhs), .reportClosedAndFailCall(let rhs)):
            return lhs.description == rhs.description
        case (.forwardHead(let lhs), .forwardHead(let rhs)):
            return lhs == rhs
        case (.forwardBodyPart(let lhs), .forwardBodyPart(let rhs)):
            return lhs == rhs
        default:
            // Different cases (listing every pair is more than the compiler checks in time).
            return false
        }
    }
}
