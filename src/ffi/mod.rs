//! The C API: the only place with raw pointers from C and C names (`unsafe` is here and in
//! crate::sys, the OS calls).
//!
//! Each exported function opens the panic boundary ([`boundary`]), turns its pointers into
//! references or slices ([`handle`]), calls one method of the core and maps the result.
#![allow(non_camel_case_types, non_upper_case_globals)]
#![allow(clippy::missing_safety_doc)]
// `boundary!((), f())` runs a `void` export body inside the boundary.
#![allow(clippy::unit_arg)]

#[macro_use]
pub mod boundary;
pub mod handle;

pub mod callback;
pub mod config;
pub mod config_keylog;
pub mod config_keypairs;
pub mod config_sessions;
pub mod config_util;
pub mod config_verify;
pub mod conn;
pub mod conn_util;
#[allow(dead_code)]
pub mod consts;
pub mod ctx;
pub mod error;
pub mod info;
pub mod io;
pub mod load;
pub mod peer;
