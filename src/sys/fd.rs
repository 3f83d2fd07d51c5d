//! The fd transport: a socket or a pair of fds, written without SIGPIPE reaching the
//! program; and closing the fds nbtls creates.
use std::io::{self, IoSlice};

use crate::conn::transport::Transport;

/// What kind of fd this is, asked once.
#[derive(Clone, Copy)]
struct Kind {
    socket: bool,
    /// A TCP socket: the Nagle and delayed-ACK remedies apply (see `push`, `quick_ack`).
    tcp: bool,
}

fn kind(fd: i32) -> Kind {
    let mut proto: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes one c_int into a local and its length into another.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PROTOCOL,
            (&mut proto as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if r == 0 {
        return Kind { socket: true, tcp: proto == libc::IPPROTO_TCP };
    }
    if io::Error::last_os_error().raw_os_error() == Some(libc::ENOTSOCK) {
        return Kind { socket: false, tcp: false };
    }
    // A socket whose protocol cannot be asked (or an fd in doubt): tell by fstat, and let
    // the TCP remedies try (they fail harmlessly on other sockets).
    // SAFETY: fstat writes only into the zeroed stat we pass.
    let socket = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    };
    Kind { socket, tcp: socket }
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
    /// What the read fd and the write fd are.
    r: Kind,
    w: Kind,
}

impl FdTransport {
    /// A transport over `rfd` (read) and `wfd` (write), which may be the same socket.
    pub fn new(rfd: i32, wfd: i32) -> Self {
        let r = kind(rfd);
        // One system call for the usual case, a socket read and written through one fd.
        let w = if wfd == rfd { r } else { kind(wfd) };
        Self { rfd, wfd, r, w }
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
        if self.w.socket {
            self.send(bufs, 0)
        } else {
            self.writev_nosigpipe(bufs)
        }
    }

    fn write_now(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.w.socket {
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
        if self.r.socket {
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
        self.w.socket
    }

    fn push(&mut self) {
        if !self.w.tcp {
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
        if self.r.tcp {
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

/// Closes an fd nbtls created.
pub fn close_fd(fd: i32) {
    // SAFETY: closing an fd this library opened and still owns.
    unsafe { libc::close(fd) };
}
