//! Secure defaults as data: versions, the ring provider, protocol bit values.
use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite, kx_group, ALL_CIPHER_SUITES};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::{ProtocolVersion, SupportedCipherSuite, SupportedProtocolVersion};

/// libtls's `TLS_PROTOCOL_TLSv1_0`.
pub const PROTO_TLS1_0: u32 = 1 << 1;
/// libtls's `TLS_PROTOCOL_TLSv1_1`.
pub const PROTO_TLS1_1: u32 = 1 << 2;
/// libtls's `TLS_PROTOCOL_TLSv1_2`.
pub const PROTO_TLS1_2: u32 = 1 << 3;
/// libtls's `TLS_PROTOCOL_TLSv1_3`.
pub const PROTO_TLS1_3: u32 = 1 << 4;
/// Every protocol libtls names.
pub const PROTOCOLS_ALL: u32 = PROTO_TLS1_0 | PROTO_TLS1_1 | PROTO_TLS1_2 | PROTO_TLS1_3;
/// The default: TLS 1.2 and 1.3.
pub const PROTOCOLS_DEFAULT: u32 = PROTO_TLS1_2 | PROTO_TLS1_3;

/// The key exchange groups, in preference order: X25519MLKEM768 (hybrid post-quantum, TLS 1.3
/// only), X25519, P-256, P-384. Pinned here, never taken from rustls's defaults, which
/// change between releases (0.23.48 put P-384 first).
pub fn kx_groups() -> Vec<&'static dyn SupportedKxGroup> {
    vec![crate::kx::X25519MLKEM768, kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1]
}

/// The cipher suites, in preference order. TLS 1.3: AES-128-GCM with SHA-256 first, then
/// AES-256-GCM with SHA-384, then ChaCha20-Poly1305, as BoringSSL and Go order them: a
/// TLS 1.3 handshake is mostly key schedule (HKDF), and SHA-256 runs in hardware on
/// current x86 and ARMv8 CPUs where SHA-384 does not, so a resumed handshake costs about a
/// sixth less; AES-128 matches the 128-bit security of X25519 and P-256. TLS 1.2 keeps
/// rustls's order (its PRF runs a few times per handshake, not the whole key schedule).
/// Pinned here, like the groups.
pub fn cipher_suites() -> Vec<SupportedCipherSuite> {
    let mut v = vec![
        cipher_suite::TLS13_AES_128_GCM_SHA256,
        cipher_suite::TLS13_AES_256_GCM_SHA384,
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ];
    v.extend(
        ALL_CIPHER_SUITES
            .iter()
            .copied()
            .filter(|s| s.version().version != ProtocolVersion::TLSv1_3),
    );
    v
}

/// The crypto provider every config uses: ring for everything but ML-KEM, our key exchange
/// groups, passed explicitly (never process-wide). Built once.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: once_cell::sync::OnceCell<Arc<CryptoProvider>> =
        once_cell::sync::OnceCell::new();
    PROVIDER
        .get_or_init(|| {
            // rustls 0.23.48 deprecates ring's default_provider() (no post-quantum groups) yet
            // offers ring's random source and key loader only through it; the groups it
            // brings are replaced.
            #[expect(deprecated)]
            let ring = rustls::crypto::ring::default_provider();
            Arc::new(CryptoProvider {
                kx_groups: kx_groups(),
                cipher_suites: cipher_suites(),
                ..ring
            })
        })
        .clone()
}

/// The rustls versions enabled by a libtls protocol mask; TLS 1.0/1.1 bits are ignored
/// (rustls has neither), so a mask naming only those enables nothing.
pub fn versions(mask: u32) -> Vec<&'static SupportedProtocolVersion> {
    let mut v = Vec::new();
    if mask & PROTO_TLS1_3 != 0 {
        v.push(&rustls::version::TLS13);
    }
    if mask & PROTO_TLS1_2 != 0 {
        v.push(&rustls::version::TLS12);
    }
    v
}

