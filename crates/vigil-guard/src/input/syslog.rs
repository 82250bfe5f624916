//! Linux log lines as flat events: syslog (RFC 3164 and RFC 5424, parsed by the
//! `syslog_loose` crate) and auditd records (`type=... msg=audit(TIME:SERIAL): k=v ...`).
//!
//! A syslog line gives `facility`, `severity`, `hostname`, `appname`, `procid`, `msgid`,
//! each structured-data parameter as `ID.name`, and the text as `message`; an auditd
//! record gives `type`, `node` and every `key=value` pair, quotes removed and hex-encoded
//! arguments (`a0`, `proctitle`, ...) decoded, as SigmaHQ's auditd rules expect. An auditd
//! record relayed through syslog (`audispd: type=EXECVE ...`) is read as an auditd record.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::logsource::linux::{LinuxSource, syslog_service};

/// One Linux log line, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct LinuxRecord {
    pub fields: Map<String, Value>,
    /// RFC 3339, when the line has a time.
    pub time: Option<String>,
    pub source: LinuxSource,
}

/// Parse a syslog or auditd line; None when it is neither.
pub fn parse_line(line: &str) -> Option<LinuxRecord> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return None;
    }
    let trimmed = line.trim_start();
    if trimmed.starts_with("type=") || trimmed.starts_with("node=") {
        return parse_auditd(trimmed);
    }
    parse_syslog(line)
}

/// The year of an RFC 3164 date, which has none: this year, unless that puts the line
/// in the future (a December line read in January).
fn year_of(date: syslog_loose::IncompleteDate) -> i32 {
    let now = Utc::now();
    let (month, day, hour, minute, second) = date;
    let this_year = Utc
        .with_ymd_and_hms(now.year(), month, day, hour, minute, second)
        .single();
    match this_year {
        Some(t) if t > now + chrono::Duration::days(1) => now.year() - 1,
        _ => now.year(),
    }
}

fn parse_syslog(line: &str) -> Option<LinuxRecord> {
    let m = syslog_loose::parse_message_with_year_exact_tz(
        line,
        year_of,
        Some(Utc),
        syslog_loose::Variant::Either,
    )
    .ok()?;
    // A line with neither a priority nor a time is not syslog, whatever the parser made
    // of it.
    if m.timestamp.is_none() && m.facility.is_none() {
        return None;
    }
    let msg = m.msg.trim();
    if let Some(appname) = m.appname
        && (msg.starts_with("type=") || msg.starts_with("node="))
        && let Some(mut audit) = parse_auditd(msg)
    {
        audit
            .fields
            .entry("appname")
            .or_insert_with(|| Value::from(appname));
        if let Some(h) = m.hostname {
            audit
                .fields
                .entry("hostname")
                .or_insert_with(|| Value::from(h));
        }
        return Some(audit);
    }
    let mut fields = Map::new();
    let mut put = |k: &str, v: Value| {
        fields.insert(k.to_string(), v);
    };
    if let Some(f) = m.facility {
        put("facility", Value::from(f.as_str()));
    }
    if let Some(s) = m.severity {
        put("severity", Value::from(s.as_str()));
    }
    if let Some(h) = m.hostname {
        put("hostname", Value::from(h));
    }
    if let Some(a) = m.appname {
        put("appname", Value::from(a));
    }
    if let Some(p) = &m.procid {
        put("procid", Value::from(p.to_string()));
    }
    if let Some(id) = m.msgid {
        put("msgid", Value::from(id));
    }
    for element in &m.structured_data {
        for (name, value) in element.params() {
            put(&format!("{}.{}", element.id, name), Value::from(value));
        }
    }
    put("message", Value::from(msg));
    let service = m.appname.and_then(syslog_service);
    Some(LinuxRecord {
        fields,
        time: m.timestamp.map(|t| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        }),
        source: LinuxSource::Syslog(service),
    })
}

