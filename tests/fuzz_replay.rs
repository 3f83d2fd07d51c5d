//! Replays every committed fuzz corpus (fuzz/corpus/<target>/*) once through the same target
//! bodies the cargo-fuzz binaries run (fuzz/src/targets.rs), so `cargo test` on stable Rust
//! catches a regression that a seed or an earlier finding covers.
//!
//! `NBTLS_FUZZ_WRITE_SEEDS=1 cargo test --test fuzz_replay -- --ignored write_seeds` rewrites
//! the captured-transcript seeds (fuzz/corpus/*/transcript-*) from real exchanges.
#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

fn replay(target: &str) {
    let run = targets::by_name(target).expect("known target");
    let dir = corpus_root().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{target}: only {} seeds in {}", files.len(), dir.display());
    for f in &files {
        let data = std::fs::read(f).expect("read seed");
        let r = std::panic::catch_unwind(|| run(&data));
        assert!(
            r.is_ok(),
            "{target}: {} failed (reproduce: cargo fuzz run {target} {})",
            f.display(),
            f.display()
        );
    }
    eprintln!("{target}: {} inputs replayed", files.len());
}

#[test]
fn server_bytes_corpus() {
    replay("server_bytes");
}

#[test]
fn client_bytes_corpus() {
    replay("client_bytes");
}

#[test]
fn api_sequence_corpus() {
    replay("api_sequence");
}

#[test]
fn client_hello_corpus() {
    replay("client_hello");
}

/// The seeds made from real ClientHellos still give the name as it was sent, case kept, however
/// the records were cut (`named-<NAME>-*`, NAME without '-'; `noname-*` give none).
#[test]
fn client_hello_seeds_give_the_name_sent() {
    let dir = corpus_root().join("client_hello");
    let mut named = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz/corpus/client_hello") {
        let path = e.expect("entry").path();
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let want = if let Some(rest) = file.strip_prefix("named-") {
            Some(rest.split_once('-').map_or(rest, |(n, _)| n).to_owned())
        } else if file.starts_with("noname-") {
            None
        } else {
            continue;
        };
        let data = std::fs::read(&path).expect("read seed");
        let mut h = nbtls::conn::hello::HelloName::new();
        for c in data[1..].chunks(usize::from(data[0]).max(1)) {
            h.feed_bytes(c);
        }
        assert!(h.is_done(), "{file}: ClientHello not complete");
        assert_eq!(h.server_name(), want.as_deref(), "{file}");
        named += 1;
    }
    assert!(named >= 6, "only {named} seeds made from real ClientHellos");
}

#[test]
fn every_corpus_directory_has_a_target() {
    for e in std::fs::read_dir(corpus_root()).expect("fuzz/corpus") {
        let name = e.expect("entry").file_name().into_string().expect("utf-8 name");
        assert!(targets::by_name(&name).is_some(), "fuzz/corpus/{name} feeds no target");
    }
}

/// The oracle can fail: a stream that the peer did not write is caught.
#[test]
#[should_panic(expected = "differs from what the peer wrote")]
fn api_sequence_oracle_catches_a_corrupted_stream() {
    targets::self_test_corrupt_stream();
}

