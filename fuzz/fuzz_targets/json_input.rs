//! JSON input. The first byte picks the path, the rest is the input:
//!
//! * `% 3 == 0`: JSON lines through `vigil_guard::read_jsonl_from` (an in-memory reader;
//!   a line that opens with `{` takes `Event::from_json_slice`, which flattens records of
//!   the `evtx` crate's shape while parsing them);
//! * `% 3 == 1`: a JSON document through `vigil_guard::input::parse_json_document`;
//! * `% 3 == 2`: differential: `Event::from_json_slice` of the bytes must give exactly
//!   what `Event::from_json` of `serde_json::from_slice` gives (fields with their key
//!   order, time, product), or fail exactly when the parse fails.
//!
//! Every event is matched against a small fixed rule set, on a 2 MiB thread like the
//! CLI's workers. Any panic, stack overflow, hang or memory blow-up is a bug; so is a
//! difference in the differential mode.
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use vigil_guard::Event;

fn differential(bytes: &[u8]) {
    let file = Arc::new(PathBuf::from("fuzz.json"));
    let fast = Event::from_json_slice(Arc::clone(&file), 1, bytes);
    let slow =
        serde_json::from_slice::<serde_json::Value>(bytes).map(|v| Event::from_json(file, 1, v));
    match (fast, slow) {
        (Ok(fast), Ok(slow)) => {
            let text = |e: &Event| serde_json::to_string(&e.fields).unwrap_or_default();
            assert_eq!(text(&fast), text(&slow), "fields differ");
            assert_eq!(fast.time, slow.time, "time differs");
            assert_eq!(fast.product, slow.product, "product differs");
            common::check(&fast);
        }
        (Err(_), Err(_)) => {}
        (fast, slow) => panic!(
            "one path failed: from_json_slice {:?}, from_json {:?}",
            fast.err(),
            slow.err()
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    common::rules();
    common::on_worker_stack(|| {
        let name = Path::new("fuzz.json");
        let items: Box<dyn Iterator<Item = _>> = match first % 3 {
            0 => Box::new(vigil_guard::read_jsonl_from(rest, name)),
            1 => Box::new(vigil_guard::input::parse_json_document(rest, name).into_iter()),
            _ => return differential(rest),
        };
        for item in items {
            match item {
                Ok(event) => common::check(&event),
                Err(e) => {
                    std::hint::black_box(e.to_string());
                }
            }
        }
    });
});
