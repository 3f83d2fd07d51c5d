//! What nbtls asks the OS about files it is handed: `fstat` of a session fd and the
//! caller's user ID.
use std::io;

use crate::config::setters::FileFacts;

/// The type, owner and mode of the file open on `fd`, and the calling process's user ID.
pub fn facts(fd: i32) -> io::Result<FileFacts> {
    // SAFETY: st is a plain struct fstat fills; fstat only reads the fd number.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid, writable stat.
    if unsafe { libc::fstat(fd, &mut st) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getuid cannot fail.
    let user = unsafe { libc::getuid() };
    Ok(FileFacts {
        regular: st.st_mode & libc::S_IFMT == libc::S_IFREG,
        owner: st.st_uid,
        mode: st.st_mode,
        user,
    })
}
