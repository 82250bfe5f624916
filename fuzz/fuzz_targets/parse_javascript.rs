//! Parse-and-lower of JavaScript must never panic, overflow the stack or hang, whatever the
//! bytes. First byte picks the file kind (even: `.js`, odd: `.jsx`, both the JavaScript
//! grammar with JSX); the rest is the source, decoded as lossy UTF-8 the way
//! `vigil_code::parse_file` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let path = if first % 2 == 0 { "x.js" } else { "x.jsx" };
    let source = String::from_utf8_lossy(rest);
    let _ = vigil_code::parse_path(Path::new(path), &source);
});
