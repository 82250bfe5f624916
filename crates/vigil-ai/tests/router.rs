//! The router's behaviour: failover over real HTTP (a closed port, then a live server on
//! loopback), circuit breakers, budgets, the concurrency limit, ensembles and the audit log.
//!
//! The live server is `vigil serve`'s own HTTP layer (`vigil_ai::serve::app`); behind it,
//! and behind the in-process providers here, is a small backend that answers from a
//! table, so that these tests run without a model file. The same paths with the real
//! local model are tested in the `vigil` crate.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_ai::config::{RoleConfig, RoleMode, Vote};
use vigil_ai::{
    AuditLog, Backend, BackendError, ChatRequest, ChatResponse, Decision, FinishReason, Message,
    OpenAiBackend, OpenAiConfig, Provider, RouteError, Router, SchemaMode, decide, summarize,
};

/// Answers every call with its text, or fails as told; counts calls.
struct Table {
    name: String,
    answer: Result<String, BackendError>,
    calls: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    delay: Duration,
}

impl Table {
    fn ok(name: &str, text: &str) -> Table {
        Table {
            name: name.into(),
            answer: Ok(text.into()),
            calls: Arc::default(),
            in_flight: Arc::default(),
            max_in_flight: Arc::default(),
            delay: Duration::ZERO,
        }
    }

    fn failing(name: &str) -> Table {
        Table {
            answer: Err(BackendError::Unavailable("down".into())),
            ..Table::ok(name, "")
        }
    }
}

impl Backend for Table {
    fn model(&self) -> &str {
        &self.name
    }

    fn identity(&self) -> String {
        format!("table:{}", self.name)
    }

    fn constrains_output(&self) -> bool {
        false
    }

    fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let text = self.answer.clone()?;
        Ok(ChatResponse {
            tokens_in: request.prompt_text().len() as u64,
            tokens_out: text.len() as u64,
            text,
            finish: FinishReason::Stop,
            model: self.name.clone(),
            timings: None,
        })
    }
}

fn request(text: &str) -> ChatRequest {
    ChatRequest::new(vec![Message::user(text)])
}

fn closed_port() -> u16 {
    // Bound then dropped: nothing listens there.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http(url: String) -> OpenAiBackend {
    OpenAiBackend::new(OpenAiConfig {
        url,
        model: "served".into(),
        api_key: Some("k3y".into()),
        timeout: Duration::from_secs(10),
        retries: 1,
        backoff: Duration::from_millis(10),
        schema_mode: SchemaMode::JsonSchema,
    })
}

/// `vigil serve`'s HTTP layer on a free loopback port, over a table backend.
fn live_server(text: &str) -> String {
    let router = Router::new(vec![Provider::new("table", Box::new(Table::ok("m", text)))]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        vigil_ai::serve::serve(
            "127.0.0.1:0".parse().unwrap(),
            router,
            Some("k3y".into()),
            |addr| tx.send(addr).unwrap(),
        )
        .unwrap();
    });
    let addr = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    format!("http://{addr}/v1")
}

#[test]
fn failover_from_a_closed_port_to_a_live_server_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("calls.jsonl");
    let live = live_server("{\"verdict\":\"true_positive\"}");
    let router = Router::new(vec![
        Provider::new(
            "dead",
            Box::new(http(format!("http://127.0.0.1:{}/v1", closed_port()))),
        ),
        Provider::new("live", Box::new(http(live.clone()))),
    ])
    .with_audit(AuditLog::open(&audit).unwrap());
    for i in 0..5 {
        let a = router
            .complete("triage", &request(&format!("finding {i}")))
            .unwrap();
        assert_eq!(a.provider, "live");
        assert_eq!(a.response.text, "{\"verdict\":\"true_positive\"}");
        assert_eq!(a.identity, live);
    }
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["provider"].as_str().unwrap().into(),
                l["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    let dead_errors = outcomes
        .iter()
        .filter(|(p, o)| p == "dead" && o == "error")
        .count();
    let dead_skipped = outcomes
        .iter()
        .filter(|(p, o)| p == "dead" && o == "skipped")
        .count();
    let live_ok = outcomes
        .iter()
        .filter(|(p, o)| p == "live" && o == "ok")
        .count();
    // Three failures open the dead provider's circuit; the last two calls skip it.
    assert_eq!(
        (dead_errors, dead_skipped, live_ok),
        (3, 2, 5),
        "{outcomes:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["prompt_sha256"].as_str().unwrap().starts_with("sha256:"))
    );
    let s = summarize(&audit).unwrap();
    assert_eq!(s.by_provider.len(), 2);
}

#[test]
fn the_server_checks_its_key_and_request() {
    let live = live_server("hi");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body = serde_json::json!({"model": "x", "messages": [{"role": "user", "content": "a"}]});
    let r = agent
        .post(&format!("{live}/chat/completions"))
        .send_json(&body)
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut r = agent
        .post(&format!("{live}/chat/completions"))
        .header("Authorization", "Bearer k3y")
        .send_json(serde_json::json!({"messages": "nope"}))
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.body_mut().read_to_string().unwrap().contains("messages"));
    let mut r = agent
        .post(&format!("{live}/chat/completions"))
        .header("Authorization", "Bearer k3y")
        .send_json(&body)
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "hi");
    assert_eq!(v["usage"]["completion_tokens"], 2);
}

