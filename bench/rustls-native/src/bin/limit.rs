//! The "limit": what ring itself does on one core, so each TLS figure can be read against
//! the crypto it cannot avoid.
//!
//! Usage: limit WORKLOAD CERTDIR SECONDS
//! - bulk_<aead>_<16k|1k>: AEAD seal + open of one TLS 1.3 record of that size (the sender
//!   seals, the receiver opens: both ends' crypto), in MB/s of plaintext.
//! - handshake_full_p256: 1 / (ECDSA P-256 sign + 2 verifies (leaf certificate and
//!   CertificateVerify) + 2 X25519 key generations and agreements).
//! - handshake_full_rsa2048: 1 / (RSA-PSS-2048 sign + RSA verify + 1 ECDSA verify (the CA's
//!   signature on the leaf) + 2 X25519).
//! - handshake_resumed: 1 / (2 X25519) (psk_dhe_ke).
//! - req_resp_us: seal + open of a 64-byte and of a 512-byte AES-256-GCM record (the suite
//!   every library negotiates by default), in microseconds.
//! - primitives: the raw rates those are made of (ecdsa_p256_sign, ..., x25519).
//!
//! Prints `RESULT <workload> <value> <unit> <higher_is_better>`, as the TLS harnesses do.
use std::hint::black_box;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::agreement;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;

extern "C" {
    fn clock_gettime(clk: i32, ts: *mut [i64; 2]) -> i32;
}

fn cpu() -> f64 {
    let mut ts = [0i64; 2];
    // SAFETY: clock_gettime writes a struct timespec (two longs on x86_64 Linux).
    unsafe { clock_gettime(2, &mut ts) };
    ts[0] as f64 + ts[1] as f64 * 1e-9
}

/// Seconds per call of `f`, measured for about `secs` of CPU time.
fn per_op(secs: f64, mut f: impl FnMut()) -> f64 {
    f();
    let t0 = cpu();
    let mut n = 0u64;
    while cpu() - t0 < secs || n < 4 {
        for _ in 0..8 {
            f();
        }
        n += 8;
    }
    (cpu() - t0) / n as f64
}

fn result(w: &str, v: f64, unit: &str, hib: bool) {
    println!("RESULT {w} {v:.3} {unit} {}", if hib { 1 } else { 0 });
}

/// Seconds to seal and open one record of `len` plaintext bytes.
fn seal_open(alg: &'static aead::Algorithm, len: usize, secs: f64) -> f64 {
    let key_bytes = vec![7u8; alg.key_len()];
    let key = LessSafeKey::new(UnboundKey::new(alg, &key_bytes).unwrap());
    let mut buf = vec![0x5au8; len + 1 + 16]; // plaintext, content type, tag
    let inner = len + 1;
    let mut seq = 0u64;
    per_op(secs, || {
        seq += 1;
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&seq.to_be_bytes());
        let hdr = [23u8, 3, 3, ((inner + 16) >> 8) as u8, (inner + 16) as u8];
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(n),
                Aad::from(hdr),
                &mut buf[..inner],
            )
            .unwrap();
        buf[inner..].copy_from_slice(tag.as_ref());
        let pt = key
            .open_in_place(Nonce::assume_unique_for_key(n), Aad::from(hdr), &mut buf)
            .unwrap();
        black_box(pt);
    })
}

struct Prims {
    secs: f64,
    rng: SystemRandom,
    dir: String,
}

impl Prims {
    fn key(&self, file: &str) -> Vec<u8> {
        match PrivateKeyDer::from_pem_file(format!("{}/{file}", self.dir)).unwrap() {
            PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
            _ => panic!("{file}: not PKCS#8"),
        }
    }

    const MSG: [u8; 130] = [0x20; 130]; // the size of a TLS 1.3 CertificateVerify input

