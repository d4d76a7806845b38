//! WebSocket transport for chatcore.
