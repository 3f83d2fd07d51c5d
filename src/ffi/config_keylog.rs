//! The `tls_config_*` key logging setters: a callback per line and the SSLKEYLOGFILE
//! convention.
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, Mutex};

use crate::config::keylog::Sink;
use crate::config::Config;
use crate::ffi::config_util::setter;

/// A key log callback: `line` is one NSS key log line, "LABEL <client random> <secret>" in
/// lowercase hex, NUL-terminated, without a newline, valid only during the call.
pub type tls_keylog_cb = Option<unsafe extern "C" fn(line: *const c_char, arg: *mut c_void)>;

/// The C callback and its argument, owned by the caller; the lock serializes its calls
/// (every generation and role of the config shares it).
struct Callback {
    cb: unsafe extern "C" fn(line: *const c_char, arg: *mut c_void),
    arg: *mut c_void,
    lock: Mutex<()>,
}

// SAFETY: the header makes the caller responsible for `arg` being usable from every thread
// that runs a handshake of a context configured with it; nbtls only passes it back.
unsafe impl Send for Callback {}
// SAFETY: as above; calls are serialized by `lock`.
unsafe impl Sync for Callback {}

impl Callback {
    fn call(&self, line: &CStr) {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: cb is the caller's function with the documented signature; line is a valid
        // NUL-terminated string for the duration of the call.
        unsafe { (self.cb)(line.as_ptr(), self.arg) }
    }
}

/// Sets a callback that receives the secrets of every handshake of the contexts configured
/// from `config` afterwards (clients and servers), one NSS key log line per call:
/// "LABEL <client random hex> <secret hex>", NUL-terminated, without a newline — CLIENT_RANDOM
/// for TLS 1.2; CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
/// CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 and EXPORTER_SECRET for TLS 1.3 (and
/// CLIENT_EARLY_TRAFFIC_SECRET on a server resuming a session; 0-RTT stays off). Anyone
/// who sees these lines can decrypt the connections: this is for debugging (the key log
/// file of Wireshark and OpenSSL's `-keylogfile`). A NULL `cb` turns the callback off. Key
/// logging is off by default.
///
/// The callback runs inside tls_handshake (or the tls_read/tls_write that drives the
/// handshake), on the calling thread; its calls are serialized, never concurrent, even when
/// several threads run handshakes, so it must not run a handshake itself.
/// `line` is valid only during the call; `arg` is passed back unchanged and must stay valid
/// until every context configured with it has been freed.
///
/// Returns 0, or -1 for a NULL config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keylog_cb(
    config: *mut Config,
    cb: tls_keylog_cb,
    arg: *mut c_void,
) -> c_int {
    boundary!(
        -1,
        setter(config, |c| {
            let sink: Option<Sink> = cb.map(|cb| {
                let f = Callback { cb, arg, lock: Mutex::new(()) };
                Arc::new(move |line: &CStr| f.call(line)) as Sink
            });
            c.edit(|s| {
                s.keylog_sink = sink;
                Ok(())
            })
        })
    )
}

/// Opts in to the SSLKEYLOGFILE convention: after this call, when the environment variable
/// SSLKEYLOGFILE names a file at the tls_configure that first uses `config` after a change,
/// the secrets of every handshake of the contexts configured from it are appended to that
/// file, one NSS key log line each, ending with a newline (the format of
/// tls_config_set_keylog_cb; the file is created with mode 0600). Without this call
/// SSLKEYLOGFILE is ignored: key logging is off by default. An unset or empty SSLKEYLOGFILE
/// logs nothing. A callback, if set, receives the same lines.
///
/// Returns 0, or -1 for a NULL config. tls_configure fails, naming the file, when the file
/// cannot be opened; a failed write later never fails a handshake.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_config_set_keylog_file_from_env(config: *mut Config) -> c_int {
    boundary!(
        -1,
        setter(config, |c| c.edit(|s| {
            s.keylog_from_env = true;
            Ok(())
        }))
    )
}
