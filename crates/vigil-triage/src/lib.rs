//! `vigil-triage`: AI triage on top of the model layer (`vigil-ai`).
//!
//! * [`hunt`]: each finding of `vigil hunt` gets an evidence pack (the code along its
//!   data-flow path with the enclosing functions, the rule and its CWE) and a verdict in
//!   a fixed JSON schema that cites the evidence; a confident rejection by a model that
//!   passed a calibration ([`calibration`]) marks the finding suppressed, never removes
//!   it, and every other verdict only annotates;
//! * [`guard`]: `vigil guard` alerts grouped into incidents (host, user, time window),
//!   each summarised with its ATT&CK story and the configured playbooks to run, which
//!   the model only recommends;
//! * [`injection`]: text that tries to steer an AI reviewer is reported and cannot
//!   suppress a finding; [`prompt`] quotes all scanned text inside random delimiters.

pub mod calibration;
pub mod evidence;
pub mod guard;
pub mod hunt;
pub mod injection;
pub mod prompt;

pub use calibration::{Calibration, CalibrationStore, Grant, SuppressionPolicy};
pub use hunt::{
    HuntTriageOptions, HuntTriageStats, ModelGrant, STEERING_RULE, parse_verdict, triage_report,
};
