//! The hybrid post-quantum key exchange X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem,
//! codepoint 0x11EC): ML-KEM-768 (FIPS 203) from libcrux-ml-kem, X25519 from ring through
//! rustls's ring provider. TLS 1.3 only. The ML-KEM part comes first, then X25519, in both
//! key shares and in the shared secret.
//!
//! A client's share is the ML-KEM encapsulation key and its X25519 public key (1,216 bytes);
//! the same X25519 key is offered alone as the X25519 share (`hybrid_component`), so a
//! classical server needs no HelloRetryRequest. A server's share is the ML-KEM ciphertext and
//! its X25519 public key (1,120 bytes). Every malformed share is `InvalidKeyShare`, which
//! rustls answers with illegal_parameter; a corrupt ciphertext of the right length is not
//! detectable (FIPS 203 implicit rejection): the secrets then differ and the handshake fails
//! when the client cannot decrypt the server's Finished.
use libcrux_ml_kem::mlkem768::{self, MlKem768Ciphertext, MlKem768PrivateKey, MlKem768PublicKey};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::crypto::ring::kx_group::X25519;
use rustls::crypto::{ActiveKeyExchange, CompletedKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved, ProtocolVersion};

/// X25519MLKEM768, for a provider's `kx_groups`.
pub static X25519MLKEM768: &dyn SupportedKxGroup = &Hybrid;

/// ML-KEM-768 encapsulation key length (FIPS 203: 384·k + 32, k = 3).
pub(crate) const MLKEM768_EK_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length.
pub(crate) const MLKEM768_CT_LEN: usize = 1088;
const X25519_LEN: usize = 32;
/// The client's key share: encapsulation key, then X25519 public key.
pub(crate) const CLIENT_SHARE_LEN: usize = MLKEM768_EK_LEN + X25519_LEN;
/// The server's key share: ciphertext, then X25519 public key.
pub(crate) const SERVER_SHARE_LEN: usize = MLKEM768_CT_LEN + X25519_LEN;
/// The shared secret: ML-KEM's 32 bytes, then X25519's 32.
#[cfg(test)]
pub(crate) const SECRET_LEN: usize = 64;

#[derive(Debug)]
struct Hybrid;

fn invalid_share() -> Error {
    PeerMisbehaved::InvalidKeyShare.into()
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).map_err(|_| Error::FailedToGetRandomBytes)?;
    Ok(b)
}

fn joined(mlkem: &[u8], x25519: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(mlkem.len() + x25519.len());
    v.extend_from_slice(mlkem);
    v.extend_from_slice(x25519);
    v
}

/// FIPS 203 §7.2's encapsulation key check: every 12-bit coefficient of the encoded vector
/// is below q = 3329 (the "modulus check"), and the key has its exact length.
pub fn encapsulation_key_ok(ek: &[u8]) -> Option<MlKem768PublicKey> {
    let ek = MlKem768PublicKey::try_from(ek).ok()?;
    mlkem768::validate_public_key(&ek).then_some(ek)
}

impl SupportedKxGroup for Hybrid {
    /// A client's hybrid share: a fresh ML-KEM-768 key pair and a fresh X25519 key.
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let x25519 = X25519.start()?;
        let (dk, ek) = mlkem768::generate_key_pair(random::<64>()?).into_parts();
        let pub_key = joined(ek.as_slice(), x25519.pub_key());
        Ok(Box::new(ClientKx { x25519, dk, pub_key }))
    }

    /// A server's side, in one step: a KEM's reply depends on the client's share, so the
    /// trait's start-then-complete default cannot be used.
    fn start_and_complete(&self, client_share: &[u8]) -> Result<CompletedKeyExchange, Error> {
        if client_share.len() != CLIENT_SHARE_LEN {
            return Err(invalid_share());
        }
        let (ek, x_peer) = client_share.split_at(MLKEM768_EK_LEN);
        let ek = encapsulation_key_ok(ek).ok_or_else(invalid_share)?;
        let x = X25519.start_and_complete(x_peer)?;
        let (ct, ss) = mlkem768::encapsulate(&ek, random::<32>()?);
        Ok(CompletedKeyExchange {
            group: self.name(),
            pub_key: joined(ct.as_slice(), &x.pub_key),
            secret: SharedSecret::from(joined(&ss, x.secret.secret_bytes())),
        })
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }

    /// TLS 1.3 only: a TLS 1.2 server must never pick it for ECDHE.
    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        version == ProtocolVersion::TLSv1_3
    }
}

