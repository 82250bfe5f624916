//! Comparing tool results to the ground truth, and printing the result.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::cwe::cwe_matches;
use super::expected::Expected;
use super::sarif::ToolResults;

/// Scores of one vulnerability category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryScore {
    /// Category name from the CSV, e.g. `sqli`.
    pub category: String,
    /// The expected CWE(s) of the category's test cases, ascending (normally just one).
    pub cwes: Vec<u32>,
    /// Real vulnerabilities detected.
    pub tp: usize,
    /// Safe test cases flagged.
    pub fp: usize,
    /// Safe test cases left alone.
    pub tn: usize,
    /// Real vulnerabilities missed.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// True positive rate, TP / (TP + FN); 0 when the category has no real vulnerability.
    pub tpr: f64,
    /// False positive rate, FP / (FP + TN); 0 when the category has no safe test case.
    pub fpr: f64,
    /// TPR − FPR: 1 is perfect, 0 is no better than guessing.
    pub score: f64,
}

/// BenchmarkUtils' "average": unweighted means over categories, plus summed counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overall {
    /// Total TP over all categories.
    pub tp: usize,
    /// Total FP over all categories.
    pub fp: usize,
    /// Total TN over all categories.
    pub tn: usize,
    /// Total FN over all categories.
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// Mean of the categories' TPR.
    pub tpr: f64,
    /// Mean of the categories' FPR.
    pub fpr: f64,
    /// Mean of the categories' score.
    pub score: f64,
}

/// Whether a test case was missed as a false negative or wrongly flagged as a false positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MissKind {
    /// A real vulnerability the tool did not report with the right CWE.
    #[serde(rename = "FN")]
    FalseNegative,
    /// A safe test case the tool reported with the expected CWE.
    #[serde(rename = "FP")]
    FalsePositive,
}

impl MissKind {
    /// `"FN"` or `"FP"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MissKind::FalseNegative => "FN",
            MissKind::FalsePositive => "FP",
        }
    }
}

/// A test case the tool got wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Miss {
    /// Test name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Its expected CWE.
    pub cwe: u32,
    /// FN or FP.
    pub kind: MissKind,
}

/// The outcome of scoring one tool on one corpus; serializes to JSON as is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// Per category, sorted by name.
    pub categories: Vec<CategoryScore>,
    /// Averages over categories and total counts.
    pub overall: Overall,
    /// Number of test cases in the ground truth.
    pub cases: usize,
    /// Results read from the tool's output.
    pub results_read: usize,
    /// Results whose file is not a test case (helpers, unlocated results); ignored for scoring.
    pub results_unmapped: usize,
    /// Results in a test case's file that carry no readable CWE; they cannot detect anything.
    pub results_without_cwe: usize,
    /// Test cases with no result at all in their file.
    pub cases_without_results: usize,
    /// False negatives and false positives, in ground-truth order.
    pub misses: Vec<Miss>,
}