#[test]
fn every_provider_failing_is_an_error_that_names_each() {
    let router = Router::new(vec![
        Provider::new("a", Box::new(Table::failing("a"))),
        Provider::new("b", Box::new(Table::failing("b"))),
    ]);
    match router.complete("triage", &request("x")) {
        Err(RouteError::AllFailed(f)) => {
            assert_eq!(
                f.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
                vec!["a", "b"]
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Router::new(vec![
            Provider::new("a", Box::new(Table::ok("a", "x"))).with_roles(vec!["summarize".into()])
        ])
        .complete("triage", &request("x")),
        Err(RouteError::NoProvider(_))
    ));
}

#[test]
fn an_open_circuit_still_gets_a_trial_when_nothing_else_is_left() {
    let flaky = Table::failing("only");
    let calls = flaky.calls.clone();
    let router = Router::new(vec![Provider::new("only", Box::new(flaky))]);
    for _ in 0..5 {
        assert!(router.complete("triage", &request("x")).is_err());
    }
    // Never skipped outright: with one provider, an open circuit is tried rather than
    // a finding lost.
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[test]
fn the_budget_stops_calls_at_the_limit_and_keeps_what_was_made() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("calls.jsonl");
    let table = Table::ok("m", "0123456789"); // 10 tokens out per call
    let calls = table.calls.clone();
    // "user\nabc\n" is 9 prompt tokens in this table's counting: 19 per call.
    let router = Router::new(vec![Provider::new("p", Box::new(table))])
        .with_budget(Some(50), None)
        .with_audit(AuditLog::open(&audit).unwrap());
    let mut answers = Vec::new();
    let mut refused = 0;
    for _ in 0..6 {
        match router.complete("triage", &request("abc")) {
            Ok(a) => answers.push(a),
            Err(RouteError::BudgetSpent) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    // 19, 38, 57: the third call crosses 50, after which none is made.
    assert_eq!(answers.len(), 3);
    assert_eq!(refused, 3);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let b = router.budget();
    assert_eq!((b.tokens, b.refused, b.token_limit), (57, 3, Some(50)));
    assert!(b.exhausted());
    let budget_lines = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"outcome\":\"budget\""))
        .count();
    assert_eq!(budget_lines, 3);

    // Money: prices per million tokens.
    let router = Router::new(vec![
        Provider::new("paid", Box::new(Table::ok("m", "0123456789"))).with_prices(1e6, 1e6),
    ])
    .with_budget(None, Some(30.0));
    assert!(router.complete("t", &request("abc")).is_ok()); // 19.0 spent
    assert!(router.complete("t", &request("abc")).is_ok()); // 38.0
    assert_eq!(
        router.complete("t", &request("abc")),
        Err(RouteError::BudgetSpent)
    );
    assert!((router.budget().cost - 38.0).abs() < 1e-9);
}

#[test]
fn at_most_the_concurrency_limit_is_in_flight() {
    let mut table = Table::ok("m", "x");
    table.delay = Duration::from_millis(30);
    let max = table.max_in_flight.clone();
    let router =
        Arc::new(Router::new(vec![Provider::new("p", Box::new(table))]).with_concurrency(2));
    let done = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let r = router.clone();
            let d = done.clone();
            std::thread::spawn(move || {
                r.complete("t", &request("x")).unwrap();
                d.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(done.load(Ordering::SeqCst), 8);
    assert_eq!(max.load(Ordering::SeqCst), 2);
}

#[test]
fn ensembles_ask_everyone_and_votes_decide() {
    let router = Router::new(vec![
        Provider::new("a", Box::new(Table::ok("a", "tp"))),
        Provider::new("b", Box::new(Table::ok("b", "fp"))),
        Provider::new("c", Box::new(Table::ok("c", "tp"))),
        Provider::new("d", Box::new(Table::failing("d"))),
    ])
    .with_roles(
        [(
            "triage".to_string(),
            RoleConfig {
                mode: RoleMode::Ensemble,
                vote: Vote::Majority,
            },
        )]
        .into(),
    );
    assert_eq!(router.role("triage").mode, RoleMode::Ensemble);
    let answers = router.ask_all("triage", &request("x")).unwrap();
    assert_eq!(answers.len(), 4);
    let votes: Vec<String> = answers
        .iter()
        .filter_map(|(_, a)| a.as_ref().ok().map(|a| a.response.text.clone()))
        .collect();
    assert_eq!(
        decide(&votes, Vote::Majority),
        Decision::Agreed("tp".to_string())
    );
    assert_eq!(
        decide(&votes, Vote::Unanimous),
        Decision::Disagreed(vec![("tp".to_string(), 2), ("fp".to_string(), 1)])
    );
    assert!(matches!(
        decide(&["a", "b"], Vote::Majority),
        Decision::Disagreed(_)
    ));
    assert!(matches!(
        decide::<&str>(&[], Vote::Majority),
        Decision::Disagreed(_)
    ));
    // The failure is reported beside the answers, not dropped.
    assert!(answers.iter().any(|(p, a)| p == "d" && a.is_err()));
}

#[test]
fn a_server_error_is_retried_then_reported() {
    // A real HTTP server that fails every request with 503, counting them.
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let seen = Arc::new(Mutex::new(0));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            *s2.lock().unwrap() += 1;
            let _ =
                req.respond(tiny_http::Response::from_string("overloaded").with_status_code(503));
        }
    });
    let b = http(format!("http://127.0.0.1:{port}/v1"));
    let e = b.complete(&request("x")).unwrap_err();
    assert!(
        matches!(e, BackendError::Unavailable(ref m) if m.contains("503")),
        "{e}"
    );
    assert_eq!(*seen.lock().unwrap(), 2, "one try and one retry");
}
