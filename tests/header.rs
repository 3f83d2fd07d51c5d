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
