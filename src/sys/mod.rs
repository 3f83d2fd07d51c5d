//! The operating system calls nbtls makes itself: the fd transport (send without SIGPIPE,
//! poll) and TCP connect (getaddrinfo, socket, connect). Besides src/ffi/, the only place
//! with `unsafe`, each block with its SAFETY line.
pub mod fd;
pub mod net;
