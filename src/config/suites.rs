//! libtls cipher strings and curve names mapped onto the ring provider's suites and groups.
//!
//! rustls offers only AEAD suites with ephemeral (EC)DHE key exchange, so every libtls
//! keyword ("secure", "compat", "legacy", "insecure", …) selects the same, strong, set; a
//! string can narrow it but never widen it. OpenSSL cipher strings are read as OpenSSL
//! reads them: items separated by ':', ',' or ' ', each a suite name or '+'-joined keywords,
//! prefixed with '!' (remove for good), '-' (remove) or '+' (move to the end).
use rustls::crypto::ring::{kx_group, ALL_CIPHER_SUITES};
use rustls::crypto::SupportedKxGroup;
use rustls::{ProtocolVersion, SupportedCipherSuite};

use crate::error::{Error, Result};
use crate::names::openssl_name;

/// OpenSSL keywords and names of suites rustls lacks: known, so accepted, but they select
/// nothing (e.g. "!aNULL", "!RC4", "HIGH:!MD5").
const SELECT_NOTHING: &[&str] = &[
    "anull",
    "enull",
    "null",
    "dhe",
    "edh",
    "kdhe",
    "kedh",
    "dh",
    "adh",
    "aecdh",
    "krsa",
    "rsa",
    "psk",
    "kpsk",
    "apsk",
    "srp",
    "ksrp",
    "dss",
    "adss",
    "3des",
    "des",
    "rc4",
    "rc2",
    "md5",
    "sha1",
    "sha",
    "camellia",
    "seed",
    "idea",
    "aria",
    "ccm",
    "ccm8",
    "export",
    "exp",
    "low",
    "medium",
    "sslv3",
    "tlsv1",
    "tlsv1.0",
    "tlsv1.1",
    "complementofall",
    "complementofdefault",
    "gost",
    "cbc",
];

fn is13(s: &SupportedCipherSuite) -> bool {
    s.version().version == ProtocolVersion::TLSv1_3
}

fn name(s: &SupportedCipherSuite) -> &'static str {
    openssl_name(s.suite()).0
}

/// Whether `token` (lower case) is the OpenSSL or IANA name of `s`.
fn is_name(token: &str, s: &SupportedCipherSuite) -> bool {
    let iana = format!("{:?}", s.suite()).to_ascii_lowercase();
    token == name(s).to_ascii_lowercase()
        || token == iana
        || token == iana.replacen("tls13_", "tls_", 1)
}

/// Whether `token` (lower case) selects `s`; None when the token is unknown.
fn matches(token: &str, s: &SupportedCipherSuite) -> Option<bool> {
    let n = name(s).to_ascii_lowercase();
    let tls12 = !is13(s);
    Some(match token {
        "all" | "high" | "aead" | "default" => true,
        "tlsv1.3" => !tls12,
        "tlsv1.2" | "ecdhe" | "eecdh" | "kecdhe" | "keecdh" | "ecdh" => tls12,
        "aecdsa" | "ecdsa" => tls12 && n.contains("ecdsa"),
        "arsa" => tls12 && n.contains("-rsa-"),
        "aes" => n.contains("aes"),
        "aesgcm" => n.contains("gcm"),
        "aes128" => n.contains("aes128") || n.contains("aes_128"),
        "aes256" => n.contains("aes256") || n.contains("aes_256"),
        "chacha20" => n.contains("chacha20"),
        "sha256" => n.ends_with("sha256") || n.contains("chacha20"),
        "sha384" => n.ends_with("sha384"),
        t if SELECT_NOTHING.contains(&t) => false,
        t if ALL_CIPHER_SUITES.iter().any(|o| is_name(t, o)) => is_name(t, s),
        _ => return None,
    })
}

