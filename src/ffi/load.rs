//! `tls_load_file` and `tls_unload_file`.
use std::ffi::{c_char, c_void};

use crate::config::pem;
use crate::error::{Error, Result};
use crate::ffi::boundary::set_errno;
use crate::ffi::conn_util::fail_null;
use crate::ffi::handle::{cstr, out_ref};

/// Reads `file`. With `password` NULL the contents are returned as they are; with a
/// password the file must hold a private key, returned in PEM: an unencrypted key is
/// returned as it is, an encrypted one fails (nbtls does not decrypt PEM keys: decrypt it
/// first, e.g. `openssl pkey -in key.pem -out plain.pem`).
///
/// Returns a buffer of `*len` bytes, allocated with malloc (release it with tls_unload_file,
/// which wipes it), or NULL on failure with errno set by the failed system call and the
/// message in tls_last_error().
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_load_file(
    file: *const c_char,
    len: *mut usize,
    password: *mut c_char,
) -> *mut u8 {
    boundary!(std::ptr::null_mut(), {
        let r = (|| -> Result<(&mut usize, Vec<u8>)> {
            let len = out_ref(len, "len")?;
            let path = cstr(file, "file")?;
            Ok((len, pem::load_file(path, !password.is_null())?))
        })();
        match r {
            Ok((len, bytes)) => {
                // SAFETY: malloc of at least one byte; a NULL result is checked.
                let p = unsafe { libc::malloc(bytes.len().max(1)) }.cast::<u8>();
                if p.is_null() {
                    set_errno(libc::ENOMEM);
                    return fail_null(
                        Error::new(crate::error::Code::OutOfMemory, "out of memory"),
                        std::ptr::null_mut(),
                    );
                }
                // SAFETY: p has room for bytes.len() bytes.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
                *len = bytes.len();
                p
            }
            Err(e) => {
                if e.errno != 0 {
                    set_errno(e.errno);
                }
                fail_null(e, std::ptr::null_mut())
            }
        }
    })
}

/// Wipes and frees a buffer tls_load_file returned (`len` is its length). NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tls_unload_file(buf: *mut u8, len: usize) {
    boundary!((), {
        if buf.is_null() {
            return;
        }
        // SAFETY: buf came from tls_load_file (malloc) with len bytes; wiped, then freed once.
        unsafe {
            std::ptr::write_bytes(buf, 0, len);
            libc::free(buf.cast::<c_void>());
        }
    })
}
