//! Generates the C header from src/ffi/ with cbindgen, into OUT_DIR; with
//! NBTLS_WRITE_HEADER=1 (`make header`) also into include/nbtls.h, which is committed.
//! Sets the shared library's soname, and makes the one `libnbtls.so.0` link beside the library
//! that every program linked against the build tree needs (cargo makes none).
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=NBTLS_WRITE_HEADER");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libnbtls.so.0");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        dir.join("nbtls.map").display()
    );
    println!("cargo:rerun-if-changed=nbtls.map");
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
