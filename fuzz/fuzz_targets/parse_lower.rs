//! Parse-and-lower must never panic, overflow the stack or hang, whatever the bytes.
//! First byte picks the language (even: Java, odd: Python); the rest is the source,
//! decoded as lossy UTF-8 the way `vigil_code::parse_file` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_code::Lang;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let lang = if first % 2 == 0 {
        Lang::Java
    } else {
        Lang::Python
    };
    let source = String::from_utf8_lossy(rest);
    let _ = vigil_code::parse(lang, &source);
});
