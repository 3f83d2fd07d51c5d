//! The committed header must be exactly what cbindgen makes from the sources now.
use std::path::PathBuf;

#[test]
fn committed_header_is_fresh() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let fresh = cbindgen::Builder::new().with_crate(&dir).with_config(config).generate().unwrap();
    let mut out = Vec::new();
    fresh.write(&mut out);
    let committed = std::fs::read(dir.join("include/nbtls.h")).expect("include/nbtls.h");
    assert!(
        committed == out,
        "include/nbtls.h differs from a fresh cbindgen run: run `make header` and commit it"
    );
}

fn header_text() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(dir.join("include/nbtls.h")).expect("include/nbtls.h")
}

/// The header without its comments.
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("/*") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("*/").expect("unterminated comment") + at + 2;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn ident_before(s: &str) -> Option<String> {
    let name: String = s
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every name the header puts into a C program: macros, struct tags, typedefs, functions.
fn public_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let code = without_comments(text);
    // Declarations start in the first column; indented lines continue a parameter list.
    for line in code.lines().filter(|l| !l.starts_with(char::is_whitespace)) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#define ") {
            names.extend(rest.split_whitespace().next().map(str::to_owned));
        } else if line.starts_with('#') || line.starts_with("extern \"C\"") {
            continue;
        } else if let Some(rest) = line.strip_prefix("typedef ") {
            // typedef ret (*name)(args); or typedef type name;
            match rest.find("(*") {
                Some(at) => {
                    names.extend(ident_before(&rest[..at + 2 + rest[at + 2..].find(')').unwrap()]))
                }
                None => names.extend(ident_before(rest.trim_end_matches(';'))),
            }
        } else if let Some(at) = line.find('(') {
            names.extend(ident_before(&line[..at]));
        } else if let Some(rest) = line.strip_prefix("struct ") {
            names.extend(
                rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
                    .map(str::to_owned),
            );
        }
    }
    names
}

#[test]
fn header_exports_only_tls_names() {
    let names = public_names(&header_text());
    assert!(names.iter().any(|n| n == "tls_read"), "the name scan found no functions");
    assert!(names.iter().any(|n| n == "TLS_WANT_POLLIN"), "the name scan found no macros");
    assert!(names.iter().any(|n| n == "tls_read_cb"), "the name scan found no typedefs");
    let foreign: Vec<_> = names
        .iter()
        .filter(|n| *n != "tls") // libtls's `struct tls`
        .filter(|n| !(n.starts_with("tls_") || n.starts_with("TLS_") || n.starts_with("NBTLS_")))
        .collect();
    assert!(
        foreign.is_empty(),
        "include/nbtls.h exports names outside tls_/TLS_/NBTLS_: {foreign:?}"
    );
}

#[test]
fn header_has_only_c89_comments() {
    let code = without_comments(&header_text());
    assert!(!code.contains("//"), "include/nbtls.h has a // comment: C89 programs include it too");
}

fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

#[test]
fn header_compiles_as_c89_pedantic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = tmp.join("header_c89.c");
    std::fs::write(&src, "#include <nbtls.h>\nint main(void) { return TLS_WANT_POLLIN + 2; }\n")
        .unwrap();
    let out = std::process::Command::new(cc())
        .args(["-std=c89", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
        .arg(dir.join("include"))
        .arg(&src)
        .output()
        .expect("running the C compiler");
    assert!(
        out.status.success(),
        "nbtls.h under -std=c89 -pedantic:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The header's C values are the Rust ones: each constant is compiled and printed by C.
#[test]
fn header_constants_match_the_core() {
    use nbtls::config::TicketPolicy;
    use nbtls::error::Code;
    use nbtls::policy;
    let expected: Vec<(&str, i64)> = vec![
        ("TLS_PROTOCOL_TLSv1_0", policy::PROTO_TLS1_0.into()),
        ("TLS_PROTOCOL_TLSv1_1", policy::PROTO_TLS1_1.into()),
        ("TLS_PROTOCOL_TLSv1_2", policy::PROTO_TLS1_2.into()),
        ("TLS_PROTOCOL_TLSv1_3", policy::PROTO_TLS1_3.into()),
        ("TLS_PROTOCOLS_ALL", policy::PROTOCOLS_ALL.into()),
        ("TLS_PROTOCOLS_DEFAULT", policy::PROTOCOLS_DEFAULT.into()),
        ("TLS_TICKETS_DEFERRED", TicketPolicy::Deferred as i64),
        ("TLS_TICKETS_OPPORTUNISTIC", TicketPolicy::Opportunistic as i64),
        ("TLS_TICKETS_IMMEDIATE", TicketPolicy::Immediate as i64),
        ("TLS_TICKETS_NONE", TicketPolicy::None as i64),
        ("TLS_ERROR_UNKNOWN", Code::Unknown as i64),
        ("TLS_ERROR_OUT_OF_MEMORY", Code::OutOfMemory as i64),
        ("TLS_ERROR_INVALID_CONTEXT", Code::InvalidContext as i64),
        ("TLS_ERROR_INVALID_ARGUMENT", Code::InvalidArgument as i64),
        ("TLS_ERROR_IO", Code::Io as i64),
        ("TLS_ERROR_CLOSED", Code::Closed as i64),
        ("TLS_ERROR_TRUNCATED", Code::Truncated as i64),
        ("TLS_ERROR_PEER_ALERT", Code::PeerAlert as i64),
        ("TLS_ERROR_PROTOCOL", Code::Protocol as i64),
        ("TLS_ERROR_CERT_EXPIRED", Code::CertExpired as i64),
        ("TLS_ERROR_CERT_NOT_YET_VALID", Code::CertNotYetValid as i64),
        ("TLS_ERROR_CERT_UNKNOWN_CA", Code::CertUnknownCa as i64),
        ("TLS_ERROR_CERT_NAME_MISMATCH", Code::CertNameMismatch as i64),
        ("TLS_ERROR_CERT_BAD_USAGE", Code::CertBadUsage as i64),
        ("TLS_ERROR_CERT_OTHER", Code::CertOther as i64),
        ("TLS_ERROR_WRONG_STATE", Code::WrongState as i64),
        ("TLS_ERROR_UNSUPPORTED", Code::Unsupported as i64),
        ("TLS_ERROR_INTERNAL", Code::Internal as i64),
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut src = String::from("#include <stdio.h>\n#include <nbtls.h>\nint main(void) {\n");
    for (name, _) in &expected {
        src.push_str(&format!("\tprintf(\"%ld\\n\", (long)({name}));\n"));
    }
    src.push_str("\treturn 0;\n}\n");
    let (c, exe) = (tmp.join("header_values.c"), tmp.join("header_values"));
    std::fs::write(&c, src).unwrap();
    let out = std::process::Command::new(cc())
        .arg("-I")
        .arg(dir.join("include"))
        .arg(&c)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("running the C compiler");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = std::process::Command::new(&exe).output().unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    let values: Vec<i64> = printed.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(values.len(), expected.len());
    for ((name, want), got) in expected.iter().zip(values) {
        assert_eq!(got, *want, "{name} in include/nbtls.h is {got}, the Rust value is {want}");
    }
}
