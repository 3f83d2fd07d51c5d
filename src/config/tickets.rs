//! Session ticket keys: a random key per config that rotates by itself, or the keys a
//! program adds with `tls_config_add_ticket_key` so that several processes (or machines)
//! given the same keys resume each other's sessions. The README's "Server resumption"
//! section is the specification:
//!
//! - each 48-byte key becomes an AES-256-GCM key by HKDF-SHA256 (salt [`HKDF_SALT`], the 48
//!   bytes as input keying material, info [`HKDF_INFO`]);
//! - a ticket is `"nbt2" || keyrev (4 bytes, big-endian) || nonce (12 random bytes) ||
//!   AES-256-GCM(plaintext)` with the first 8 bytes and the config's 32-byte binding
//!   ([`super::binding`]: the session ID context and the client-certificate settings) as
//!   additional data, so a ticket opens only under the settings it was issued under;
//! - the automatic key (rustls's ticketer, which takes no additional data) encrypts the
//!   binding followed by the plaintext, and a ticket whose binding differs is refused;
//! - at most [`MAX_KEYS`] keys; the newest encrypts, older ones only decrypt; each is valid
//!   for the session lifetime after it was added; with no valid key no ticket is issued.
//!
//! "nbt1" tickets (made before the binding, with the session ID context alone as additional
//! data) are refused like any undecryptable ticket: a full handshake follows.
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::ProducesTickets;

use super::binding::Binding;
use crate::error::{Code, Error, Result};

/// The length of a ticket key (libtls's `TLS_TICKET_KEY_SIZE`).
pub(crate) const KEY_SIZE: usize = 48;
/// The most keys kept (libtls's `TLS_NUM_TICKETS`); adding a fifth drops the oldest.
pub(crate) const MAX_KEYS: usize = 4;
/// The HKDF salt.
pub const HKDF_SALT: &[u8] = b"nbtls ticket key";
/// The HKDF info.
pub const HKDF_INFO: &[u8] = b"nbtls ticket key v1 aes-256-gcm";
/// The first bytes of every ticket made from an added key ("nbt1": before the binding).
pub const MAGIC: &[u8; 4] = b"nbt2";
const HEADER: usize = 4 + 4 + aead::NONCE_LEN;
const BINDING_LEN: usize = std::mem::size_of::<Binding>();

/// The length of a session ID context (libtls's `TLS_MAX_SESSION_ID_LENGTH`).
pub(crate) const SESSION_ID_SIZE: usize = 32;

struct Key {
    rev: u32,
    raw: [u8; KEY_SIZE],
    aead: LessSafeKey,
    added: Instant,
}

impl Drop for Key {
    fn drop(&mut self) {
        self.raw.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.raw);
    }
}

impl Key {
    fn valid(&self, now: Instant, lifetime: u32) -> bool {
        now.saturating_duration_since(self.added) <= Duration::from_secs(u64::from(lifetime))
    }
}

/// A config's ticket keys, shared by all its generations.
pub struct TicketKeys {
    /// Added keys, newest first. Empty: the automatic key is used. A read lock for sealing
    /// and opening tickets, so that the handshakes of several threads never wait for each
    /// other's ticket crypto; the write lock only to add a key.
    keys: RwLock<Vec<Key>>,
    auto: Arc<dyn ProducesTickets>,
    rng: SystemRandom,
}

impl std::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketKeys").field("added", &self.read().len()).finish()
    }
}

