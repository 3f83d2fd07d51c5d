//! Generates the C header from src/ffi/ with cbindgen, into OUT_DIR; with
//! NBTLS_WRITE_HEADER=1 (`make header`) also into include/nbtls.h, which is committed.
//! Sets the shared library's soname and its export map (generated from
//! capi-tests/symbols.txt, as libtls generates its own from Symbols.list), and makes the one
//! `libnbtls.so.0` link beside the library that every program linked against the build tree
//! needs (cargo makes none).
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=NBTLS_WRITE_HEADER");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnbtls.so.0");
    let map = out.join("nbtls.map");
    version_script(&dir.join("capi-tests/symbols.txt"), &map);
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", map.display());
    println!("cargo:rerun-if-changed=capi-tests/symbols.txt");
    soname_link(&out);

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate include/nbtls.h");
    bindings.write_to_file(out.join("nbtls.h"));
    if std::env::var_os("NBTLS_WRITE_HEADER").is_some_and(|v| v == "1") {
        bindings.write_to_file(dir.join("include/nbtls.h"));
    }
}

/// Makes `libnbtls.so.0 -> libnbtls.so` in the profile directory (`OUT_DIR` is
/// `<profile>/build/nbtls-*/out`), where cargo writes the library. The link is relative, so
/// it may exist before the library does; every script and Makefile relies on this one.
fn soname_link(out: &std::path::Path) {
    let Some(profile) = out.ancestors().nth(3) else { return };
    let link = profile.join("libnbtls.so.0");
    if std::fs::read_link(&link).is_ok_and(|t| t == std::path::Path::new("libnbtls.so")) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("libnbtls.so", &link).expect("making the libnbtls.so.0 link");
}

/// Writes the linker version script that exports exactly the names listed in `symbols` (one a
/// line) under the version node NBTLS_0 and hides everything else.
fn version_script(symbols: &std::path::Path, map: &std::path::Path) {
    let list = std::fs::read_to_string(symbols).expect("capi-tests/symbols.txt");
    let mut text = String::from("NBTLS_0 {\n\tglobal:\n");
    for name in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        text.push_str(&format!("\t\t{name};\n"));
    }
    text.push_str("\tlocal:\n\t\t*;\n};\n");
    std::fs::write(map, text).expect("writing nbtls.map");
}
