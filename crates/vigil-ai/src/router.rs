//! Routing calls to providers: ordered failover behind circuit breakers, ensembles with a
//! vote, a budget per run, a limit on calls in flight, and an audit record of each call.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::audit::{AuditLog, AuditRecord, sha256_text};
use crate::backend::{Backend, BackendError};
use crate::chat::{ChatRequest, ChatResponse};
use crate::config::{RoleConfig, RoleMode, Vote};

/// Consecutive failures that open a provider's circuit.
const BREAKER_THRESHOLD: u32 = 3;
/// How long an open circuit skips its provider before one trial call.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(30);

/// A backend with its name, roles and prices.
pub struct Provider {
    pub name: String,
    pub backend: Box<dyn Backend>,
    /// Roles served; empty = every role.
    pub roles: Vec<String>,
    /// Per million tokens.
    pub price_in: f64,
    pub price_out: f64,
    breaker: Mutex<Breaker>,
}

impl Provider {
    pub fn new(name: impl Into<String>, backend: Box<dyn Backend>) -> Provider {
        Provider {
            name: name.into(),
            backend,
            roles: Vec::new(),
            price_in: 0.0,
            price_out: 0.0,
            breaker: Mutex::new(Breaker::default()),
        }
    }

    pub fn with_roles(mut self, roles: Vec<String>) -> Provider {
        self.roles = roles;
        self
    }

    pub fn with_prices(mut self, price_in: f64, price_out: f64) -> Provider {
        self.price_in = price_in;
        self.price_out = price_out;
        self
    }

    /// Whether this provider answers `role`.
    pub fn serves(&self, role: &str) -> bool {
        self.roles.is_empty() || self.roles.iter().any(|r| r == role)
    }

    fn cost(&self, r: &ChatResponse) -> f64 {
        (r.tokens_in as f64 * self.price_in + r.tokens_out as f64 * self.price_out) / 1e6
    }
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

impl Breaker {
    /// Whether a call may go through now (an expired open circuit lets one trial through).
    fn allows(&mut self, now: Instant) -> bool {
        match self.open_until {
            Some(t) if now < t => false,
            Some(_) => {
                // Half open: one trial; a failure re-opens at once.
                self.open_until = None;
                self.failures = BREAKER_THRESHOLD - 1;
                true
            }
            None => true,
        }
    }

    fn record(&mut self, ok: bool, now: Instant) {
        if ok {
            self.failures = 0;
            self.open_until = None;
        } else {
            self.failures += 1;
            if self.failures >= BREAKER_THRESHOLD {
                self.open_until = Some(now + BREAKER_COOLDOWN);
            }
        }
    }
}

/// Tokens and money spent in a run, against its limits.
#[derive(Debug, Default)]
struct Spend {
    tokens: u64,
    cost: f64,
    calls: u64,
    refused: u64,
}

/// What one run spent.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BudgetReport {
    pub tokens: u64,
    pub cost: f64,
    pub calls: u64,
    /// Calls not made because the budget was spent.
    pub refused: u64,
    pub token_limit: Option<u64>,
    pub cost_limit: Option<f64>,
}

impl BudgetReport {
    pub fn exhausted(&self) -> bool {
        self.refused > 0
    }
}

/// An answer and who gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub response: ChatResponse,
    pub provider: String,
    pub model: String,
    /// `sha256:` of the weights, or the endpoint URL.
    pub identity: String,
}

/// One provider's part in an ensemble: its name and its answer or failure.
pub type EnsembleAnswer = (String, Result<Answer, BackendError>);

/// Why a routed call gave no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    #[error("the model budget of this run is spent; no more calls are made")]
    BudgetSpent,
    #[error("no provider serves the role `{0}`")]
    NoProvider(String),
    #[error("every provider failed: {}", .0.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>().join("; "))]
    AllFailed(Vec<(String, BackendError)>),
}