/// Parses libtls's protocol string as libtls 3.7's `tls_config_parse_protocols` does:
/// elements separated by commas or colons, leading blanks skipped, names compared without
/// case ("all"/"legacy", "default"/"secure", "tlsv1", "tlsv1.0" … "tlsv1.3"), a leading "!"
/// removes. A negation that meets an empty set starts from all protocols, so "!tlsv1.0" is
/// every protocol but 1.0. An empty string, an empty element, a "-" or "+" prefix or an
/// unknown name is `None`.
pub fn parse_protocols(s: &str) -> Option<u32> {
    let mut mask = 0u32;
    for tok in s.split([',', ':']) {
        let tok = tok.trim_start_matches([' ', '\t']);
        let (neg, name) = match tok.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, tok),
        };
        if neg && mask == 0 {
            mask = PROTOCOLS_ALL;
        }
        let bits = match name.to_ascii_lowercase().as_str() {
            "all" | "legacy" => PROTOCOLS_ALL,
            "default" | "secure" => PROTOCOLS_DEFAULT,
            "tlsv1" => PROTOCOLS_ALL,
            "tlsv1.0" => PROTO_TLS1_0,
            "tlsv1.1" => PROTO_TLS1_1,
            "tlsv1.2" => PROTO_TLS1_2,
            "tlsv1.3" => PROTO_TLS1_3,
            _ => return None,
        };
        if neg {
            mask &= !bits;
        } else {
            mask |= bits;
        }
    }
    Some(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_strings_follow_libtls() {
        assert_eq!(parse_protocols("secure"), Some(PROTOCOLS_DEFAULT));
        assert_eq!(parse_protocols("tlsv1.3"), Some(PROTO_TLS1_3));
        assert_eq!(parse_protocols("TLSv1.2"), Some(PROTO_TLS1_2));
        assert_eq!(parse_protocols("all,!tlsv1.0,!tlsv1.1"), Some(PROTO_TLS1_2 | PROTO_TLS1_3));
        assert_eq!(parse_protocols("tlsv1.2:tlsv1.3"), Some(PROTOCOLS_DEFAULT));
        assert_eq!(parse_protocols("tlsv1.2, tlsv1.3"), Some(PROTOCOLS_DEFAULT));
        assert_eq!(parse_protocols("tlsv1"), Some(PROTOCOLS_ALL));
        assert_eq!(parse_protocols("legacy"), Some(PROTOCOLS_ALL));
        assert_eq!(parse_protocols("sslv3"), None);
        assert!(versions(PROTO_TLS1_0 | PROTO_TLS1_1).is_empty());
    }

    /// The cases of LibreSSL's regress/lib/libtls/config (configtest.c) and tls_config.c.
    #[test]
    fn protocol_strings_as_libtls_parses_them() {
        // A negation that meets an empty set starts from all protocols.
        assert_eq!(parse_protocols("!tlsv1.0"), Some(PROTOCOLS_ALL & !PROTO_TLS1_0));
        assert_eq!(parse_protocols("!tlsv1.0,!tlsv1.1,!tlsv1.3"), Some(PROTO_TLS1_2));
        assert_eq!(parse_protocols("!tlsv1.0:!tlsv1.1"), Some(PROTOCOLS_DEFAULT));
        assert_eq!(parse_protocols("tlsv1.2,!tlsv1.2"), Some(0));
        // A negation after the set emptied starts from all again, as in libtls.
        assert_eq!(
            parse_protocols("tlsv1.2,!tlsv1.2,!tlsv1.3"),
            Some(PROTOCOLS_ALL & !PROTO_TLS1_3)
        );
        assert_eq!(parse_protocols("!all"), Some(0));
        // Empty strings and empty elements are errors, so are '-' and '+' and trailing blanks.
        for bad in [
            "",
            ",",
            "tlsv1.2,",
            ",tlsv1.2",
            "tlsv1.2,,tlsv1.3",
            "-tlsv1.0",
            "+tlsv1.2",
            "tlsv1.2 ",
            "!",
            "tlsv1.4",
            "tlsv1.2;tlsv1.3",
        ] {
            assert_eq!(parse_protocols(bad), None, "{bad:?}");
        }
    }
}
