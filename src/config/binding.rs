//! What a server's resumable sessions are bound to: a SHA-256 digest of the settings a full
//! handshake would enforce on the client, carried in every ticket and in the key of every
//! cached TLS 1.2 session, so that a session made under one set of settings resumes only
//! under the same set. Without it, listeners sharing ticket keys (or one `tls_config`
//! reconfigured, whose generations share the automatic key and the session cache) resume
//! each other's sessions, and a session made where no client certificate was required
//! resumes where one is (nginx CVE-2025-23419). README "Server resumption" specifies it.
use std::sync::Arc;

use ring::digest::{Context, SHA256};
use rustls::pki_types::CertificateRevocationListDer;
use rustls::server::{ServerSessionMemoryCache, StoresServerSessions};
use rustls::RootCertStore;

use super::{ClientAuth, Settings};

/// The length of a binding (private: cbindgen would put a public constant in the header).
const SIZE: usize = 32;

/// A binding: the digest of [`digest`].
pub type Binding = [u8; SIZE];

/// The first input of every binding; a new meaning of the digest gets a new label.
const LABEL: &[u8] = b"nbtls resumption binding v1\0";

/// The binding of a server config built from `s`: SHA-256 over [`LABEL`], the session ID
/// context, the client-auth mode, and, when a client certificate is asked for, the verify
/// depth, the three insecure flags, the client CA trust anchors (as a set) and the CRLs (as
/// a set). `client` holds the anchors and CRLs the client verifier is built from; it is
/// `None` exactly when `s.client_auth` is off, and then no certificate is verified, so
/// nothing more plays a part.
pub fn digest(
    s: &Settings,
    client: Option<(&RootCertStore, &[CertificateRevocationListDer<'_>])>,
) -> Binding {
    let mut h = Context::new(&SHA256);
    h.update(LABEL);
    h.update(&s.session_id);
    let mode: u8 = match s.client_auth {
        ClientAuth::Off => 0,
        ClientAuth::Required => 1,
        ClientAuth::Optional => 2,
    };
    h.update(&[mode]);
    if let (ClientAuth::Required | ClientAuth::Optional, Some((roots, crls))) =
        (s.client_auth, client)
    {
        h.update(&(s.verify_depth.max(0) as u64).to_be_bytes());
        h.update(&[u8::from(s.checks.cert), u8::from(s.checks.name), u8::from(s.checks.time)]);
        let anchors = roots.roots.iter().map(|a| {
            let mut e = Vec::new();
            put(&mut e, &a.subject);
            put(&mut e, &a.subject_public_key_info);
            match &a.name_constraints {
                Some(nc) => {
                    e.push(1);
                    put(&mut e, nc);
                }
                None => e.push(0),
            }
            e
        });
        put_set(&mut h, anchors.collect());
        put_set(&mut h, crls.iter().map(|c| c.as_ref().to_vec()).collect());
    }
    let d = h.finish();
    let mut out = [0u8; SIZE];
    out.copy_from_slice(d.as_ref());
    out
}

/// Appends `b` with its length (4 bytes, big-endian) in front.
fn put(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Hashes a set: its size, then each member, length-prefixed, in sorted order (so the order
/// of a CA file or directory does not matter).
fn put_set(h: &mut Context, mut members: Vec<Vec<u8>>) {
    members.sort();
    members.dedup();
    h.update(&(members.len() as u32).to_be_bytes());
    for m in &members {
        h.update(&(m.len() as u32).to_be_bytes());
        h.update(m);
    }
}

/// The server's session-ID cache as one config generation uses it: entries are stored and
/// found under the binding followed by the session ID, so a session cached under other
/// settings is not found (a full handshake follows).
#[derive(Debug)]
pub struct BoundSessions {
    inner: Arc<ServerSessionMemoryCache>,
    binding: Binding,
}

impl BoundSessions {
    /// The shared cache `inner` as seen under `binding`.
    pub fn new(inner: Arc<ServerSessionMemoryCache>, binding: Binding) -> Self {
        Self { inner, binding }
    }

    fn key(&self, id: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(SIZE + id.len());
        k.extend_from_slice(&self.binding);
        k.extend_from_slice(id);
        k
    }
}

impl StoresServerSessions for BoundSessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.inner.put(self.key(&key), value)
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.get(&self.key(key))
    }
    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.take(&self.key(key))
    }
    fn can_cache(&self) -> bool {
        self.inner.can_cache()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{Der, TrustAnchor};

    fn anchor(subject: &[u8], spki: &[u8]) -> TrustAnchor<'static> {
        TrustAnchor {
            subject: Der::from(subject.to_vec()),
            subject_public_key_info: Der::from(spki.to_vec()),
            name_constraints: None,
        }
    }

    fn store(anchors: &[&TrustAnchor<'static>]) -> RootCertStore {
        let mut r = RootCertStore::empty();
        r.roots.extend(anchors.iter().map(|a| (*a).clone()));
        r
    }

    fn crl(b: &[u8]) -> CertificateRevocationListDer<'static> {
        CertificateRevocationListDer::from(b.to_vec())
    }

    #[test]
    fn every_setting_a_full_handshake_enforces_changes_the_binding() {
        let (a, b) = (anchor(b"CN=A", b"key A"), anchor(b"CN=B", b"key B"));
        let roots = store(&[&a]);
        let required = Settings { client_auth: ClientAuth::Required, ..Settings::default() };
        let base = digest(&required, Some((&roots, &[])));

        let mut seen = vec![digest(&Settings::default(), None), base];
        let mut differs = |d: Binding, what: &str| {
            assert!(!seen.contains(&d), "{what} does not change the binding");
            seen.push(d);
        };
        let optional = Settings { client_auth: ClientAuth::Optional, ..required.clone() };
        differs(digest(&optional, Some((&roots, &[]))), "optional");
        differs(digest(&required, Some((&store(&[&b]), &[]))), "another CA");
        differs(digest(&required, Some((&store(&[&a, &b]), &[]))), "one CA more");
        let mut constrained = a.clone();
        constrained.name_constraints = Some(Der::from(b"nc".to_vec()));
        differs(digest(&required, Some((&store(&[&constrained]), &[]))), "name constraints");
        differs(digest(&required, Some((&roots, &[crl(b"crl 1")]))), "a CRL");
        differs(digest(&required, Some((&roots, &[crl(b"crl 1"), crl(b"crl 2")]))), "CRLs");
        let depth = Settings { verify_depth: 1, ..required.clone() };
        differs(digest(&depth, Some((&roots, &[]))), "verify depth");
        for (i, what) in ["noverifycert", "noverifyname", "noverifytime"].iter().enumerate() {
            let mut s = required.clone();
            let flag = [&mut s.checks.cert, &mut s.checks.name, &mut s.checks.time];
            *flag.into_iter().nth(i).unwrap() = false;
            differs(digest(&s, Some((&roots, &[]))), what);
        }
        let mut id = required.clone();
        id.session_id[0] = 1;
        differs(digest(&id, Some((&roots, &[]))), "session ID context");
        let mut id_off = Settings::default();
        id_off.session_id[0] = 1;
        differs(digest(&id_off, None), "session ID context without client auth");
    }

    #[test]
    fn sets_are_sets_and_unused_settings_do_not_count() {
        let (a, b) = (anchor(b"CN=A", b"key A"), anchor(b"CN=B", b"key B"));
        let required = Settings { client_auth: ClientAuth::Required, ..Settings::default() };
        let (c1, c2) = (crl(b"crl 1"), crl(b"crl 2"));
        assert_eq!(
            digest(&required, Some((&store(&[&a, &b]), &[c1.clone(), c2.clone()]))),
            digest(&required, Some((&store(&[&b, &a]), &[c2, c1]))),
        );
        // Without client authentication no certificate is verified: depth and flags are moot.
        let off = Settings::default();
        let other = Settings { verify_depth: 1, ..Settings::default() };
        assert_eq!(digest(&off, None), digest(&other, None));
    }

    #[test]
    fn the_cache_finds_a_session_only_under_its_binding() {
        let cache = ServerSessionMemoryCache::new(8);
        let (x, y) =
            (BoundSessions::new(cache.clone(), [1; SIZE]), BoundSessions::new(cache, [2; SIZE]));
        assert!(x.put(b"id".to_vec(), b"session".to_vec()));
        assert!(y.get(b"id").is_none() && y.take(b"id").is_none());
        assert_eq!(x.get(b"id").unwrap(), b"session");
        assert_eq!(x.take(b"id").unwrap(), b"session");
    }
}
