//! Links against libnbtls.so: $NBTLS_LIBDIR, else ../../target/release (the source tree's
//! `make lib` output).  An rpath is recorded so the tests run without LD_LIBRARY_PATH.
use std::path::PathBuf;

fn main() {
    let dir = match std::env::var_os("NBTLS_LIBDIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release"),
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    println!("cargo:rerun-if-env-changed=NBTLS_LIBDIR");
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-lib=dylib=nbtls");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
}