impl TicketKeys {
    /// No added keys: a random key that rustls rotates.
    pub fn new() -> Result<Self> {
        let auto = rustls::crypto::ring::Ticketer::new()
            .map_err(|e| Error::new(Code::Unknown, format!("ticket key generation failed: {e}")))?;
        Ok(Self { keys: RwLock::new(Vec::new()), auto, rng: SystemRandom::new() })
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<Key>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Vec<Key>> {
        self.keys.write().unwrap_or_else(|p| p.into_inner())
    }

    /// `tls_config_add_ticket_key`: adds `key` as revision `rev`, the newest.
    pub fn add(&self, rev: u32, key: &[u8]) -> Result<()> {
        self.add_at(rev, key, Instant::now())
    }

    /// [`TicketKeys::add`] as if at `now` (tests move the clock).
    pub fn add_at(&self, rev: u32, key: &[u8], now: Instant) -> Result<()> {
        let raw: [u8; KEY_SIZE] = key.try_into().map_err(|_| {
            Error::arg(format!(
                "wrong amount of ticket key data: {} bytes, need {KEY_SIZE}",
                key.len()
            ))
        })?;
        let mut keys = self.write();
        if let Some(i) = keys.iter().position(|k| k.rev == rev) {
            if i == 0 && keys[0].raw.iter().zip(&raw).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0 {
                return Ok(());
            }
            return Err(Error::new(
                Code::Unknown,
                format!("tls session ticket key exists (revision {rev})"),
            ));
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(&raw);
        let okm = prk
            .expand(&[HKDF_INFO], &aead::AES_256_GCM)
            .map_err(|_| Error::new(Code::Internal, "HKDF failed"))?;
        let aead = LessSafeKey::new(UnboundKey::from(okm));
        keys.insert(0, Key { rev, raw, aead, added: now });
        keys.truncate(MAX_KEYS);
        Ok(())
    }

    /// Whether keys were added (automatic rekeying is then off).
    pub fn manual(&self) -> bool {
        !self.read().is_empty()
    }

    fn aad(header: &[u8], binding: &Binding) -> Vec<u8> {
        let mut aad = Vec::with_capacity(header.len() + BINDING_LEN);
        aad.extend_from_slice(header);
        aad.extend_from_slice(binding);
        aad
    }

    /// Encrypts a ticket under the newest key, if it is still valid.
    fn encrypt_at(
        &self,
        plain: &[u8],
        lifetime: u32,
        binding: &Binding,
        now: Instant,
    ) -> Option<Vec<u8>> {
        let keys = self.read();
        if keys.is_empty() {
            let mut p = Vec::with_capacity(BINDING_LEN + plain.len());
            p.extend_from_slice(binding);
            p.extend_from_slice(plain);
            return self.auto.encrypt(&p);
        }
        let key = keys.first().filter(|k| k.valid(now, lifetime))?;
        let mut nonce = [0u8; aead::NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut out = Vec::with_capacity(HEADER + plain.len() + aead::AES_256_GCM.tag_len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key.rev.to_be_bytes());
        out.extend_from_slice(&nonce);
        let aad = Self::aad(&out[..8], binding);
        let mut body = plain.to_vec();
        key.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                &mut body,
            )
            .ok()?;
        out.extend_from_slice(&body);
        Some(out)
    }

    /// Decrypts a ticket made by a key that is still valid; `None` for anything else.
    fn decrypt_at(
        &self,
        ticket: &[u8],
        lifetime: u32,
        binding: &Binding,
        now: Instant,
    ) -> Option<Vec<u8>> {
        let keys = self.read();
        if keys.is_empty() {
            let p = self.auto.decrypt(ticket)?;
            return (p.len() >= BINDING_LEN && p[..BINDING_LEN] == binding[..])
                .then(|| p[BINDING_LEN..].to_vec());
        }
        if ticket.len() < HEADER + aead::AES_256_GCM.tag_len() || &ticket[..4] != MAGIC {
            return None;
        }
        let rev = u32::from_be_bytes(ticket[4..8].try_into().ok()?);
        let key = keys.iter().find(|k| k.rev == rev && k.valid(now, lifetime))?;
        let nonce = Nonce::try_assume_unique_for_key(&ticket[8..HEADER]).ok()?;
        let aad = Self::aad(&ticket[..8], binding);
        let mut body = ticket[HEADER..].to_vec();
        let plain = key.aead.open_in_place(nonce, Aad::from(&aad[..]), &mut body).ok()?;
        Some(plain.to_vec())
    }
}

/// The ticket keys as one config generation uses them: with its session lifetime and
/// binding.
#[derive(Debug)]
pub struct Ticketer {
    keys: Arc<TicketKeys>,
    lifetime: u32,
    binding: Binding,
}

impl Ticketer {
    /// The keys with a generation's lifetime (seconds) and binding.
    pub fn new(keys: Arc<TicketKeys>, lifetime: u32, binding: Binding) -> Self {
        Self { keys, lifetime, binding }
    }
}

impl ProducesTickets for Ticketer {
    fn enabled(&self) -> bool {
        true
    }
    fn lifetime(&self) -> u32 {
        self.lifetime
    }
    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.keys.encrypt_at(plain, self.lifetime, &self.binding, Instant::now())
    }
    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        self.keys.decrypt_at(cipher, self.lifetime, &self.binding, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: Binding = [0; BINDING_LEN];

    #[test]
    fn the_newest_encrypts_older_ones_decrypt_until_they_expire() {
        let t0 = Instant::now();
        let keys = TicketKeys::new().unwrap();
        keys.add_at(1, &[1; 48], t0).unwrap();
        let old = keys.encrypt_at(b"one", 100, &CTX, t0).unwrap();
        assert_eq!(&old[..8], b"nbt2\0\0\0\x01");
        keys.add_at(2, &[2; 48], t0 + Duration::from_secs(50)).unwrap();
        let new = keys.encrypt_at(b"two", 100, &CTX, t0 + Duration::from_secs(60)).unwrap();
        assert_eq!(&new[4..8], &2u32.to_be_bytes());
        assert_eq!(keys.decrypt_at(&old, 100, &CTX, t0 + Duration::from_secs(60)).unwrap(), b"one");
        assert_eq!(keys.decrypt_at(&new, 100, &CTX, t0 + Duration::from_secs(60)).unwrap(), b"two");
        // Key 1 has expired, key 2 has not.
        assert!(keys.decrypt_at(&old, 100, &CTX, t0 + Duration::from_secs(101)).is_none());
        assert!(keys.decrypt_at(&new, 100, &CTX, t0 + Duration::from_secs(101)).is_some());
        // With the newest key expired no ticket is issued.
        assert!(keys.encrypt_at(b"x", 100, &CTX, t0 + Duration::from_secs(151)).is_none());
        // Another binding does not decrypt.
        assert!(keys.decrypt_at(&new, 100, &[1; BINDING_LEN], t0).is_none());
    }

    #[test]
    fn duplicates_and_the_limit() {
        let keys = TicketKeys::new().unwrap();
        assert!(keys.add(1, &[0; 47]).is_err());
        keys.add(1, &[1; 48]).unwrap();
        keys.add(1, &[1; 48]).unwrap(); // the newest again: a no-op
        assert!(keys.add(1, &[9; 48]).is_err());
        keys.add(2, &[2; 48]).unwrap();
        assert!(keys.add(1, &[1; 48]).is_err()); // no longer the newest
        for rev in 3..=6 {
            keys.add(rev, &[rev as u8; 48]).unwrap();
        }
        assert_eq!(keys.read().len(), MAX_KEYS);
        assert!(keys.read().iter().all(|k| k.rev >= 3));
    }

    #[test]
    fn two_configs_with_one_key_share_tickets() {
        let a = TicketKeys::new().unwrap();
        let b = TicketKeys::new().unwrap();
        let c = TicketKeys::new().unwrap();
        a.add(7, &[7; 48]).unwrap();
        b.add(7, &[7; 48]).unwrap();
        c.add(7, &[8; 48]).unwrap();
        let now = Instant::now();
        let t = a.encrypt_at(b"session", 60, &CTX, now).unwrap();
        assert_eq!(b.decrypt_at(&t, 60, &CTX, now).unwrap(), b"session");
        assert!(c.decrypt_at(&t, 60, &CTX, now).is_none());
    }

    #[test]
    fn a_ticket_opens_only_under_its_binding() {
        let now = Instant::now();
        let other: Binding = [1; BINDING_LEN];
        // The automatic key: the binding travels inside the encrypted ticket.
        let auto = TicketKeys::new().unwrap();
        let t = auto.encrypt_at(b"session", 60, &CTX, now).unwrap();
        assert_eq!(auto.decrypt_at(&t, 60, &CTX, now).unwrap(), b"session");
        assert!(auto.decrypt_at(&t, 60, &other, now).is_none());
        // An added key: the binding is additional data.
        let keys = TicketKeys::new().unwrap();
        keys.add(1, &[1; 48]).unwrap();
        let t = keys.encrypt_at(b"session", 60, &CTX, now).unwrap();
        assert!(keys.decrypt_at(&t, 60, &other, now).is_none());
        // A ticket of the format before the binding ("nbt1", the session ID context as
        // additional data) under the same key: refused, so a full handshake follows.
        let mut old = b"nbt1\0\0\0\x01".to_vec();
        old.extend_from_slice(&[9; aead::NONCE_LEN]);
        let mut body = b"session".to_vec();
        let aad = TicketKeys::aad(&old[..8], &[0; SESSION_ID_SIZE]);
        let nonce = Nonce::assume_unique_for_key([9; aead::NONCE_LEN]);
        keys.read()[0]
            .aead
            .seal_in_place_append_tag(nonce, Aad::from(&aad[..]), &mut body)
            .unwrap();
        old.extend_from_slice(&body);
        assert!(keys.decrypt_at(&old, 60, &CTX, now).is_none());
        old[..4].copy_from_slice(MAGIC);
        assert!(keys.decrypt_at(&old, 60, &CTX, now).is_none());
    }
}
