//! The Go adapter must never panic, overflow the stack or hang, whatever the bytes: the
//! input is Go source (lossy UTF-8, as `vigil_code::parse_file` decodes files) for
//! `vigil_code::parse` (tree-sitter-go plus lowering to the IR).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_code::Lang;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let _ = vigil_code::parse(Lang::Go, &source);
});