/// The suites a libtls cipher string selects, in preference order.
///
/// TLS 1.3 suites are governed by the string only when it names TLS 1.3 (the keyword
/// "TLSv1.3" or a TLS 1.3 suite); otherwise all three stay enabled, first, as with
/// OpenSSL-based libtls whose cipher list governs TLS 1.2 only, except those an item with
/// '!' excluded ("ALL:!CHACHA20" has no ChaCha20 suite at all).
pub fn parse_ciphers(s: &str) -> Result<Vec<SupportedCipherSuite>> {
    let all: Vec<SupportedCipherSuite> = crate::policy::cipher_suites();
    match s.to_ascii_lowercase().as_str() {
        "secure" | "default" | "compat" | "legacy" | "insecure" | "all" => return Ok(all),
        _ => {}
    }
    let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
    let mut banned: Vec<SupportedCipherSuite> = Vec::new();
    let mut names_13 = false;
    let contains = |v: &[SupportedCipherSuite], x: &SupportedCipherSuite| {
        v.iter().any(|y| y.suite() == x.suite())
    };
    for item in s.split([':', ',', ' ']).map(str::trim).filter(|i| !i.is_empty()) {
        if item.starts_with('@') {
            if item.eq_ignore_ascii_case("@strength") {
                chosen.sort_by_key(|c| -openssl_name(c.suite()).1);
            }
            continue; // @SECLEVEL=n and the like: rustls's suites all pass any level.
        }
        let (op, body) = match item.as_bytes()[0] {
            b'!' | b'-' | b'+' => (item.as_bytes()[0], &item[1..]),
            _ => (b' ', item),
        };
        let tokens: Vec<String> = body.split('+').map(str::to_ascii_lowercase).collect();
        let mut picked = Vec::new();
        for suite in &all {
            let mut hit = true;
            for t in &tokens {
                match matches(t, suite) {
                    Some(m) => hit &= m,
                    None => {
                        return Err(Error::arg(format!(
                            "unknown cipher or cipher keyword '{t}' in '{s}'"
                        )))
                    }
                }
            }
            if hit {
                picked.push(*suite);
            }
        }
        if tokens.iter().any(|t| t == "tlsv1.3")
            || (tokens.len() == 1 && picked.len() == 1 && is13(&picked[0]))
        {
            names_13 = true;
        }
        match op {
            b'!' => {
                chosen.retain(|c| !contains(&picked, c));
                banned.extend(picked);
            }
            b'-' => chosen.retain(|c| !contains(&picked, c)),
            b'+' => {
                let moved: Vec<_> =
                    chosen.iter().copied().filter(|c| contains(&picked, c)).collect();
                chosen.retain(|c| !contains(&picked, c));
                chosen.extend(moved);
            }
            _ => {
                for p in picked {
                    if !contains(&chosen, &p) && !contains(&banned, &p) {
                        chosen.push(p);
                    }
                }
            }
        }
    }
    // Unsatisfiable: nothing selected, or (TLS 1.3 not named) no TLS 1.2 suite, as OpenSSL
    // fails a cipher list that matches no cipher.
    let unsatisfiable = if names_13 { chosen.is_empty() } else { chosen.iter().all(is13) };
    if !names_13 {
        let tls13: Vec<_> =
            all.iter().copied().filter(|c| is13(c) && !contains(&banned, c)).collect();
        chosen.retain(|c| !is13(c));
        chosen.splice(0..0, tls13);
    }
    if unsatisfiable {
        return Err(Error::unsupported(format!(
            "cipher string '{s}' selects no cipher suite nbtls supports (rustls offers only \
             AEAD suites with ECDHE: {})",
            all.iter().map(name).collect::<Vec<_>>().join(":")
        )));
    }
    Ok(chosen)
}

