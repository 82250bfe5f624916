//! A run from inputs to the alerts shown: files as a batch (read in parallel, correlated
//! in event-time order, sorted as a timeline), or streams (standard input, a followed
//! file) matched and passed on event by event as they arrive. Both read through
//! [`crate::input`], so the same input gives the same alerts either way.

use std::path::{Path, PathBuf};

use vigil_core::Alert;

use crate::correlation::Correlator;
use crate::input::{EventSource, ReadCounts, ReadError, is_stream, open_input};
use crate::matching::{match_event, scan_file, scan_files};
use crate::rules::RuleSet;
use crate::view::{Filter, sort_timeline};

/// What a batch run found.
#[derive(Debug, Default)]
pub struct Batch {
    /// The alerts the filter keeps, correlations included, as a timeline.
    pub alerts: Vec<Alert>,
    /// Records and lines that could not be read.
    pub errors: Vec<ReadError>,
    /// What was read.
    pub read: ReadCounts,
}

/// Scan whole files: detection in parallel, then correlation in event-time order; the
/// alerts the filter keeps are sorted as a timeline.
pub fn scan_batch(
    rules: &RuleSet,
    correlator: &mut Correlator,
    files: &[PathBuf],
    filter: &Filter,
) -> Batch {
    let bytes = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let outcome = scan_files(rules, files);
    let read = ReadCounts {
        events: outcome.events,
        bytes,
        read_errors: outcome.errors.len() as u64,
    };
    let correlated = correlator.correlate(&outcome.alerts);
    let mut alerts: Vec<Alert> = outcome
        .alerts
        .into_iter()
        .filter(|a| !correlator.is_correlation_only(a))
        .chain(correlated)
        .filter(|a| filter.keeps(a))
        .collect();
    sort_timeline(&mut alerts);
    Batch {
        alerts,
        errors: outcome.errors,
        read,
    }
}

/// A streaming run: its inputs scanned one after another, alerts passed on as found,
/// correlation state and counts carried from one input to the next.
pub struct Stream<'a> {
    /// The rules.
    pub rules: &'a RuleSet,
    /// Correlation state over the whole run.
    pub correlator: &'a mut Correlator,
    /// Which alerts are passed on.
    pub filter: &'a Filter,
    /// What has been read.
    pub read: &'a mut ReadCounts,
}

impl Stream<'_> {
    /// Scan one input and pass on each alert the filter keeps, with `emit`, as it is
    /// found. Standard input and a followed file are matched event by event (a followed
    /// file until the process is stopped); any other file is scanned whole and correlated
    /// in event-time order, as in a batch. Each read error goes to `skipped`; a file to
    /// follow that cannot be opened ends the run with its error.
    pub fn scan_input<E: From<ReadError>>(
        &mut self,
        input: &Path,
        follow: bool,
        skipped: &mut dyn FnMut(&ReadError),
        emit: &mut dyn FnMut(Alert) -> Result<(), E>,
    ) -> Result<(), E> {
        if is_stream(input, follow) {
            let mut source = open_input(input, follow)?;
            return self.scan_events(&mut source, skipped, emit);
        }
        let outcome = scan_file(self.rules, input);
        self.read.events += outcome.events;
        self.read.bytes += std::fs::metadata(input).map_or(0, |m| m.len());
        self.read.read_errors += outcome.errors.len() as u64;
        for e in &outcome.errors {
            skipped(e);
        }
        let correlated = self.correlator.correlate(&outcome.alerts);
        for a in outcome.alerts.into_iter().chain(correlated) {
            if !self.correlator.is_correlation_only(&a) && self.filter.keeps(&a) {
                emit(a)?;
            }
        }
        Ok(())
    }

    /// Match a source event by event, correlating as events arrive, and pass on each
    /// alert the filter keeps as soon as its event is read.
    pub fn scan_events<E>(
        &mut self,
        source: &mut dyn EventSource,
        skipped: &mut dyn FnMut(&ReadError),
        emit: &mut dyn FnMut(Alert) -> Result<(), E>,
    ) -> Result<(), E> {
        let bytes_before = source.bytes_read();
        for item in &mut *source {
            match item {
                Ok(event) => {
                    self.read.events += 1;
                    let alerts = match_event(self.rules, &event);
                    let correlated = self.correlator.observe(&alerts);
                    for a in alerts.into_iter().chain(correlated) {
                        if !self.correlator.is_correlation_only(&a) && self.filter.keeps(&a) {
                            emit(a)?;
                        }
                    }
                }
                Err(e) => {
                    self.read.read_errors += 1;
                    skipped(&e);
                }
            }
        }
        self.read.bytes += source.bytes_read() - bytes_before;
        Ok(())
    }
}