/// A client's key exchange in progress: the ML-KEM decapsulation key and the X25519 key that
/// serves both the hybrid and the separate X25519 share.
struct ClientKx {
    x25519: Box<dyn ActiveKeyExchange>,
    dk: MlKem768PrivateKey,
    pub_key: Vec<u8>,
}

impl ActiveKeyExchange for ClientKx {
    /// The server chose the hybrid.
    fn complete(self: Box<Self>, server_share: &[u8]) -> Result<SharedSecret, Error> {
        if server_share.len() != SERVER_SHARE_LEN {
            return Err(invalid_share());
        }
        let (ct, x_peer) = server_share.split_at(MLKEM768_CT_LEN);
        let ct = MlKem768Ciphertext::try_from(ct).map_err(|_| invalid_share())?;
        let x = self.x25519.complete(x_peer)?;
        let ss = mlkem768::decapsulate(&self.dk, &ct);
        Ok(SharedSecret::from(joined(&ss, x.secret_bytes())))
    }

    fn hybrid_component(&self) -> Option<(NamedGroup, &[u8])> {
        Some((NamedGroup::X25519, self.x25519.pub_key()))
    }

    /// The server chose the X25519 share: the ML-KEM key is dropped unused.
    fn complete_hybrid_component(
        self: Box<Self>,
        server_share: &[u8],
    ) -> Result<SharedSecret, Error> {
        self.x25519.complete(server_share)
    }

    fn pub_key(&self) -> &[u8] {
        &self.pub_key
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519MLKEM768
    }
}