/// Writes the seed corpora: transcripts captured from real exchanges (every variant that
/// changes the bytes on the wire, fed in several chunk sizes), their truncations, and
/// hand-written API scripts. Run it only to refresh the committed seeds.
#[test]
#[ignore]
fn write_seeds() {
    if std::env::var_os("NBTLS_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    let root = corpus_root();
    let put = |target: &str, name: String, data: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    };
    // Variant bytes: protocols (both, 1.2, 1.3) x policy x ALPN x tickets.
    let variants: [u8; 8] =
        [0x20 | 0x40, 0x21, 0x22 | 0x40, 0x31, 0x32 | 0x04, 0x20 | 0x08, 0x22 | 0x0c, 0x80 | 0x22];
    for &vb in &variants {
        let v = targets::Variant::from_byte(vb);
        let (c2s, s2c) = targets::transcript(v, true);
        for chunk in [1u8, 7, 255] {
            let mut a = vec![vb, chunk];
            a.extend_from_slice(&c2s);
            put("server_bytes", format!("transcript-v{vb:02x}-c{chunk}"), &a);
            let mut b = vec![vb, chunk];
            b.extend_from_slice(&s2c);
            put("client_bytes", format!("transcript-v{vb:02x}-c{chunk}"), &b);
        }
        // The first flight alone, and cut in the middle of a record.
        let hello = &c2s[..(5 + u16::from_be_bytes([c2s[3], c2s[4]]) as usize).min(c2s.len())];
        put("server_bytes", format!("hello-v{vb:02x}"), &[&[vb, 255][..], hello].concat());
        put(
            "server_bytes",
            format!("cut-v{vb:02x}"),
            &[&[vb, 3][..], &c2s[..c2s.len() / 2]].concat(),
        );
        put(
            "client_bytes",
            format!("cut-v{vb:02x}"),
            &[&[vb, 3][..], &s2c[..s2c.len() / 2]].concat(),
        );
    }
    // Hand-made records: alerts, empty records, an oversized header, SSLv2, garbage.
    let raw: [(&str, &[u8]); 8] = [
        ("alert-warning", &[0x15, 3, 3, 0, 2, 1, 0]),
        ("alert-fatal", &[0x15, 3, 3, 0, 2, 2, 40]),
        ("empty-handshake", &[0x16, 3, 1, 0, 0]),
        ("empty-appdata", &[0x17, 3, 3, 0, 0, 0x17, 3, 3, 0, 0]),
        ("oversized", &[0x16, 3, 3, 0xff, 0xff, 1, 2, 3]),
        ("sslv2-hello", &[0x80, 0x2e, 1, 3, 1, 0, 0x15, 0, 0, 0, 0x10]),
        ("ccs", &[0x14, 3, 3, 0, 1, 1]),
        ("garbage", b"GET / HTTP/1.1\r\n\r\n"),
    ];
    for (name, r) in raw {
        for target in ["server_bytes", "client_bytes"] {
            put(target, format!("raw-{name}"), &[&[0u8, 255][..], r].concat());
        }
    }
    // ClientHellos: [chunk, stream]. Real ones from nbtls clients (mixed-case names, none),
    // re-cut into records of several sizes and fed in several chunk sizes; Python's (OpenSSL's)
    // is fuzz/corpus/client_hello/named-Py.LocalHost.Example-openssl, committed as captured.
    for (i, name) in [Some("LocalHost"), Some("WWW.Example.ORG"), Some("a.b.C.example"), None]
        .into_iter()
        .enumerate()
    {
        let vb = [0x22u8, 0x21, 0x20, 0x22][i];
        let hello = targets::client_hello_bytes(targets::Variant::from_byte(vb), name);
        let msg = &hello[5..];
        for (size, chunk) in [(16384usize, 255u8), (7, 1), (1, 3), (100, 7)] {
            let mut stream = vec![chunk];
            // An alert record first in one seed: other content types are skipped.
            if size == 100 {
                stream.extend_from_slice(&[0x15, 3, 3, 0, 2, 1, 0]);
            }
            for c in msg.chunks(size) {
                stream.extend_from_slice(&[0x16, 3, 1, (c.len() >> 8) as u8, c.len() as u8]);
                stream.extend_from_slice(c);
            }
            let file = match name {
                Some(n) => format!("named-{n}-r{size}-c{chunk}"),
                None => format!("noname-v{vb:02x}-r{size}-c{chunk}"),
            };
            put("client_hello", file, &stream);
        }
    }
    let raw: [(&str, &[u8]); 6] = [
        ("garbage", b"\x01GET / HTTP/1.1\r\n\r\n"),
        ("sslv2", &[1, 0x80, 0x2e, 1, 3, 1, 0, 0x15, 0, 0, 0, 0x10]),
        ("oversized-record", &[1, 0x16, 3, 3, 0x40, 0x01, 1, 0, 0, 1]),
        ("not-client-hello", &[2, 0x16, 3, 1, 0, 4, 2, 0, 0, 0]),
        ("too-long-hello", &[255, 0x16, 3, 1, 0, 4, 1, 1, 0, 1]),
        ("empty-record", &[1, 0x16, 3, 1, 0, 0, 0x16, 3, 1, 0, 1, 1]),
    ];
    for (name, r) in raw {
        put("client_hello", format!("raw-{name}"), r);
    }
    // API scripts: [variant, mode|cap, (op, arg)...]; op = kind << 1 | side.
    let op = |kind: u8, side: u8, arg: u8| [kind << 1 | side, arg];
    let mut scripts: Vec<(String, Vec<u8>)> = Vec::new();
    let base: Vec<u8> =
        [op(0, 0, 0), op(0, 1, 0), op(0, 0, 0), op(0, 1, 0), op(0, 0, 0), op(0, 1, 0)].concat();
    let exchange: Vec<u8> =
        [op(3, 0, 40), op(1, 1, 80), op(3, 1, 100), op(1, 0, 120), op(5, 1, 0), op(1, 0, 255)]
            .concat();
    let ku: Vec<u8> =
        [op(7, 0, 0), op(3, 0, 2), op(1, 1, 10), op(1, 1, 10), op(3, 1, 2), op(1, 0, 10)].concat();
    let close: Vec<u8> = [op(6, 0, 1), op(1, 1, 10), op(6, 1, 1), op(1, 0, 10)].concat();
    let eof: Vec<u8> = [op(10, 0, 2), op(1, 1, 10), op(3, 1, 5)].concat();
    let reset: Vec<u8> = [op(10, 1, 3), op(1, 0, 10), op(3, 0, 5)].concat();
    let faults: Vec<u8> =
        (0..60u8).map(|i| [0x04, 0x05, 0x0e, 0x00, 0x16][usize::from(i % 5)]).collect();
    for (mi, mode) in [0u8, 1, 2, 6, 9, 12, 15].into_iter().enumerate() {
        for (vi, vb) in [0x20u8, 0x21, 0x22, 0x26, 0x2a, 0x2e].into_iter().enumerate() {
            let tail: &[u8] = match (mi + vi) % 6 {
                0 => &exchange,
                1 => &ku,
                2 => &close,
                3 => &eof,
                4 => &reset,
                _ => &faults,
            };
            let mut s = vec![vb, mode];
            s.extend_from_slice(&base);
            s.extend_from_slice(tail);
            s.extend_from_slice(&exchange);
            scripts.push((format!("script-m{mode}-v{vb:02x}"), s));
        }
    }
    // Faults from the first call: the handshake itself runs over a stuttering transport.
    let mut stutter = vec![0x22u8, 2];
    for _ in 0..40 {
        stutter.extend_from_slice(&[0x00, 0x0c, 0x03, 0x05]);
    }
    scripts.push(("script-stutter".into(), stutter));
    for (name, s) in scripts {
        put("api_sequence", name, &s);
    }
}

/// Runs one input: `NBTLS_FUZZ_INPUT=api_sequence:path/to/crash cargo test --test fuzz_replay
/// one_input -- --nocapture` (a no-op when the variable is unset).
#[test]
fn one_input() {
    let Ok(spec) = std::env::var("NBTLS_FUZZ_INPUT") else {
        return;
    };
    let (target, path) = spec.split_once(':').expect("NBTLS_FUZZ_INPUT=target:path");
    let run = targets::by_name(target).expect("known target");
    run(&std::fs::read(path).expect("read input"));
}
