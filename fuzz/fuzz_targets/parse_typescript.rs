//! Parse-and-lower of TypeScript must never panic, overflow the stack or hang, whatever the
//! bytes. First byte picks the grammar (even: TypeScript `.ts`, odd: TSX `.tsx`); the rest
//! is the source, decoded as lossy UTF-8 the way `vigil_code::parse_file` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let path = if first % 2 == 0 { "x.ts" } else { "x.tsx" };
    let source = String::from_utf8_lossy(rest);
    let _ = vigil_code::parse_path(Path::new(path), &source);
});
