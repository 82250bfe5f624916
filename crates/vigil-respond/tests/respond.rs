//! The response path end to end, against a real HTTP server on loopback, real files and a
//! real program: dry run, webhook body, retries, rate limit, de-duplication, audit log,
//! block list, and commands that are never run through a shell.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use vigil_core::{Alert, Severity};
use vigil_respond::{Outcome, Responder, ResponderOptions, load_playbooks};

fn alert(record: u64, computer: &str) -> Alert {
    Alert {
        rule_id: Some("5f1f-rule".into()),
        title: "Mimikatz use".into(),
        level: Some(Severity::High),
        tags: vec!["attack.credential_access".into(), "attack.t1003.001".into()],
        rule_path: None,
        source: PathBuf::from("security.evtx"),
        record,
        time: Some("2026-11-27T10:00:00Z".into()),
        matched: Vec::new(),
        event: serde_json::json!({
            "Computer": computer,
            "IpAddress": "10.1.2.3\nINJECTED",
            "User": "bob; touch /tmp/pwned",
        })
        .into(),
    }
}

/// A loopback HTTP server that answers each request with the next status in `statuses`
/// (200 after they run out) and records the bodies it got.
struct Server {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    _thread: std::thread::JoinHandle<()>,
}

fn server(statuses: Vec<u16>, expect: usize) -> Server {
    let srv = tiny_http::Server::http("127.0.0.1:0").expect("bind loopback");
    let port = srv.server_addr().to_ip().expect("ip address").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    let thread = std::thread::spawn(move || {
        let mut statuses = statuses.into_iter();
        // Bounded: serve at most `expect` requests, and stop after 20 s of silence.
        for _ in 0..expect {
            let Ok(Some(mut req)) = srv.recv_timeout(std::time::Duration::from_secs(20)) else {
                return;
            };
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
            seen.lock().expect("lock").push(body);
            let code = statuses.next().unwrap_or(200);
            let _ = req.respond(tiny_http::Response::from_string("ok").with_status_code(code));
        }
    });
    Server {
        url: format!("http://127.0.0.1:{port}/hook"),
        bodies,
        _thread: thread,
    }
}

fn playbooks(dir: &Path, text: &str) -> Vec<vigil_respond::Playbook> {
    let f = dir.join("pb.toml");
    std::fs::write(&f, text).expect("write playbook");
    load_playbooks(&[f]).expect("playbook loads")
}

fn audit_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect()
}

#[test]
fn dry_run_by_default_sends_nothing_but_records_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = server(vec![], 1);
    let pbs = playbooks(
        dir.path(),
        &format!(
            "[[playbook]]\nname = \"notify\"\n[[playbook.actions]]\ntype = \"webhook\"\nurl = \"{}\"\n",
            srv.url
        ),
    );
    let audit = dir.path().join("audit.jsonl");
    let r = Responder::new(
        pbs,
        ResponderOptions {
            audit_log: Some(audit.clone()),
            ..ResponderOptions::default()
        },
    );
    let recs = r.respond(&alert(1, "ws1")).expect("audit written");
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].outcome, Outcome::DryRun);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        srv.bodies.lock().expect("lock").is_empty(),
        "dry run sent a request"
    );
    let lines = audit_lines(&audit);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["outcome"], "dry_run");
    assert_eq!(lines[0]["record"], 1);
    assert_eq!(lines[0]["rule_id"], "5f1f-rule");
}

#[test]
fn webhook_posts_the_rendered_body_and_retries_a_failing_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Fails twice with 500, then answers 200.
    let srv = server(vec![500, 500], 3);
    let pbs = playbooks(
        dir.path(),
        &format!(
            r#"
[[playbook]]
name = "notify"
match = {{ min_level = "high", tags = ["attack.credential_access"] }}
[[playbook.actions]]
type = "webhook"
url = "{}"
retries = 3
body = {{ text = "{{rule.title}} on {{event.Computer}}", record = "{{record}}", level = "{{rule.level}}" }}
"#,
            srv.url
        ),
    );
    let audit = dir.path().join("audit.jsonl");
    let r = Responder::new(
        pbs,
        ResponderOptions {
            dry_run: false,
            audit_log: Some(audit.clone()),
        },
    );
    let recs = r.respond(&alert(7, "ws1")).expect("audit");
    assert_eq!(recs[0].outcome, Outcome::Done, "{recs:?}");
    assert_eq!(recs[0].attempts, 3);
    let bodies = srv.bodies.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 3);
    let body: serde_json::Value = serde_json::from_str(&bodies[2]).expect("JSON body");
    assert_eq!(body["text"], "Mimikatz use on ws1");
    assert_eq!(body["record"], "7");
    assert_eq!(body["level"], "high");
    assert_eq!(audit_lines(&audit)[0]["attempts"], 3);
}

#[test]
fn a_dead_endpoint_is_retried_a_bounded_number_of_times_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let pbs = playbooks(
        dir.path(),
        &format!(
            "[[playbook]]\nname = \"notify\"\n[[playbook.actions]]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:{port}/x\"\nretries = 2\ntimeout_seconds = 2\n"
        ),
    );
    let audit = dir.path().join("audit.jsonl");
    let r = Responder::new(
        pbs,
        ResponderOptions {
            dry_run: false,
            audit_log: Some(audit.clone()),
        },
    );
    let recs = r.respond(&alert(1, "ws1")).expect("audit");
    assert_eq!(recs[0].outcome, Outcome::Failed);
    assert_eq!(recs[0].attempts, 3);
    assert!(!recs[0].detail.is_empty());
    assert_eq!(audit_lines(&audit)[0]["outcome"], "failed");
}