    fn ecdsa(&self) -> (f64, f64) {
        let alg = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let kp = EcdsaKeyPair::from_pkcs8(alg, &self.key("server.key"), &self.rng).unwrap();
        let sig = kp.sign(&self.rng, &Self::MSG).unwrap();
        let pk = UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_ASN1,
            kp.public_key().as_ref().to_vec(),
        );
        let sign = per_op(self.secs, || {
            black_box(kp.sign(&self.rng, &Self::MSG).unwrap());
        });
        let verify = per_op(self.secs, || pk.verify(&Self::MSG, sig.as_ref()).unwrap());
        (sign, verify)
    }

    fn rsa(&self) -> (f64, f64) {
        let kp = RsaKeyPair::from_pkcs8(&self.key("server-rsa.key")).unwrap();
        let mut sig = vec![0u8; kp.public().modulus_len()];
        kp.sign(&signature::RSA_PSS_SHA256, &self.rng, &Self::MSG, &mut sig)
            .unwrap();
        let pk = UnparsedPublicKey::new(
            &signature::RSA_PSS_2048_8192_SHA256,
            kp.public().as_ref().to_vec(),
        );
        let mut out = sig.clone();
        let sign = per_op(self.secs, || {
            kp.sign(&signature::RSA_PSS_SHA256, &self.rng, &Self::MSG, &mut out)
                .unwrap();
        });
        let verify = per_op(self.secs, || pk.verify(&Self::MSG, &sig).unwrap());
        (sign, verify)
    }

    /// One side's X25519: generate, compute the public key, agree with the peer's.
    fn x25519(&self) -> f64 {
        let peer = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &self.rng).unwrap();
        let peer_pub = peer.compute_public_key().unwrap();
        per_op(self.secs, || {
            let k =
                agreement::EphemeralPrivateKey::generate(&agreement::X25519, &self.rng).unwrap();
            black_box(k.compute_public_key().unwrap());
            let pp = agreement::UnparsedPublicKey::new(&agreement::X25519, peer_pub.as_ref());
            agreement::agree_ephemeral(k, &pp, |s| black_box(s[0])).unwrap();
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: limit WORKLOAD CERTDIR SECONDS");
        std::process::exit(2);
    }
    let w = args[1].as_str();
    let secs: f64 = args[3].parse().unwrap();
    let p = Prims {
        secs: secs / 4.0,
        rng: SystemRandom::new(),
        dir: args[2].clone(),
    };
    match w {
        "handshake_full_p256" => {
            let ((s, v), kx) = (p.ecdsa(), p.x25519());
            result(w, 1.0 / (s + 2.0 * v + 2.0 * kx), "per_s", true);
            result("ecdsa_p256_sign", 1.0 / s, "per_s", true);
            result("ecdsa_p256_verify", 1.0 / v, "per_s", true);
            result("x25519", 1.0 / kx, "per_s", true);
        }
        "handshake_full_rsa2048" => {
            let ((s, v), (_, ev), kx) = (p.rsa(), p.ecdsa(), p.x25519());
            result(w, 1.0 / (s + v + ev + 2.0 * kx), "per_s", true);
            result("rsa2048_sign", 1.0 / s, "per_s", true);
            result("rsa2048_verify", 1.0 / v, "per_s", true);
        }
        // The CA count and the keypair count change no signature or key exchange.
        "handshake_full_ca150" | "handshake_full_sni50" => {
            let ((s, v), kx) = (p.ecdsa(), p.x25519());
            result(w, 1.0 / (s + 2.0 * v + 2.0 * kx), "per_s", true);
        }
        // A client certificate adds the client's signature and the server's two verifies.
        "handshake_full_mtls" | "handshake_full_mtls_ca150" => {
            let ((s, v), kx) = (p.ecdsa(), p.x25519());
            result(w, 1.0 / (2.0 * s + 4.0 * v + 2.0 * kx), "per_s", true);
        }
        "handshake_resumed" | "handshake_resumed_aes256" => result(w, 1.0 / (2.0 * p.x25519()), "per_s", true),
        "req_resp_us" => {
            let t = seal_open(&aead::AES_256_GCM, 64, secs / 2.0)
                + seal_open(&aead::AES_256_GCM, 512, secs / 2.0);
            result(w, t * 1e6, "us", false);
        }
        // One 16 KiB record in the default suite (AES-256-GCM, as every library negotiates).
        "bulk_record_16k" | "bulk_record_16k_ra" => result(
            w,
            16384.0 / seal_open(&aead::AES_256_GCM, 16384, secs) / 1e6,
            "MB_s",
            true,
        ),
        "latency_tcp_ms" => println!("SKIP latency_tcp_ms no limit for waiting"),
        _ if w.starts_with("bulk_") => {
            let alg = match w.split('_').nth(1) {
                Some("aes128gcm") => &aead::AES_128_GCM,
                Some("aes256gcm") => &aead::AES_256_GCM,
                Some("chacha20") => &aead::CHACHA20_POLY1305,
                _ => panic!("unknown workload {w}"),
            };
            let len = if w.ends_with("_1k") { 1024 } else { 16384 };
            result(
                w,
                len as f64 / seal_open(alg, len, secs) / 1e6,
                "MB_s",
                true,
            );
        }
        "mem_per_conn" => println!("SKIP mem_per_conn no limit for memory"),
        _ if w.ends_with("_2t") || w.ends_with("_1t_wall") || w == "idle_10k" => {
            println!("SKIP {w} no limit for scaling or memory")
        }
        _ => {
            eprintln!("unknown workload {w}");
            std::process::exit(2);
        }
    }
}
