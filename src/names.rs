//! OpenSSL-style names for what rustls negotiated (libtls reports OpenSSL's names).
use rustls::{CipherSuite, Connection, NamedGroup, ProtocolVersion};

/// (version, cipher, key bits) of a connection whose handshake is complete.
pub fn suite(tls: &Connection) -> (&'static str, &'static str, i32) {
    let version = match tls.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "unknown",
    };
    let (cipher, bits) = match tls.negotiated_cipher_suite().map(|s| s.suite()) {
        Some(s) => openssl_name(s),
        None => ("unknown", 0),
    };
    (version, cipher, bits)
}

/// The OpenSSL name and symmetric key bits of a rustls suite.
pub fn openssl_name(s: CipherSuite) -> (&'static str, i32) {
    use CipherSuite as C;
    match s {
        C::TLS13_AES_128_GCM_SHA256 => ("TLS_AES_128_GCM_SHA256", 128),
        C::TLS13_AES_256_GCM_SHA384 => ("TLS_AES_256_GCM_SHA384", 256),
        C::TLS13_CHACHA20_POLY1305_SHA256 => ("TLS_CHACHA20_POLY1305_SHA256", 256),
        C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => ("ECDHE-ECDSA-AES128-GCM-SHA256", 128),
        C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => ("ECDHE-ECDSA-AES256-GCM-SHA384", 256),
        C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => ("ECDHE-ECDSA-CHACHA20-POLY1305", 256),
        C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => ("ECDHE-RSA-AES128-GCM-SHA256", 128),
        C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => ("ECDHE-RSA-AES256-GCM-SHA384", 256),
        C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => ("ECDHE-RSA-CHACHA20-POLY1305", 256),
        _ => ("unknown", 0),
    }
}

/// The name of the key exchange group a connection used, as OpenSSL and LibreSSL spell it
/// ("X25519MLKEM768", "X25519", "P-256", "P-384"); `None` when there was no key exchange
/// (a TLS 1.2 resumption) or before the handshake.
pub fn group(tls: &Connection) -> Option<&'static str> {
    Some(group_name(tls.negotiated_key_exchange_group()?.name()))
}

/// OpenSSL's name of a group.
pub fn group_name(g: NamedGroup) -> &'static str {
    match g {
        NamedGroup::X25519MLKEM768 => "X25519MLKEM768",
        NamedGroup::X25519 => "X25519",
        NamedGroup::secp256r1 => "P-256",
        NamedGroup::secp384r1 => "P-384",
        NamedGroup::secp521r1 => "P-521",
        _ => "unknown",
    }
}
