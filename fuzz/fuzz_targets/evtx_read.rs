//! EVTX input: the bytes are written to a file (the reader works on paths: it stats the
//! file to detect truncated copies), read with `vigil_guard::read_evtx` to the end, and
//! every event is flattened again and matched against a small fixed rule set. Any panic,
//! stack overflow, hang (`-timeout`) or memory blow-up (`-rss_limit_mb`) is a bug.
#![no_main]

#[path = "common.rs"]
mod common;

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for every input (under /dev/shm when there is
/// one: no disk traffic).
fn input_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::var_os("VIGIL_FUZZ_TMP")
            .map(PathBuf::from)
            .filter(|d| d.is_dir())
            .or_else(|| Some(PathBuf::from("/dev/shm")).filter(|d| d.is_dir()))
            .unwrap_or_else(std::env::temp_dir);
        dir.join(format!("vigil-fuzz-evtx-{}.evtx", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    {
        let mut f = std::fs::File::create(path).expect("create fuzz input file");
        f.write_all(data).expect("write fuzz input file");
    }
    common::rules();
    for item in vigil_guard::read_evtx(path) {
        match item {
            Ok(event) => {
                std::hint::black_box(vigil_guard::flatten(event.fields.to_value()));
                common::check(&event);
            }
            Err(e) => {
                std::hint::black_box(e.to_string());
            }
        }
    }
});
