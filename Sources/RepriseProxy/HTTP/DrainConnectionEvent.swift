/// Asks a connection to finish its current response and close (graceful shutdown).
struct DrainConnectionEvent {}
