//! What nbtls reads from certificates, through the `x509-parser` crate: the names a
//! certificate is valid for (libtls's matching rules, for SNI and
//! `tls_peer_cert_contains_name`), and the fields the `tls_peer_cert_*` accessors report.
use std::net::IpAddr;

use ring::digest;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::x509::X509Name;

use crate::error::{Error, Result};

/// The names a certificate is valid for.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// subjectAltName dNSName entries.
    pub dns: Vec<String>,
    /// subjectAltName iPAddress entries.
    pub ips: Vec<IpAddr>,
    /// The subject's commonName, if it has exactly one.
    pub common_name: Option<String>,
}

/// The fields of a certificate the peer accessors report.
#[derive(Clone, Debug)]
pub struct Described {
    /// The subject in OpenSSL's one-line format ("/C=US/O=Example/CN=example.com").
    pub subject: String,
    /// The issuer in the same format.
    pub issuer: String,
    /// The subject's commonName ("" when there is none), as libtls reports it.
    pub common_name: String,
    /// "SHA256:" and the lowercase hex of the certificate's DER.
    pub hash: String,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
    /// The names it is valid for.
    pub names: Names,
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(Error::arg(format!("unparsable certificate: {e}"))),
    }
}

/// The names `der` is valid for.
pub fn names(der: &[u8]) -> Result<Names> {
    let cert = parse(der)?;
    Ok(names_of(&cert))
}

fn names_of(cert: &X509Certificate<'_>) -> Names {
    let mut n = Names::default();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => n.dns.push((*d).to_owned()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => n.ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).expect("4 bytes"))),
                    16 => n.ips.push(IpAddr::from(<[u8; 16]>::try_from(*b).expect("16 bytes"))),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    // libtls refuses a name with several commonNames (or one that is not a string).
    let cns: Vec<_> = cert.subject().iter_common_name().collect();
    if cns.len() == 1 {
        n.common_name = cns[0].as_str().ok().map(str::to_owned);
    }
    n
}

/// Describes `der` for the peer accessors.
pub fn describe(der: &[u8]) -> Result<Described> {
    let cert = parse(der)?;
    let hash = digest::digest(&digest::SHA256, der);
    let hex: String = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let common_name =
        cert.subject().iter_common_name().next().map(|a| escape(a.as_slice())).unwrap_or_default();
    Ok(Described {
        subject: one_line(cert.subject()),
        issuer: one_line(cert.issuer()),
        common_name,
        hash: format!("SHA256:{hex}"),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        names: names_of(&cert),
    })
}

/// OpenSSL's short name of a name attribute, as `X509_NAME_oneline` prints it; the dotted
/// OID for attributes it does not name.
fn short_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    let s = oid.to_id_string();
    let known = match s.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return s,
    };
    known.to_owned()
}

/// A value's bytes as `X509_NAME_oneline` prints them: printable ASCII as it is, any other
/// byte as `\xHH`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// A name in OpenSSL's one-line format (`openssl x509 -nameopt compat`): each attribute as
/// "/SN=value", the attributes of a multi-valued RDN joined with "+".
pub fn one_line(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for rdn in name.iter_rdn() {
        for (i, attr) in rdn.iter().enumerate() {
            out.push(if i == 0 { '/' } else { '+' });
            out.push_str(&short_name(attr.attr_type()));
            out.push('=');
            out.push_str(&escape(attr.as_slice()));
        }
    }
    out
}

/// libtls's `tls_match_name`: an exact, case-insensitive match, or a wildcard "*.domain.tld"
/// matching exactly one leftmost label ("*", "*foo", "*.." and "*.tld" match nothing).
pub fn match_name(cert_name: &str, name: &str) -> bool {
    if cert_name.eq_ignore_ascii_case(name) {
        return true;
    }
    let Some(cert_domain) = cert_name.strip_prefix('*') else {
        return false;
    };
    if !cert_domain.starts_with('.') || cert_domain[1..].starts_with('.') {
        return false;
    }
    let Some(dot) = cert_domain[1..].find('.') else {
        return false;
    };
    if cert_domain[1 + dot + 1..].starts_with('.') {
        return false;
    }
    if name.starts_with('.') {
        return false;
    }
    let Some(d) = name.find('.') else {
        return false;
    };
    let domain = &name[d..];
    domain.len() > 1 && cert_domain.eq_ignore_ascii_case(domain)
}

/// libtls's `tls_check_name`: a name is checked against the subjectAltNames of its kind (DNS
/// names, or IP addresses for an address) and, only when there are none of that kind,
/// against the commonName (an address by plain comparison, no wildcards).
pub fn contains_name(names: &Names, name: &str) -> bool {
    NameQuery::new(name).matches(names)
}

/// A name to look for in certificates, parsed once (whether it is an IP address) for
/// checking many.
#[derive(Clone, Copy, Debug)]
pub struct NameQuery<'a> {
    name: &'a str,
    ip: Option<IpAddr>,
}

impl<'a> NameQuery<'a> {
    /// The query for `name`.
    pub fn new(name: &'a str) -> Self {
        Self { name, ip: name.parse::<IpAddr>().ok() }
    }

    /// The name asked for.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The name as an IP address, if it is one.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// [`contains_name`]'s rule.
    pub fn matches(&self, names: &Names) -> bool {
        let name = self.name;
        if let Some(ip) = self.ip {
            if !names.ips.is_empty() {
                return names.ips.contains(&ip);
            }
            return names.common_name.as_deref() == Some(name);
        }
        if !names.dns.is_empty() {
            return names.dns.iter().any(|d| match_name(d, name));
        }
        names.common_name.as_deref().is_some_and(|cn| match_name(cn, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_libtls() {
        assert!(match_name("www.example.com", "WWW.Example.com"));
        assert!(match_name("*.example.com", "www.example.com"));
        assert!(!match_name("*.example.com", "a.b.example.com"));
        assert!(!match_name("*.example.com", "example.com"));
        assert!(!match_name("*.com", "example.com"));
        assert!(!match_name("*", "example"));
        assert!(!match_name("*foo.com", "xfoo.com"));
        assert!(!match_name("*..com", "x..com"));
        assert!(!match_name("*.example.com", ".example.com"));
    }

    #[test]
    fn sans_hide_the_common_name() {
        let n = Names {
            dns: vec!["a.example".into()],
            ips: vec![],
            common_name: Some("b.example".into()),
        };
        assert!(contains_name(&n, "a.example"));
        assert!(!contains_name(&n, "b.example"));
        // No IP SANs: an address is compared with the commonName.
        assert!(!contains_name(&n, "127.0.0.1"));
        let cn_only = Names { common_name: Some("*.example.org".into()), ..Names::default() };
        assert!(contains_name(&cn_only, "www.example.org"));
    }
}
