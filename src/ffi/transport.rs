//! The fd and callback transports (system calls and C calls, so they live here).
use std::ffi::c_void;
use std::io::{self, IoSlice};

use crate::conn::transport::Transport;
use crate::ffi::consts::{TLS_WANT_POLLIN, TLS_WANT_POLLOUT};
use crate::ffi::ctx::Tls;

/// libtls's read callback.
pub type tls_read_cb = Option<
    unsafe extern "C" fn(
        ctx: *mut Tls,
        buf: *mut c_void,
        buflen: usize,
        cb_arg: *mut c_void,
    ) -> libc::ssize_t,
>;
/// libtls's write callback.
pub type tls_write_cb = Option<
    unsafe extern "C" fn(
        ctx: *mut Tls,
        buf: *const c_void,
        buflen: usize,
        cb_arg: *mut c_void,
    ) -> libc::ssize_t,
>;

fn is_socket(fd: i32) -> bool {
    // SAFETY: fstat writes only into the zeroed stat we pass.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    }
}

fn ret(n: isize) -> io::Result<usize> {
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn poll_one(fd: i32, ev: i16) -> bool {
    let mut p = libc::pollfd { fd, events: ev, revents: 0 };
    // SAFETY: one valid pollfd, zero timeout.
    unsafe { libc::poll(&mut p, 1, 0) == 1 }
}

/// A socket or a pair of fds (pipes, ttys). Sockets are written with MSG_NOSIGNAL; other fds
/// with SIGPIPE blocked in the calling thread and a pending one discarded.
pub struct FdTransport {
    rfd: i32,
    wfd: i32,
    rsock: bool,
    wsock: bool,
}

impl FdTransport {
    /// A transport over `rfd` (read) and `wfd` (write), which may be the same socket.
    pub fn new(rfd: i32, wfd: i32) -> Self {
        Self { rfd, wfd, rsock: is_socket(rfd), wsock: is_socket(wfd) }
    }

    fn send(&mut self, bufs: &[IoSlice<'_>], flags: i32) -> io::Result<usize> {
        // SAFETY: msghdr built over the caller's IoSlices, which are iovec-compatible.
        let n = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = bufs.len();
            libc::sendmsg(self.wfd, &msg, flags | libc::MSG_NOSIGNAL)
        };
        ret(n)
    }

    fn writev_nosigpipe(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: sigset manipulation on local sets; writev over the caller's IoSlices.
        unsafe {
            let mut block: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            let mut pending: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut block);
            libc::sigaddset(&mut block, libc::SIGPIPE);
            libc::sigpending(&mut pending);
            let was_pending = libc::sigismember(&pending, libc::SIGPIPE) == 1;
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
            let n = libc::writev(self.wfd, bufs.as_ptr() as *const libc::iovec, bufs.len() as i32);
            let err = io::Error::last_os_error();
            if n < 0 && err.raw_os_error() == Some(libc::EPIPE) && !was_pending {
                let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                while libc::sigtimedwait(&block, std::ptr::null_mut(), &zero) == libc::SIGPIPE {}
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if n < 0 {
                Err(err)
            } else {
                Ok(n as usize)
            }
        }
    }
}

impl Transport for FdTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: read into the caller's buffer of buf.len() bytes.
        ret(unsafe { libc::read(self.rfd, buf.as_mut_ptr().cast(), buf.len()) })
    }

    fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.wsock {
            self.send(bufs, 0)
        } else {
            self.writev_nosigpipe(bufs)
        }
    }

    fn write_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.wsock {
            return self.send(bufs, libc::MSG_DONTWAIT);
        }
        if !poll_one(self.wfd, libc::POLLOUT) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // A pipe that polls writable takes at least PIPE_BUF bytes without blocking.
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        let part = [IoSlice::new(&first[..first.len().min(libc::PIPE_BUF)])];
        self.writev_nosigpipe(&part)
    }

    fn read_now(&mut self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        if self.rsock {
            // SAFETY: recv into the caller's buffer of buf.len() bytes.
            return Some(ret(unsafe {
                libc::recv(self.rfd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT)
            }));
        }
        if !poll_one(self.rfd, libc::POLLIN) {
            return Some(Err(io::ErrorKind::WouldBlock.into()));
        }
        Some(self.read(buf))
    }

    fn opportunistic(&self) -> bool {
        self.wsock
    }

    fn push(&mut self) {
        if !self.wsock {
            return;
        }
        let mut on: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let size = len;
        // SAFETY: getsockopt/setsockopt read and write one c_int in locals; on a socket that
        // is not TCP they fail harmlessly, and then nothing is changed.
        unsafe {
            let opt = (&mut on as *mut libc::c_int).cast();
            if libc::getsockopt(self.wfd, libc::IPPROTO_TCP, libc::TCP_NODELAY, opt, &mut len) != 0
                || on != 0
            {
                return;
            }
            let one: libc::c_int = 1;
            let zero: libc::c_int = 0;
            let set = |v: &libc::c_int| {
                libc::setsockopt(
                    self.wfd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    (v as *const libc::c_int).cast(),
                    size,
                )
            };
            if set(&one) == 0 {
                set(&zero);
            }
        }
    }

    fn quick_ack(&mut self) {
        #[cfg(target_os = "linux")]
        if self.rsock {
            let on: libc::c_int = 1;
            // SAFETY: setsockopt reads one c_int from a local; on a socket that is not TCP it
            // fails harmlessly, and the result is deliberately ignored.
            unsafe {
                libc::setsockopt(
                    self.rfd,
                    libc::IPPROTO_TCP,
                    libc::TCP_QUICKACK,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
    }
}

/// The caller's callbacks. They are called on the thread that drives the context.
pub struct CbTransport {
    read_cb: tls_read_cb,
    write_cb: tls_write_cb,
    arg: *mut c_void,
    ctx: *mut Tls,
}

// SAFETY: the callbacks and their argument move with the context; the contract lets a
// connection move between threads (one at a time), as libtls does.
unsafe impl Send for CbTransport {}

impl CbTransport {
    /// A transport calling `read_cb`/`write_cb` with `arg` and the context pointer.
    pub fn new(
        read_cb: tls_read_cb,
        write_cb: tls_write_cb,
        arg: *mut c_void,
        ctx: *mut Tls,
    ) -> Self {
        Self { read_cb, write_cb, arg, ctx }
    }

    fn check(n: isize, len: usize, what: &str) -> io::Result<usize> {
        match n {
            n if n >= 0 && (n as usize) <= len => Ok(n as usize),
            n if n == TLS_WANT_POLLIN as isize || n == TLS_WANT_POLLOUT as isize => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            -1 => {
                let e = io::Error::last_os_error();
                if e.raw_os_error().unwrap_or(0) == 0 {
                    Err(io::Error::other(format!("{what} callback failed")))
                } else {
                    Err(e)
                }
            }
            n => Err(io::Error::other(format!(
                "{what} callback returned {n} for a {len}-byte buffer"
            ))),
        }
    }
}

impl Transport for CbTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let f = self.read_cb.ok_or_else(|| io::Error::other("no read callback"))?;
        super::boundary::set_errno(0);
        // SAFETY: the caller's callback, given a buffer of buf.len() writable bytes.
        let n = unsafe { f(self.ctx, buf.as_mut_ptr().cast(), buf.len(), self.arg) };
        Self::check(n, buf.len(), "read")
    }

    /// A batch of due ciphertext (a flight; released tickets and the record behind them)
    /// reaches the callback in one call, so a callback that does one write(2) per call sends
    /// it in one segment.
    fn write(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let f = self.write_cb.ok_or_else(|| io::Error::other("no write callback"))?;
        let mut parts = bufs.iter().filter(|b| !b.is_empty());
        let mut joined = Vec::new();
        let data: &[u8] = match (parts.next(), parts.next()) {
            (None, _) => &[],
            (Some(one), None) => one,
            _ => {
                joined.reserve_exact(bufs.iter().map(|b| b.len()).sum());
                bufs.iter().for_each(|b| joined.extend_from_slice(b));
                &joined
            }
        };
        super::boundary::set_errno(0);
        // SAFETY: the caller's callback, given data.len() readable bytes.
        let n = unsafe { f(self.ctx, data.as_ptr().cast(), data.len(), self.arg) };
        Self::check(n, data.len(), "write")
    }
}

/// Closes an fd nbtls created.
pub fn close_fd(fd: i32) {
    // SAFETY: closing an fd this library opened and still owns.
    unsafe { libc::close(fd) };
}

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