#[derive(Default)]
struct Tally {
    cwes: BTreeSet<u32>,
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Scores `results` against `expected`: a test case is detected when any result in its file
/// reports its CWE (or an equivalent one, see [`super::CWE_EQUIVALENCES`]).
pub fn score(expected: &Expected, results: &ToolResults) -> Scorecard {
    let names: HashMap<&str, usize> = expected
        .cases
        .iter()
        .enumerate()
        .map(|(i, case)| (case.name.as_str(), i))
        .collect();
    let mut found: Vec<Option<&[Option<u32>]>> = vec![None; expected.cases.len()];
    let mut results_unmapped = results.without_location;
    let mut results_without_cwe = 0;
    for (stem, cwes) in &results.by_stem {
        match names.get(stem.as_str()) {
            Some(&i) => {
                found[i] = Some(cwes);
                results_without_cwe += cwes.iter().filter(|c| c.is_none()).count();
            }
            None => results_unmapped += cwes.len(),
        }
    }

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut cases_without_results = 0;
    for (case, cwes) in expected.cases.iter().zip(&found) {
        let cwes = cwes.unwrap_or_default();
        if cwes.is_empty() {
            cases_without_results += 1;
        }
        let detected = cwes.iter().flatten().any(|&c| cwe_matches(case.cwe, c));
        let tally = tallies.entry(&case.category).or_default();
        tally.cwes.insert(case.cwe);
        let miss = match (case.real, detected) {
            (true, true) => {
                tally.tp += 1;
                None
            }
            (true, false) => {
                tally.fn_ += 1;
                Some(MissKind::FalseNegative)
            }
            (false, true) => {
                tally.fp += 1;
                Some(MissKind::FalsePositive)
            }
            (false, false) => {
                tally.tn += 1;
                None
            }
        };
        if let Some(kind) = miss {
            misses.push(Miss {
                name: case.name.clone(),
                category: case.category.clone(),
                cwe: case.cwe,
                kind,
            });
        }
    }

    let categories: Vec<CategoryScore> = tallies
        .into_iter()
        .map(|(category, t)| {
            let tpr = ratio(t.tp, t.tp + t.fn_);
            let fpr = ratio(t.fp, t.fp + t.tn);
            CategoryScore {
                category: category.to_string(),
                cwes: t.cwes.into_iter().collect(),
                tp: t.tp,
                fp: t.fp,
                tn: t.tn,
                fn_: t.fn_,
                tpr,
                fpr,
                score: tpr - fpr,
            }
        })
        .collect();
    let n = categories.len();
    let mean = |f: fn(&CategoryScore) -> f64| ratio_f(categories.iter().map(f).sum(), n);
    let overall = Overall {
        tp: categories.iter().map(|c| c.tp).sum(),
        fp: categories.iter().map(|c| c.fp).sum(),
        tn: categories.iter().map(|c| c.tn).sum(),
        fn_: categories.iter().map(|c| c.fn_).sum(),
        tpr: mean(|c| c.tpr),
        fpr: mean(|c| c.fpr),
        score: mean(|c| c.score),
    };
    Scorecard {
        categories,
        overall,
        cases: expected.cases.len(),
        results_read: results.results_read,
        results_unmapped,
        results_without_cwe,
        cases_without_results,
        misses,
    }
}

fn ratio_f(sum: f64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn percent(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

impl Scorecard {
    /// An aligned table (category, CWE, TP, FP, TN, FN, TPR, FPR, Score), the average line, and
    /// a line of result counts.
    pub fn to_text(&self) -> String {
        let mut rows: Vec<[String; 9]> = vec![
            [
                "Category", "CWE", "TP", "FP", "TN", "FN", "TPR", "FPR", "Score",
            ]
            .map(String::from),
        ];
        for c in &self.categories {
            let cwes: Vec<String> = c.cwes.iter().map(u32::to_string).collect();
            rows.push([
                c.category.clone(),
                cwes.join("/"),
                c.tp.to_string(),
                c.fp.to_string(),
                c.tn.to_string(),
                c.fn_.to_string(),
                percent(c.tpr),
                percent(c.fpr),
                percent(c.score),
            ]);
        }
        let o = &self.overall;
        rows.push([
            "Average".to_string(),
            String::new(),
            o.tp.to_string(),
            o.fp.to_string(),
            o.tn.to_string(),
            o.fn_.to_string(),
            percent(o.tpr),
            percent(o.fpr),
            percent(o.score),
        ]);
        let mut widths = [0usize; 9];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let last = rows.len() - 1;
        for (r, row) in rows.iter().enumerate() {
            if r == last {
                let rule_len = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                out.push_str(&"-".repeat(rule_len));
                out.push('\n');
            }
            let mut line = format!("{:<w$}", row[0], w = widths[0]);
            for (cell, width) in row.iter().zip(widths).skip(1) {
                let _ = write!(line, "  {cell:>width$}");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} test cases, {} without any result; {} results read, {} not in a test case, {} without a CWE",
            self.cases,
            self.cases_without_results,
            self.results_read,
            self.results_unmapped,
            self.results_without_cwe,
        );
        out
    }

    /// [`Scorecard::to_text`], followed by every false negative and false positive by name.
    pub fn to_text_with_misses(&self) -> String {
        let mut out = self.to_text();
        let _ = writeln!(out, "\nMisses ({}):", self.misses.len());
        let name_width = self.misses.iter().map(|m| m.name.len()).max().unwrap_or(0);
        let category_width = self
            .misses
            .iter()
            .map(|m| m.category.len())
            .max()
            .unwrap_or(0);
        for miss in &self.misses {
            let _ = writeln!(
                out,
                "{}  {:<name_width$}  {:<category_width$}  CWE-{}",
                miss.kind.as_str(),
                miss.name,
                miss.category,
                miss.cwe
            );
        }
        out
    }
}