/// Sets coefficient `i` of the encoded key's vector to `v` (12-bit little-endian packing).
#[cfg(test)]
pub(crate) fn set_coefficient(ek: &mut [u8], i: usize, v: u16) {
    let at = i / 2 * 3;
    if i % 2 == 0 {
        ek[at] = v as u8;
        ek[at + 1] = (ek[at + 1] & 0xf0) | ((v >> 8) as u8 & 0x0f);
    } else {
        ek[at + 1] = (ek[at + 1] & 0x0f) | ((v as u8 & 0x0f) << 4);
        ek[at + 2] = (v >> 4) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_secret_have_the_draft_lengths() {
        let client = X25519MLKEM768.start().unwrap();
        assert_eq!(client.pub_key().len(), CLIENT_SHARE_LEN);
        assert_eq!(CLIENT_SHARE_LEN, 1216);
        assert_eq!(SERVER_SHARE_LEN, 1120);
        let (group, x) = client.hybrid_component().unwrap();
        assert_eq!(group, NamedGroup::X25519);
        assert_eq!(x, &client.pub_key()[MLKEM768_EK_LEN..], "one X25519 key for both shares");
        let server = X25519MLKEM768.start_and_complete(client.pub_key()).unwrap();
        assert_eq!(server.group, NamedGroup::X25519MLKEM768);
        assert_eq!(server.pub_key.len(), SERVER_SHARE_LEN);
        let s = server.secret.secret_bytes().to_vec();
        assert_eq!(s.len(), SECRET_LEN);
        let c = client.complete(&server.pub_key).unwrap();
        assert_eq!(c.secret_bytes(), &s[..]);
    }

    #[test]
    fn the_x25519_component_alone_agrees_with_a_classical_server() {
        let client = X25519MLKEM768.start().unwrap();
        let (_, x) = client.hybrid_component().unwrap();
        let server = X25519.start_and_complete(x).unwrap();
        let c = client.complete_hybrid_component(&server.pub_key).unwrap();
        assert_eq!(c.secret_bytes(), server.secret.secret_bytes());
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// Known answers from kyber-py 1.2.0, an independent pure-Python FIPS 203
    /// implementation: ML_KEM_768._keygen_internal(d = 00..1f, z = 20..3f) and
    /// _encaps_internal(ek, m = 40..5f); the keys and ciphertext as SHA3-256 digests.
    /// (The crate's NIST/ACVP vectors run in the libcrux repository.)
    #[test]
    fn mlkem768_known_answers_match_an_independent_implementation() {
        let seed: [u8; 64] = std::array::from_fn(|i| i as u8);
        let m: [u8; 32] = std::array::from_fn(|i| 64 + i as u8);
        let kp = mlkem768::generate_key_pair(seed);
        let sha3 = |b: &[u8]| hex(&libcrux_sha3::sha256(b));
        assert_eq!(
            sha3(kp.pk()),
            "a24e16d8f8f9383a95b77050f4d9fd2f5733eec1d63ef3c23ebf9918173669a7"
        );
        assert_eq!(
            sha3(kp.sk()),
            "1149f17c3c4ac6ab1e3e2d9d8bd0171355ac0fa31bb8855c48ceade874c0864b"
        );
        let (ct, ss) = mlkem768::encapsulate(kp.public_key(), m);
        assert_eq!(
            sha3(ct.as_slice()),
            "b4cfbd24cef67afd3764276c6980e0f88f8e9ca57f59b7f12fe1a9c1e72f4710"
        );
        assert_eq!(hex(&ss), "9cddd089ffe70e3996e76f7c8d06746df34d07e8657bc0fcf2bb0e1c3084aea1");
        assert_eq!(mlkem768::decapsulate(kp.private_key(), &ct), ss);
        // Implicit rejection: the first ciphertext bit flipped gives kyber-py's J(z, c').
        let mut bad = *ct.as_slice();
        bad[0] ^= 1;
        let rejected = mlkem768::decapsulate(kp.private_key(), &MlKem768Ciphertext::from(bad));
        assert_eq!(
            hex(&rejected),
            "dcfc80c6db46ff7028e3a4398651c063ae7a42c107a6dc8cb07141861698ab92"
        );
    }

    #[test]
    fn tls13_only() {
        assert!(X25519MLKEM768.usable_for_version(ProtocolVersion::TLSv1_3));
        assert!(!X25519MLKEM768.usable_for_version(ProtocolVersion::TLSv1_2));
    }

    #[test]
    fn malformed_client_shares_are_invalid_key_shares() {
        let good = X25519MLKEM768.start().unwrap().pub_key().to_vec();
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("too long", [&good[..], &[0]].concat()),
            ("x25519 share only", good[MLKEM768_EK_LEN..].to_vec()),
        ];
        for (i, v) in [(0, 3329), (1, 3329), (255, 4095), (767, 3330)] {
            let mut ek = good.clone();
            set_coefficient(&mut ek, i, v);
            cases.push(("coefficient not below q", ek));
        }
        // X25519 low-order points: the all-zero secret is refused.
        let mut zero = good.clone();
        zero[MLKEM768_EK_LEN..].fill(0);
        cases.push(("x25519 zero point", zero));
        let mut one = good.clone();
        one[MLKEM768_EK_LEN..].fill(0);
        one[MLKEM768_EK_LEN] = 1;
        cases.push(("x25519 order-1 point", one));
        for (what, share) in cases {
            match X25519MLKEM768.start_and_complete(&share) {
                Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare)) => {}
                Err(e) => panic!("{what}: {e:?}"),
                Ok(_) => panic!("{what}: accepted"),
            }
        }
        // The largest legal coefficient passes the modulus check.
        let mut edge = good.clone();
        set_coefficient(&mut edge, 5, 3328);
        assert!(X25519MLKEM768.start_and_complete(&edge).is_ok());
    }

    #[test]
    fn malformed_server_shares_fail_and_corrupt_ciphertexts_change_the_secret() {
        let fresh = || X25519MLKEM768.start().unwrap();
        let client = fresh();
        let server = X25519MLKEM768.start_and_complete(client.pub_key()).unwrap();
        let good = server.pub_key.clone();
        for (what, share) in [
            ("truncated", good[..good.len() - 1].to_vec()),
            ("empty", vec![]),
            ("x25519 only", good[MLKEM768_CT_LEN..].to_vec()),
            ("x25519 zero point", [&good[..MLKEM768_CT_LEN], &[0u8; 32][..]].concat()),
        ] {
            let c = fresh();
            assert!(c.complete(&share).is_err(), "{what}: accepted");
        }
        // Implicit rejection: the right length decapsulates, to a different secret.
        let mut bad = good.clone();
        bad[100] ^= 1;
        let c = client.complete(&bad).unwrap();
        assert_ne!(c.secret_bytes(), server.secret.secret_bytes());
    }
}
