//! Key logging, only when the caller asks: a callback (`tls_config_set_keylog_cb`) and/or the
//! file named by `SSLKEYLOGFILE` after an explicit opt-in
//! (`tls_config_set_keylog_file_from_env`). Lines are in the NSS key log format,
//! "LABEL <client random hex> <secret hex>", lowercase hex.
use std::ffi::{CStr, CString};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex};

use crate::error::{Code, Error, Result};

/// The environment variable a config that opted in honours.
pub const ENV: &str = "SSLKEYLOGFILE";

/// Where a config's key log lines go: a C callback, wrapped by the FFI layer.
pub type Sink = Arc<dyn Fn(&CStr) + Send + Sync>;

/// One generation's key logger: the callback (which serializes its own calls) and the file
/// (written under a lock, one line per write).
pub struct KeyLogger {
    sink: Option<Sink>,
    file: Option<File>,
    lock: Mutex<()>,
}

impl std::fmt::Debug for KeyLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLogger")
            .field("callback", &self.sink.is_some())
            .field("file", &self.file)
            .finish()
    }
}

impl KeyLogger {
    /// The logger for a generation: `None` when neither the callback is set nor the opt-in
    /// was given with `SSLKEYLOGFILE` set (and not empty). The file is opened here, for
    /// appending, created with mode 0600; failing to open it is an error.
    pub fn new(sink: Option<Sink>, from_env: bool) -> Result<Option<Arc<Self>>> {
        let path = if from_env { std::env::var_os(ENV).filter(|p| !p.is_empty()) } else { None };
        let file = match path {
            Some(p) => Some(
                OpenOptions::new().append(true).create(true).mode(0o600).open(&p).map_err(|e| {
                    let mut err = Error::io(
                        &format!("{ENV}: failed to open key log file '{}'", p.to_string_lossy()),
                        &e,
                    );
                    err.code = Code::InvalidArgument;
                    err
                })?,
            ),
            None => None,
        };
        if sink.is_none() && file.is_none() {
            return Ok(None);
        }
        Ok(Some(Arc::new(Self { sink, file, lock: Mutex::new(()) })))
    }
}

/// "LABEL <client random hex> <secret hex>", without a newline.
pub fn line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut s = String::with_capacity(label.len() + 2 + 2 * (client_random.len() + secret.len()));
    s.push_str(label);
    s.push(' ');
    for b in client_random {
        let _ = write!(s, "{b:02x}");
    }
    s.push(' ');
    for b in secret {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl rustls::KeyLog for KeyLogger {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let text = line(label, client_random, secret);
        if let Some(mut f) = self.file.as_ref() {
            // One write per line (O_APPEND): lines of several processes do not interleave.
            // A failing write is ignored: key logging never fails a handshake.
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            let _ = f.write_all(format!("{text}\n").as_bytes());
        }
        if let Some(sink) = &self.sink {
            if let Ok(c) = CString::new(text) {
                sink(&c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::KeyLog;

    #[test]
    fn lines_are_nss_format() {
        assert_eq!(line("CLIENT_RANDOM", &[0, 0xab], &[0x10, 0xff]), "CLIENT_RANDOM 00ab 10ff");
    }

    #[test]
    fn nothing_without_a_callback_or_the_opt_in() {
        assert!(KeyLogger::new(None, false).unwrap().is_none());
    }

    #[test]
    fn the_callback_gets_each_line() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let sink: Sink =
            Arc::new(move |l: &CStr| g.lock().unwrap().push(l.to_str().unwrap().to_owned()));
        let k = KeyLogger::new(Some(sink), false).unwrap().unwrap();
        k.log("EXPORTER_SECRET", &[1; 32], &[2; 32]);
        assert_eq!(got.lock().unwrap().len(), 1);
        assert!(got.lock().unwrap()[0].starts_with("EXPORTER_SECRET 0101"));
    }
}
