//! The operating system calls nbtls makes itself: the fd transport (send without SIGPIPE,
//! poll), TCP connect (getaddrinfo, socket, connect) and `fstat` of a session file. Besides src/ffi/, the only place
//! with `unsafe`, each block with its SAFETY line.
pub mod fd;
pub mod file;
pub mod net;
