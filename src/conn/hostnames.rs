//! The server names clients connect to, kept once for the life of the process.
//!
//! rustls holds a client's server name for the whole connection (its tickets are stored
//! under it) and clones it on the way; a `&'static str` costs it nothing, an owned name an
//! allocation per copy. A program connects to few names, so each of the first
//! [`MAX_NAMES`] distinct names is kept once and shared by every connection to it; past
//! that, names are copied per connection as before. At most [`MAX_NAMES`] × 253 bytes.
use std::sync::Mutex;

/// How many distinct names are kept.
const MAX_NAMES: usize = 128;

/// The longest name kept (a DNS name's limit); a longer one is copied per connection.
const MAX_LEN: usize = 253;

static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// `name` as a string that lives as long as the process, or `None` when it is too long or
/// [`MAX_NAMES`] other names are kept already.
pub fn shared(name: &str) -> Option<&'static str> {
    if name.len() > MAX_LEN {
        return None;
    }
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return Some(n);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    if names.capacity() == 0 {
        names.reserve_exact(MAX_NAMES);
    }
    let kept: &'static str = Box::leak(Box::from(name));
    names.push(kept);
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_kept_once_and_a_long_one_not_at_all() {
        let a = shared("once.example").unwrap();
        let b = shared("once.example").unwrap();
        assert!(std::ptr::eq(a, b));
        assert_eq!(a, "once.example");
        assert!(shared(&"x".repeat(MAX_LEN + 1)).is_none());
    }
}