/// The key exchange groups a libtls curve list names, in preference order. NULL (None),
/// "default" and "secure" mean the default (X25519MLKEM768, X25519, P-256, P-384: see
/// [`crate::policy::kx_groups`]). Names are compared without case; "X25519MLKEM768" is
/// OpenSSL's and LibreSSL's spelling. Curves OpenSSL knows but nbtls lacks (P-521, P-224,
/// X448) are skipped; a list left empty is an error.
pub fn parse_curves(s: Option<&str>) -> Result<Option<Vec<&'static dyn SupportedKxGroup>>> {
    let s = match s {
        None => return Ok(None),
        Some(s) if s.eq_ignore_ascii_case("default") || s.eq_ignore_ascii_case("secure") => {
            return Ok(None)
        }
        Some(s) => s,
    };
    let mut out: Vec<&'static dyn SupportedKxGroup> = Vec::new();
    for tok in s.split([',', ':']).map(|t| t.trim_start_matches([' ', '\t'])) {
        let g: Option<&'static dyn SupportedKxGroup> = match tok.to_ascii_lowercase().as_str() {
            "x25519mlkem768" => Some(crate::kx::X25519MLKEM768),
            "x25519" => Some(kx_group::X25519),
            "p-256" | "prime256v1" | "secp256r1" => Some(kx_group::SECP256R1),
            "p-384" | "secp384r1" => Some(kx_group::SECP384R1),
            "p-521" | "secp521r1" | "p-224" | "secp224r1" | "x448" => None,
            _ => return Err(Error::arg(format!("invalid ecdhe curve '{tok}'"))),
        };
        if let Some(g) = g {
            if !out.iter().any(|o| o.name() == g.name()) {
                out.push(g);
            }
        }
    }
    if out.is_empty() {
        return Err(Error::unsupported(format!(
            "ecdhe curves '{s}': none supported by nbtls (X25519MLKEM768, X25519, P-256, P-384)"
        )));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<&'static str> {
        parse_ciphers(s).unwrap().iter().map(name).collect()
    }

    #[test]
    fn tls13_prefers_aes128_then_aes256_then_chacha() {
        let order =
            ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];
        for k in ["secure", "default", "ECDHE+AESGCM"] {
            assert_eq!(names(k)[..3], order, "{k}");
        }
        let provider = crate::policy::provider();
        let default: Vec<_> = provider.cipher_suites.iter().map(name).collect();
        assert_eq!(default[..3], order);
        assert_eq!(default.len(), ALL_CIPHER_SUITES.len());
        // The README's way back to libtls's order, TLS 1.2 kept.
        let libtls = names("TLS_AES_256_GCM_SHA384:TLSv1.3:TLSv1.2");
        assert_eq!(libtls[..3], [order[1], order[0], order[2]]);
        assert_eq!(libtls.len(), ALL_CIPHER_SUITES.len());
    }

    #[test]
    fn keywords_select_every_suite() {
        for k in ["secure", "DEFAULT", "compat", "legacy", "insecure", "all"] {
            assert_eq!(parse_ciphers(k).unwrap().len(), ALL_CIPHER_SUITES.len(), "{k}");
        }
        assert_eq!(names("HIGH:!aNULL").len(), ALL_CIPHER_SUITES.len());
        assert_eq!(
            names("TLSv1.3:TLSv1.2+AEAD+ECDHE:TLSv1.2+AEAD+DHE").len(),
            ALL_CIPHER_SUITES.len()
        );
    }

    #[test]
    fn openssl_strings_narrow_tls12_and_keep_tls13() {
        let v = names("ECDHE-RSA-AES128-GCM-SHA256");
        assert_eq!(v.len(), 4);
        assert_eq!(v[3], "ECDHE-RSA-AES128-GCM-SHA256");
        let v = names("TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384");
        assert_eq!(v, ["TLS_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"]);
        assert!(!names("ALL:!CHACHA20").iter().any(|n| n.contains("CHACHA")));
        assert!(!names("TLSv1.2:!aRSA").iter().any(|n| n.contains("-RSA-")));
    }

    #[test]
    fn unknown_and_unsatisfiable_strings_fail() {
        assert!(parse_ciphers("NOPE").is_err());
        assert!(parse_ciphers("RC4").is_err());
        assert!(parse_ciphers("3DES:!TLSv1.3").is_err());
        assert!(parse_ciphers("").is_err());
    }

    #[test]
    fn curves_map_onto_ring_groups() {
        assert!(parse_curves(None).unwrap().is_none());
        assert!(parse_curves(Some("default")).unwrap().is_none());
        assert_eq!(parse_curves(Some("prime256v1,X25519")).unwrap().unwrap().len(), 2);
        assert_eq!(parse_curves(Some("P-384:P-521")).unwrap().unwrap().len(), 1);
        assert!(parse_curves(Some("P-521")).is_err());
        assert!(parse_curves(Some("secure")).unwrap().is_none());
        let named = |s: &str| -> Vec<rustls::NamedGroup> {
            parse_curves(Some(s)).unwrap().unwrap().iter().map(|g| g.name()).collect()
        };
        use rustls::NamedGroup as G;
        assert_eq!(
            named("X25519MLKEM768,X25519,P-256,P-384"),
            [G::X25519MLKEM768, G::X25519, G::secp256r1, G::secp384r1]
        );
        assert_eq!(named("x25519mlkem768"), [G::X25519MLKEM768]);
        assert_eq!(named("P-256:X25519MLKEM768:X25519MLKEM768"), [G::secp256r1, G::X25519MLKEM768]);
        assert!(parse_curves(Some("bogus")).is_err());
    }
}