/// Fields whose unquoted value auditd writes in hex when it holds spaces, quotes or
/// control characters.
fn hex_encoded(key: &str) -> bool {
    matches!(
        key,
        "proctitle" | "cmd" | "comm" | "exe" | "name" | "cwd" | "path" | "data" | "key"
    ) || (key.starts_with('a')
        && key.len() > 1
        && key[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'[' || b == b']'))
}

/// The text of an auditd hex value, when it is one (NULs between arguments become
/// spaces, as `ausearch -i` shows them).
fn decode_hex(v: &str) -> Option<String> {
    if v.len() < 2 || !v.len().is_multiple_of(2) || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Vec<u8> = (0..v.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&v[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let text = text.trim_end_matches('\0').replace('\0', " ");
    // Printable text only: a number that happens to be all hex digits stays a number.
    (!text.is_empty() && text.chars().all(|c| !c.is_control())).then_some(text)
}

/// `key=value` pairs of an auditd record; values may be "quoted" or 'quoted'. The
/// enriched format's interpreted values follow a 0x1D byte and are read the same way.
fn pairs(text: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{1d}');
        if rest.is_empty() {
            break;
        }
        let Some(eq) = rest.find('=') else { break };
        let key = &rest[..eq];
        if key.is_empty() || key.contains(char::is_whitespace) {
            // Not a pair: skip one word.
            let next = rest
                .find(|c: char| c.is_whitespace() || c == '\u{1d}')
                .unwrap_or(rest.len());
            rest = &rest[next..];
            continue;
        }
        let after = &rest[eq + 1..];
        let (value, used) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => match after[1..].find(q) {
                Some(end) => (after[1..1 + end].to_string(), end + 2),
                None => (after[1..].to_string(), after.len()),
            },
            _ => {
                let end = after
                    .find(|c: char| c.is_whitespace() || c == '\u{1d}')
                    .unwrap_or(after.len());
                let raw = &after[..end];
                let value = if hex_encoded(key) {
                    decode_hex(raw).unwrap_or_else(|| raw.to_string())
                } else {
                    raw.to_string()
                };
                (value, end)
            }
        };
        out.push((key, value));
        rest = &after[used..];
    }
    out
}