/// Calls in flight, at most `limit`.
struct Gate {
    busy: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl Gate {
    fn enter(&self) -> GateGuard<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= self.limit {
            busy = self.freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        GateGuard(self)
    }
}

struct GateGuard<'a>(&'a Gate);

impl Drop for GateGuard<'_> {
    fn drop(&mut self) {
        let mut busy = self.0.busy.lock().unwrap_or_else(|e| e.into_inner());
        *busy -= 1;
        self.0.freed.notify_one();
    }
}

/// Every model call of a run goes through one router.
pub struct Router {
    providers: Vec<Provider>,
    roles: BTreeMap<String, RoleConfig>,
    token_limit: Option<u64>,
    cost_limit: Option<f64>,
    spend: Mutex<Spend>,
    gate: Gate,
    audit: Option<AuditLog>,
}

impl Router {
    pub fn new(providers: Vec<Provider>) -> Router {
        Router {
            providers,
            roles: BTreeMap::new(),
            token_limit: None,
            cost_limit: None,
            spend: Mutex::new(Spend::default()),
            gate: Gate {
                busy: Mutex::new(0),
                freed: Condvar::new(),
                limit: 1,
            },
            audit: None,
        }
    }

    pub fn with_budget(mut self, tokens: Option<u64>, cost: Option<f64>) -> Router {
        self.token_limit = tokens;
        self.cost_limit = cost;
        self
    }

    pub fn with_concurrency(mut self, limit: usize) -> Router {
        self.gate.limit = limit.max(1);
        self
    }

    pub fn with_roles(mut self, roles: BTreeMap<String, RoleConfig>) -> Router {
        self.roles = roles;
        self
    }

    pub fn with_audit(mut self, log: AuditLog) -> Router {
        self.audit = Some(log);
        self
    }

    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// How a role uses its providers.
    pub fn role(&self, role: &str) -> RoleConfig {
        self.roles.get(role).cloned().unwrap_or_default()
    }

    pub fn budget(&self) -> BudgetReport {
        let s = self.spend.lock().unwrap_or_else(|e| e.into_inner());
        BudgetReport {
            tokens: s.tokens,
            cost: s.cost,
            calls: s.calls,
            refused: s.refused,
            token_limit: self.token_limit,
            cost_limit: self.cost_limit,
        }
    }

    fn spent(&self) -> bool {
        let s = self.spend.lock().unwrap_or_else(|e| e.into_inner());
        self.token_limit.is_some_and(|l| s.tokens >= l)
            || self.cost_limit.is_some_and(|l| s.cost >= l)
    }

    /// One answer for the role: its providers in order, skipping open circuits, until one
    /// answers.
    pub fn complete(&self, role: &str, request: &ChatRequest) -> Result<Answer, RouteError> {
        let providers: Vec<&Provider> = self.providers.iter().filter(|p| p.serves(role)).collect();
        if providers.is_empty() {
            return Err(RouteError::NoProvider(role.to_string()));
        }
        let mut failures = Vec::new();
        // Open circuits are skipped while another provider is left to try.
        let mut skipped = Vec::new();
        for p in &providers {
            if !p
                .breaker
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .allows(Instant::now())
            {
                self.log(p, role, request, None, 0, "skipped", None);
                skipped.push(*p);
                continue;
            }
            match self.call(p, role, request)? {
                Ok(a) => return Ok(a),
                Err(e) => failures.push((p.name.clone(), e)),
            }
        }
        // Every provider open or failed: the open ones get a trial anyway rather than
        // losing the finding.
        for p in skipped {
            match self.call(p, role, request)? {
                Ok(a) => return Ok(a),
                Err(e) => failures.push((p.name.clone(), e)),
            }
        }
        Err(RouteError::AllFailed(failures))
    }

    /// Every provider of the role answers (an ensemble); failures are kept beside answers.
    pub fn ask_all(
        &self,
        role: &str,
        request: &ChatRequest,
    ) -> Result<Vec<EnsembleAnswer>, RouteError> {
        let providers: Vec<&Provider> = self.providers.iter().filter(|p| p.serves(role)).collect();
        if providers.is_empty() {
            return Err(RouteError::NoProvider(role.to_string()));
        }
        let mut out = Vec::new();
        for p in providers {
            out.push((p.name.clone(), self.call(p, role, request)?));
        }
        Ok(out)
    }

