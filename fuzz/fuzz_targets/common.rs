//! Shared by the vigil-guard targets: a small fixed Sigma rule set (loaded once) whose
//! rules use most of the modifiers rsigma compiles (contains/all, startswith, endswith,
//! re with flags, windash, cidr, base64offset, utf16le, cased, exists, fieldref, numeric
//! comparisons, null, keyword lists, `1 of` / `all of` / `not`), routed through Windows
//! logsources and product-less ones, so that every event read is evaluated by several
//! engines. Events and rules are arbitrary input: nothing here may panic.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use vigil_guard::{Event, RuleSet, load_rules_from_strs, match_event};

const RULES: &[(&str, &str)] = &[
    (
        "process_creation.yml",
        r#"title: Fuzz process creation
id: 0f0f0f0f-0000-4000-8000-000000000001
level: high
tags: [attack.execution, attack.t1059.001]
logsource:
    product: windows
    category: process_creation
detection:
    selection_img:
        Image|endswith:
            - '\powershell.exe'
            - '\cmd.exe'
        OriginalFileName|startswith: 'Power'
    selection_cli:
        CommandLine|contains|all:
            - 'http'
            - 'Invoke-'
    selection_dash:
        CommandLine|windash|contains:
            - ' -enc '
            - ' -EncodedCommand '
    selection_b64:
        CommandLine|base64offset|contains: 'IEX ('
    selection_wide:
        CommandLine|utf16le|base64offset|contains: 'http://'
    filter:
        ParentImage|re|i: '^c:\\windows\\(system32|syswow64)\\[a-z]+\.exe$'
    condition: 1 of selection_* and not filter
"#,
    ),
    (
        "network.yml",
        r#"title: Fuzz network
id: 0f0f0f0f-0000-4000-8000-000000000002
level: medium
logsource:
    product: windows
    category: network_connection
detection:
    selection:
        DestinationIp|cidr:
            - '10.0.0.0/8'
            - '192.168.0.0/16'
            - 'fe80::/10'
        DestinationPort|gte: 1024
        DestinationPort|lt: 65536
    exclusion:
        DestinationHostname: null
    condition: selection and not exclusion
"#,
    ),
    (
        "security.yml",
        r#"title: Fuzz security logon
id: 0f0f0f0f-0000-4000-8000-000000000003
level: low
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 4624
            - 4625
            - 4688
        LogonType|neq: 3
        TargetUserName|cased|endswith: '$'
    ref:
        SubjectUserName|fieldref: TargetUserName
    condition: selection or ref
"#,
    ),
    (
        "keywords.yml",
        r#"title: Fuzz keywords
id: 0f0f0f0f-0000-4000-8000-000000000004
level: informational
logsource:
    product: windows
    service: system
detection:
    keywords:
        - 'mimikatz'
        - 'sekurlsa::'
        - '*\\ADMIN$\\*'
    numbers:
        - 7045
    condition: keywords or numbers
"#,
    ),
    (
        "any.yml",
        r#"title: Fuzz any product
id: 0f0f0f0f-0000-4000-8000-000000000005
level: critical
logsource:
    category: fuzz
detection:
    sel_exists:
        Data|exists: true
        value|exists: false
    sel_re:
        a.b|re|s|m: '^x.*y$'
        list|contains: '?'
    sel_all:
        '|all':
            - 'foo'
            - 'bar'
    condition: all of sel_* or sel_exists
"#,
    ),
    (
        "multi.yml",
        r#"title: Fuzz powershell script
id: 0f0f0f0f-0000-4000-8000-000000000006
logsource:
    product: windows
    category: ps_script
detection:
    selection:
        ScriptBlockText|contains|all:
            - 'Net.WebClient'
            - 'DownloadString'
    wildcard:
        ScriptBlockText: '*Add-Type*DllImport*'
    condition: selection or wildcard
---
title: Fuzz registry
id: 0f0f0f0f-0000-4000-8000-000000000007
logsource:
    product: windows
    category: registry_set
detection:
    selection:
        TargetObject|contains: '\CurrentVersion\Run'
        Details|startswith:
            - 'C:\Users\'
            - '%APPDATA%'
    condition: selection
"#,
    ),
];

/// The fixed rule set, compiled once per process.
pub fn rules() -> &'static RuleSet {
    static RULES_SET: OnceLock<RuleSet> = OnceLock::new();
    RULES_SET.get_or_init(|| {
        let docs: Vec<(PathBuf, String)> = RULES
            .iter()
            .map(|(name, text)| (PathBuf::from(*name), (*text).to_string()))
            .collect();
        let (set, errors) = load_rules_from_strs(&docs);
        assert!(errors.is_empty(), "fuzz rule set does not load: {errors:?}");
        assert!(set.len() >= RULES.len(), "fuzz rule set: {:?}", set.stats);
        set
    })
}

/// Match one event against the fixed rule set, touching what an alert carries.
pub fn check(event: &Event) {
    let rules = rules();
    for alert in match_event(rules, event) {
        std::hint::black_box((&alert.title, &alert.matched, alert.record));
    }
}

/// Run `f` on a thread with a 2 MiB stack, the size of rayon's workers (and of the test
/// harness's threads), where the CLI reads files and loads rules; the fuzzer's main thread
/// has 8 MiB and would hide recursion that overflows there.
///
/// A stack overflow there must still leave an artifact. libFuzzer's SIGSEGV handler is
/// installed without `SA_ONSTACK`, so on an overflowed stack it cannot run and the process
/// just dies (without ASan, whose handler does use an alternate stack). So the worker gets
/// an alternate signal stack of its own and libFuzzer's handler is switched onto it.
pub fn on_worker_stack<F: FnOnce() + Send>(f: F) {
    static HANDLER_ON_ALTSTACK: std::sync::Once = std::sync::Once::new();
    HANDLER_ON_ALTSTACK.call_once(|| {
        // SAFETY: reads the installed SIGSEGV action and reinstalls it with one more flag.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut action) == 0
                && action.sa_sigaction != libc::SIG_DFL
                && action.sa_sigaction != libc::SIG_IGN
            {
                action.sa_flags |= libc::SA_ONSTACK;
                libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut());
            }
        }
    });
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(scope, || {
                // libFuzzer's crash handler prints a symbolized stack trace: give it room.
                let mut alt = vec![0u8; 1 << 20];
                // SAFETY: `alt` outlives every use: the alternate stack is switched off
                // again below before it is freed, and this thread runs nothing else.
                unsafe {
                    let stack = libc::stack_t {
                        ss_sp: alt.as_mut_ptr().cast(),
                        ss_flags: 0,
                        ss_size: alt.len(),
                    };
                    libc::sigaltstack(&stack, std::ptr::null_mut());
                }
                f();
                unsafe {
                    let off = libc::stack_t {
                        ss_sp: std::ptr::null_mut(),
                        ss_flags: libc::SS_DISABLE,
                        ss_size: 0,
                    };
                    libc::sigaltstack(&off, std::ptr::null_mut());
                }
                drop(alt);
            })
            .expect("spawn fuzz worker thread");
        // A panic there has already aborted the process (libfuzzer-sys's panic hook).
        let _ = worker.join();
    });
}