fn parse_auditd(line: &str) -> Option<LinuxRecord> {
    // `msg=audit(1700000000.123:456):` splits the header from the record's own pairs.
    let start = line.find("msg=audit(")?;
    let stamp_start = start + "msg=audit(".len();
    let stamp_end = stamp_start + line[stamp_start..].find(')')?;
    let stamp = &line[stamp_start..stamp_end];
    let (secs, serial) = stamp.split_once(':')?;
    let body = line[stamp_end + 1..].trim_start_matches(':');
    let mut fields = Map::new();
    for (k, v) in pairs(&line[..start]) {
        fields.insert(k.to_string(), Value::from(v));
    }
    fields.insert("msg".into(), Value::from(format!("audit({stamp})")));
    fields.insert("audit_serial".into(), Value::from(serial));
    for (k, v) in pairs(body) {
        // The record's own `msg='...'` (user-space messages) is read as pairs too.
        if k == "msg" {
            for (k2, v2) in pairs(&v) {
                fields.entry(k2.to_string()).or_insert(Value::from(v2));
            }
        }
        fields.entry(k.to_string()).or_insert(Value::from(v));
    }
    fields.get("type")?;
    let time = secs
        .split_once('.')
        .map_or(Some((secs, "0")), Some)
        .and_then(|(s, frac)| {
            let s: i64 = s.parse().ok()?;
            let millis: u32 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
            DateTime::from_timestamp(s, millis * 1_000_000)
        })
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    Some(LinuxRecord {
        fields,
        time,
        source: LinuxSource::Auditd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(r: &'a LinuxRecord, k: &str) -> &'a str {
        r.fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{k}: {:?}", r.fields))
    }

    #[test]
    fn rfc3164_and_rfc5424_lines_give_their_parts() {
        let r = parse_line(
            "<38>Dec 21 17:13:54 testserver useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john, shell=/bin/bash",
        )
        .unwrap();
        assert_eq!(field(&r, "hostname"), "testserver");
        assert_eq!(field(&r, "appname"), "useradd");
        assert_eq!(field(&r, "procid"), "1337");
        assert_eq!(field(&r, "facility"), "auth");
        assert!(field(&r, "message").starts_with("new user: name=john"));
        assert_eq!(r.source, LinuxSource::Syslog(None));
        assert!(r.time.as_deref().unwrap().contains("-12-21T17:13:54"));

        let r =
            parse_line("Oct 11 22:14:15 web01 sshd[2211]: error: Corrupted MAC on input.").unwrap();
        assert_eq!(r.source, LinuxSource::Syslog(Some("sshd")));

        let r = parse_line(
            r#"<165>1 2026-10-11T22:14:15.003Z host1 cron 1370 ID47 [origin@32473 ip="10.0.0.5"] (root) REPLACE (root)"#,
        )
        .unwrap();
        assert_eq!(r.time.as_deref(), Some("2026-10-11T22:14:15.003Z"));
        assert_eq!(field(&r, "msgid"), "ID47");
        assert_eq!(field(&r, "origin@32473.ip"), "10.0.0.5");
        assert_eq!(r.source, LinuxSource::Syslog(Some("cron")));
    }

    #[test]
    fn auditd_records_give_their_pairs_decoded() {
        let r = parse_line(
            r#"type=EXECVE msg=audit(1700000000.25:4242): argc=3 a0="truncate" a1="-s" a2=2F746D702F61206B6579"#,
        )
        .unwrap();
        assert_eq!(r.source, LinuxSource::Auditd);
        assert_eq!(field(&r, "type"), "EXECVE");
        assert_eq!(field(&r, "a0"), "truncate");
        assert_eq!(field(&r, "a2"), "/tmp/a key");
        assert_eq!(field(&r, "argc"), "3");
        assert_eq!(field(&r, "audit_serial"), "4242");
        assert_eq!(r.time.as_deref(), Some("2023-11-14T22:13:20.250Z"));

        let r = parse_line(
            "node=db1 type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=59 success=yes exe=\"/usr/bin/dd\" key=\"susp\"\u{1d}ARCH=x86_64 SYSCALL=execve",
        )
        .unwrap();
        assert_eq!(field(&r, "node"), "db1");
        assert_eq!(field(&r, "syscall"), "59");
        assert_eq!(field(&r, "SYSCALL"), "execve");
        assert_eq!(field(&r, "exe"), "/usr/bin/dd");
        // A hex-looking number that is not text stays as written.
        assert_eq!(field(&r, "arch"), "c000003e");

        let relayed = parse_line(
            "<14>Nov 14 22:13:20 db1 audispd: type=PATH msg=audit(1700000000.000:8): item=0 name=\"/etc/shadow\"",
        )
        .unwrap();
        assert_eq!(relayed.source, LinuxSource::Auditd);
        assert_eq!(field(&relayed, "name"), "/etc/shadow");
        assert_eq!(field(&relayed, "hostname"), "db1");
    }

    #[test]
    fn other_text_is_not_a_linux_line() {
        for line in [
            "",
            "   ",
            "hello world",
            "{\"a\": 1}",
            "type=X no stamp",
            "12345",
        ] {
            assert!(parse_line(line).is_none(), "{line:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "type=EXECVE msg=audit(:):",
            "type=EXECVE msg=audit(1.2:3): a0=\"unterminated",
            "type=EXECVE msg=audit(99999999999999999999.1:3): a0=41",
            "node= type= msg=audit(1:1): ==== = =x",
            "<999>Feb 30 99:99:99 h a[: ",
            "<1>1 - - - - - -",
            "\u{1d}\u{1d}type=\u{1d}msg=audit(1:1):\u{1d}",
        ];
        for s in samples {
            let _ = parse_line(s);
            for cut in 0..s.len() {
                if s.is_char_boundary(cut) {
                    let _ = parse_line(&s[..cut]);
                }
            }
        }
    }
}