    /// One call, within the budget and the concurrency limit, audited. The outer error
    /// is the budget; the inner one the provider's.
    fn call(
        &self,
        p: &Provider,
        role: &str,
        request: &ChatRequest,
    ) -> Result<Result<Answer, BackendError>, RouteError> {
        let _slot = self.gate.enter();
        if self.spent() {
            self.spend.lock().unwrap_or_else(|e| e.into_inner()).refused += 1;
            self.log(p, role, request, None, 0, "budget", None);
            return Err(RouteError::BudgetSpent);
        }
        let start = Instant::now();
        let result = p.backend.complete(request);
        let latency = start.elapsed().as_millis() as u64;
        p.breaker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(result.is_ok(), Instant::now());
        match result {
            Ok(response) => {
                {
                    let mut s = self.spend.lock().unwrap_or_else(|e| e.into_inner());
                    s.tokens += response.tokens_in + response.tokens_out;
                    s.cost += p.cost(&response);
                    s.calls += 1;
                }
                self.log(p, role, request, Some(&response), latency, "ok", None);
                Ok(Ok(Answer {
                    model: response.model.clone(),
                    response,
                    provider: p.name.clone(),
                    identity: p.backend.identity(),
                }))
            }
            Err(e) => {
                self.spend.lock().unwrap_or_else(|e| e.into_inner()).calls += 1;
                self.log(
                    p,
                    role,
                    request,
                    None,
                    latency,
                    "error",
                    Some(e.to_string()),
                );
                Ok(Err(e))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &self,
        p: &Provider,
        role: &str,
        request: &ChatRequest,
        response: Option<&ChatResponse>,
        latency_ms: u64,
        outcome: &str,
        error: Option<String>,
    ) {
        let Some(log) = &self.audit else { return };
        let record = AuditRecord {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            provider: p.name.clone(),
            model: response
                .map(|r| r.model.clone())
                .unwrap_or_else(|| p.backend.model().to_string()),
            identity: p.backend.identity(),
            prompt_sha256: sha256_text(&request.prompt_text()),
            role: role.to_string(),
            tokens_in: response.map_or(0, |r| r.tokens_in),
            tokens_out: response.map_or(0, |r| r.tokens_out),
            latency_ms,
            outcome: outcome.to_string(),
            error,
        };
        if let Err(e) = log.append(&record) {
            tracing::error!(
                "cannot append to the model audit log {}: {e}",
                log.path().display()
            );
        }
    }
}

/// What an ensemble's votes decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<T> {
    /// The rule was met by this value.
    Agreed(T),
    /// It was not: each value with its number of votes, most first.
    Disagreed(Vec<(T, usize)>),
}

/// Decide among votes: a strict majority, or all the same.
pub fn decide<T: Eq + std::hash::Hash + Clone + Ord>(votes: &[T], rule: Vote) -> Decision<T> {
    let mut counts: HashMap<&T, usize> = HashMap::new();
    for v in votes {
        *counts.entry(v).or_default() += 1;
    }
    let mut tally: Vec<(T, usize)> = counts.into_iter().map(|(v, n)| (v.clone(), n)).collect();
    tally.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let agreed = match (rule, tally.first()) {
        (_, None) => None,
        (Vote::Unanimous, Some((v, n))) => (*n == votes.len()).then(|| v.clone()),
        (Vote::Majority, Some((v, n))) => (*n * 2 > votes.len()).then(|| v.clone()),
    };
    match agreed {
        Some(v) => Decision::Agreed(v),
        None => Decision::Disagreed(tally),
    }
}

/// Whether a role is answered by one provider or by all.
pub fn is_ensemble(role: &RoleConfig) -> bool {
    role.mode == RoleMode::Ensemble
}
