//! The plumbing every `tls_config_*` export shares: where a setter's failure is recorded,
//! and how files named by C strings are read.
use std::ffi::{c_char, c_int};
use std::path::PathBuf;

use crate::config::{pem, Config, Settings};
use crate::error::{Error, Result};
use crate::ffi::boundary::set_last_error;
use crate::ffi::conn_util::fail_null;
use crate::ffi::handle::{config_ref, cstr};

/// Runs a config setter that may fail: the error goes on the config and the thread.
pub fn setter(config: *mut Config, f: impl FnOnce(&Config) -> Result<()>) -> c_int {
    let cfg = match config_ref(config) {
        Ok(c) => c,
        Err(e) => return fail_null(e, -1),
    };
    match f(cfg) {
        Ok(()) => 0,
        Err(e) => {
            set_last_error(&e);
            cfg.set_error(e);
            -1
        }
    }
}

/// Runs a `void` setter that cannot fail.
pub fn void_edit(config: *mut Config, f: impl FnOnce(&mut Settings)) {
    match config_ref(config) {
        Ok(c) => {
            let _ = c.edit(|s| {
                f(s);
                Ok(())
            });
        }
        Err(e) => set_last_error(&e),
    }
}

/// A `void` setter asking for what nbtls cannot do: the error is sticky, so tls_configure
/// fails (fail closed).
pub fn void_refuse(config: *mut Config, err: Error) {
    match config_ref(config) {
        Ok(c) => {
            set_last_error(&err);
            c.set_sticky(err.clone());
            c.set_error(err);
        }
        Err(e) => set_last_error(&e),
    }
}

/// Reads the whole file named by `path`; NULL is an error naming `what`.
pub fn file(path: *const c_char, what: &str) -> Result<Vec<u8>> {
    pem::read_file(&PathBuf::from(cstr(path, what)?), what)
}
