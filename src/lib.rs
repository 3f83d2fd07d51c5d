//! nbtls: a libtls-compatible nonblocking TLS library for C programs, built on rustls.
//!
//! The crate has three layers:
//! - [`config`]: the mutable settings `tls_config_*` edits, frozen into shared rustls configs;
//! - [`conn`]: the safe nonblocking engine (handshake, read, write, flush, close, the WANT
//!   derivation and the out-of-turn write schedule);
//! - [`context`]: which calls a client, a listener and an accepted connection may make;
//! - `ffi`: the exported C functions, the only place with raw pointers from C.
//!
//! `sys` holds the OS calls nbtls makes itself (the fd transport, TCP connect, `fstat` of a
//! session file); it and `ffi` are the only homes of `unsafe`, and it alone calls the OS.
//!
//! Beside them, [`names`] holds OpenSSL's names for suites, versions and groups, which both
//! `config` (cipher strings) and `conn` (what was negotiated) use: `config` imports nothing
//! from `conn`, which sits above it.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod config;
pub mod conn;
pub mod context;
pub mod error;
pub mod kx;
pub mod names;
pub mod policy;

mod ffi;
mod sys;

pub use error::{Code, Error};