#[test]
fn rate_limit_and_dedup_bound_the_actions_and_are_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = server(vec![], 10);
    let pbs = playbooks(
        dir.path(),
        &format!(
            r#"
[[playbook]]
name = "page"
[[playbook.actions]]
type = "webhook"
url = "{}"
rate_limit = {{ max = 2, per_seconds = 60 }}
dedup_seconds = 300
dedup_key = "{{rule.id}}/{{event.Computer}}"
"#,
            srv.url
        ),
    );
    let r = Responder::new(
        pbs,
        ResponderOptions {
            dry_run: false,
            audit_log: None,
        },
    );
    let mut outcomes = Vec::new();
    // ws1 twice (duplicate), then ws2, ws3, ws4: two pass the rate limit.
    for (i, host) in ["ws1", "ws1", "ws2", "ws3", "ws4"].iter().enumerate() {
        let recs = r.respond(&alert(i as u64, host)).expect("audit");
        outcomes.push(recs[0].outcome.clone());
    }
    assert_eq!(
        outcomes,
        vec![
            Outcome::Done,
            Outcome::Duplicate,
            Outcome::Done,
            Outcome::RateLimited,
            Outcome::RateLimited
        ]
    );
    assert_eq!(srv.bodies.lock().expect("lock").len(), 2);
    assert_eq!(r.records().len(), 5, "every decision is recorded");
}

#[test]
fn blocklist_appends_one_line_even_from_hostile_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("block.txt");
    let pbs = playbooks(
        dir.path(),
        &format!(
            "[[playbook]]\nname = \"block\"\n[[playbook.actions]]\ntype = \"blocklist\"\npath = {:?}\nvalue = \"{{event.IpAddress}}\"\n",
            list.display().to_string()
        ),
    );
    let r = Responder::new(
        pbs,
        ResponderOptions {
            dry_run: false,
            audit_log: None,
        },
    );
    r.respond(&alert(1, "ws1")).expect("audit");
    r.respond(&alert(2, "ws1")).expect("audit");
    let text = std::fs::read_to_string(&list).expect("block list written");
    assert_eq!(text, "10.1.2.3 INJECTED\n10.1.2.3 INJECTED\n");
}

#[test]
fn commands_get_event_values_as_single_arguments_never_through_a_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pbs = playbooks(
        dir.path(),
        "[[playbook]]\nname = \"isolate\"\n[[playbook.actions]]\ntype = \"command\"\nprogram = \"/bin/echo\"\nargs = [\"isolate\", \"{event.User}\"]\n",
    );
    let r = Responder::new(
        pbs,
        ResponderOptions {
            dry_run: false,
            audit_log: None,
        },
    );
    let recs = r.respond(&alert(1, "ws1")).expect("audit");
    assert_eq!(recs[0].outcome, Outcome::Done, "{recs:?}");
    // echo printed the hostile value verbatim; no shell ran `touch`.
    assert_eq!(recs[0].detail, "exit 0: isolate bob; touch /tmp/pwned");
}

#[test]
fn playbooks_that_could_do_harm_by_mistake_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = [
        "[[playbook]]\nname = \"x\"\nactions = []\n",
        "[[playbook]]\nname = \"x\"\n[[playbook.actions]]\ntype = \"command\"\nprogram = \"sh\"\nargs = []\n",
        "[[playbook]]\nname = \"x\"\n[[playbook.actions]]\ntype = \"webhook\"\nurl = \"file:///etc/passwd\"\n",
        "[[playbook]]\nname = \"x\"\n[[playbook.actions]]\ntype = \"webhook\"\nurl = \"http://h\"\nrate_limit = { max = 0, per_seconds = 1 }\n",
        "[[playbook]]\nname = \"x\"\n[[playbook.actions]]\ntype = \"teleport\"\n",
    ];
    for (i, text) in bad.iter().enumerate() {
        let f = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&f, text).expect("write");
        let err = load_playbooks(&[f]).expect_err(text);
        assert!(err.to_string().contains(&format!("bad{i}.toml")), "{err}");
    }
}

#[test]
fn match_filters_by_rule_tag_and_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pbs = playbooks(
        dir.path(),
        r#"
[[playbook]]
name = "critical-only"
match = { min_level = "critical" }
[[playbook.actions]]
type = "command"
program = "/bin/true"
args = []

[[playbook]]
name = "lateral"
match = { tags = ["attack.lateral_movement"] }
[[playbook.actions]]
type = "command"
program = "/bin/true"
args = []

[[playbook]]
name = "this-rule"
match = { rules = ["5f1f-rule"], tags = ["attack.t1003"] }
[[playbook.actions]]
type = "command"
program = "/bin/true"
args = []
"#,
    );
    let r = Responder::new(pbs, ResponderOptions::default());
    let recs = r.respond(&alert(1, "ws1")).expect("audit");
    let names: Vec<&str> = recs.iter().map(|r| r.playbook.as_str()).collect();
    assert_eq!(names, vec!["this-rule"]);
}
