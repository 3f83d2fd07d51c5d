//! TCP for tls_connect: name resolution and connecting (the host:port form is
//! `context::tcp_target`'s).
use std::io;

/// Resolves `host`/`port` and connects a blocking TCP socket to the first address that
/// answers, as libtls does.
pub fn tcp_connect(host: &str, port: &str) -> crate::error::Result<i32> {
    use crate::error::Error;
    let chost = std::ffi::CString::new(host).map_err(|_| Error::arg("host contains NUL"))?;
    let cport = std::ffi::CString::new(port).map_err(|_| Error::arg("port contains NUL"))?;
    // SAFETY: getaddrinfo with valid C strings and a zeroed hints struct; the list it returns
    // is walked read-only and freed once.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_family = libc::AF_UNSPEC;
        hints.ai_socktype = libc::SOCK_STREAM;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        let rc = libc::getaddrinfo(chost.as_ptr(), cport.as_ptr(), &hints, &mut res);
        if rc != 0 {
            let msg =
                std::ffi::CStr::from_ptr(libc::gai_strerror(rc)).to_string_lossy().into_owned();
            return Err(Error::new(crate::error::Code::Io, format!("{host}:{port}: {msg}")));
        }
        let mut last = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let mut ai = res;
        let mut found = -1;
        while !ai.is_null() {
            let a = &*ai;
            let fd = libc::socket(a.ai_family, a.ai_socktype | libc::SOCK_CLOEXEC, a.ai_protocol);
            if fd >= 0 {
                if libc::connect(fd, a.ai_addr, a.ai_addrlen) == 0 {
                    found = fd;
                    break;
                }
                last = io::Error::last_os_error();
                libc::close(fd);
            } else {
                last = io::Error::last_os_error();
            }
            ai = a.ai_next;
        }
        libc::freeaddrinfo(res);
        if found < 0 {
            return Err(Error::io(&format!("connect to {host}:{port}"), &last));
        }
        Ok(found)
    }
}
