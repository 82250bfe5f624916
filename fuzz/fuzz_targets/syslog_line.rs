//! Syslog and auditd lines (`vigil_guard::input::syslog::parse_line`), and the same bytes
//! read as a line stream, where they are tried as JSON first: no input may panic, and a
//! line that parses as a Linux record gives an event with the product `linux`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let _ = vigil_guard::input::syslog::parse_line(line);
    }
    for item in vigil_guard::read_jsonl_from(data, Path::new("fuzz.log")) {
        if let Ok(event) = item
            && event.linux.is_some()
        {
            assert_eq!(event.product, Some("linux"));
        }
    }
});
