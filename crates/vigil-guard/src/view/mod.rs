//! What is shown of the alerts: which ([`Filter`]), in what order ([`sort_timeline`]), in
//! which format ([`AlertWriter`]: a table, CSV or JSON lines, one alert at a time so that
//! streams flow), and the [`Summary`] of a run.

mod filter;
mod summary;
mod writer;

pub use filter::{Filter, normalize_time, sort_timeline, time_key};
pub use summary::Summary;
pub use writer::{AlertWriter, Format, clean, paint};
