//! Every exported function opens the panic boundary, and each `unsafe` block says why it is
//! sound; `unsafe` appears only under src/ffi/ and src/sys/, and OS calls only under src/sys/.
use std::path::PathBuf;

fn sources(sub: &str) -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(sub);
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

/// The body of each `extern "C" fn`, by name.
fn exports(src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("extern \"C\" fn ") {
        let after = &rest[i + 14..];
        let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let open = after.find('{').unwrap();
        let mut depth = 0;
        let mut end = open;
        for (j, ch) in after[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j;
                        break;
                    }
                }
                _ => {}
            }
        }
        // Skip type aliases of callbacks (no body of their own).
        if !after[..open].contains(';') {
            out.push((name, after[open..=end].to_string()));
        }
        rest = &after[end..];
    }
    out
}

#[test]
fn every_export_opens_the_boundary() {
    let mut n = 0;
    for (path, src) in sources("src/ffi") {
        for (name, body) in exports(&src) {
            n += 1;
            let first = body.trim_start_matches('{').trim_start();
            assert!(
                first.starts_with("boundary!("),
                "{}: {name} does not open the panic boundary first",
                path.display()
            );
            assert!(
                src.contains(&format!("#[unsafe(no_mangle)]\npub unsafe extern \"C\" fn {name}")),
                "{name}: exports are written out as #[unsafe(no_mangle)] pub unsafe extern \"C\" fn"
            );
        }
    }
    assert!(n > 40, "found only {n} exports");
}

#[test]
fn unsafe_only_in_ffi_and_sys_and_each_block_justified() {
    for (path, src) in sources("src") {
        // src/ffi/ (pointers from C) and src/sys/ (the OS calls) are the only homes of unsafe.
        let in_ffi = path.components().any(|c| c.as_os_str() == "ffi" || c.as_os_str() == "sys");
        for (i, line) in src.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            if !(code.contains("unsafe {") || code.contains("unsafe impl")) {
                continue;
            }
            assert!(in_ffi, "{}:{}: unsafe outside src/ffi and src/sys", path.display(), i + 1);
            let prev: Vec<&str> = src.lines().take(i).collect();
            let justified = prev.iter().rev().take(3).any(|l| l.contains("SAFETY:"))
                || line.contains("SAFETY:");
            assert!(
                justified,
                "{}:{}: unsafe block without a SAFETY comment",
                path.display(),
                i + 1
            );
        }
    }
}

#[test]
fn boundary_is_the_only_catch_unwind() {
    for (path, src) in sources("src") {
        if path.ends_with("ffi/boundary.rs") {
            continue;
        }
        assert!(
            !src.contains("catch_unwind"),
            "{}: catch_unwind outside boundary! (a panic must poison through the boundary)",
            path.display()
        );
    }
}

/// The libc functions src/ffi/ may call: they are the C ABI's own contract (memory handed to
/// the caller, errno), not OS calls. Everything else (fstat, getuid, sockets, sigmask,
/// getaddrinfo) belongs in src/sys/.
const FFI_LIBC_CALLS: [&str; 3] = ["malloc", "free", "__errno_location"];

#[test]
fn os_calls_only_in_sys() {
    let mut seen = 0;
    for (path, src) in sources("src/ffi") {
        for (i, line) in src.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            let mut rest = code;
            while let Some(j) = rest.find("libc::") {
                let after = &rest[j + 6..];
                let name: String =
                    after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if after[name.len()..].starts_with('(') {
                    seen += 1;
                    assert!(
                        FFI_LIBC_CALLS.contains(&name.as_str()),
                        "{}:{}: libc::{name} is an OS call: it belongs in src/sys/",
                        path.display(),
                        i + 1
                    );
                }
                rest = &after[name.len()..];
            }
        }
    }
    // The scan finds the calls that are allowed, so it is looking at real code.
    assert!(seen >= 3, "found only {seen} libc calls under src/ffi");
}
