//! CWE numbers: lenient parsing of the many ways tools write them, and equivalences.

/// Groups of CWEs that count as the same weakness when scoring; the first of each group is the
/// one the OWASP Benchmark expects. A tool reporting any member of a group detects a test case
/// expecting any other member.
///
/// Why each group (these are the mappings BenchmarkUtils' readers apply, or the parent/child
/// pairs its CWE matching accepts):
/// - 78 ← 77: OS command injection vs. its parent, generic command injection.
/// - 79 ← 80: XSS vs. "basic XSS".
/// - 89 ← 564: SQL injection vs. SQL injection through Hibernate.
/// - 22 ← 23, 36: path traversal vs. its relative / absolute variants.
/// - 327 ← 326: broken crypto algorithm vs. inadequate encryption strength.
/// - 330 ← 338, 335: weak randomness vs. weak PRNG / predictable seed (CodeQL reports these).
/// - 94 ← 95: code injection vs. eval injection (Python tools report 95).
pub const CWE_EQUIVALENCES: &[&[u32]] = &[
    &[78, 77],
    &[79, 80],
    &[89, 564],
    &[22, 23, 36],
    &[327, 326],
    &[330, 338, 335],
    &[94, 95],
];

/// The representative of `cwe`'s equivalence group (itself when it belongs to none).
pub fn canonical_cwe(cwe: u32) -> u32 {
    CWE_EQUIVALENCES
        .iter()
        .find(|group| group.contains(&cwe))
        .map_or(cwe, |group| group[0])
}

/// Whether a result reporting `reported` detects a test case expecting `expected`.
pub fn cwe_matches(expected: u32, reported: u32) -> bool {
    expected == reported || canonical_cwe(expected) == canonical_cwe(reported)
}

/// Reads a CWE number from text such as `CWE-89`, `cwe-079`, `CWE-89: Improper Neutralization…`,
/// `external/cwe/cwe-089` or `CWE_89`. With `bare_number_ok`, a plain number (`"89"`) is
/// accepted too: right for a field that can only hold a CWE, wrong for free-form tags.
pub fn parse_cwe(text: &str, bare_number_ok: bool) -> Option<u32> {
    let lower = text.trim().to_ascii_lowercase();
    let mut rest = lower.strip_prefix("external/cwe/").unwrap_or(&lower);
    if let Some(after) = rest.strip_prefix("cwe") {
        rest = after.trim_start_matches(['-', '_', ':', ' ', '/', '#']);
    } else if !bare_number_ok {
        return None;
    }
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    if digits_end == 0 {
        return None;
    }
    // "CWE-89abc" is not a CWE; "CWE-89: text" and "CWE-89 (text)" are.
    if rest[digits_end..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    rest[..digits_end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        for text in [
            "CWE-89",
            "cwe-89",
            "CWE-089",
            "external/cwe/cwe-089",
            "CWE-89: Improper Neutralization of Special Elements used in an SQL Command",
            "  CWE_89 ",
            "CWE 89",
            "cwe:89",
            "CWE89",
        ] {
            assert_eq!(parse_cwe(text, false), Some(89), "{text}");
        }
        assert_eq!(parse_cwe("89", true), Some(89));
        assert_eq!(parse_cwe("0089", true), Some(89));
    }

    #[test]
    fn rejects_what_is_not_a_cwe() {
        for text in [
            "89",
            "security",
            "owasp-a03",
            "CWE",
            "CWE Top 25",
            "CWE-89abc",
            "external/owasp/a1",
            "",
            "cwe-99999999999",
        ] {
            assert_eq!(parse_cwe(text, false), None, "{text}");
        }
        assert_eq!(parse_cwe("A1", true), None);
    }

    #[test]
    fn equivalences() {
        assert!(cwe_matches(78, 78));
        assert!(cwe_matches(78, 77));
        assert!(cwe_matches(77, 78));
        assert!(cwe_matches(89, 564));
        assert!(cwe_matches(22, 23));
        assert!(cwe_matches(22, 36));
        assert!(cwe_matches(330, 338));
        assert!(!cwe_matches(89, 79));
        assert!(!cwe_matches(327, 328));
        assert!(!cwe_matches(23, 78));
        assert_eq!(canonical_cwe(36), 22);
        assert_eq!(canonical_cwe(611), 611);
    }

    #[test]
    fn equivalence_groups_are_disjoint() {
        let mut seen = std::collections::HashSet::new();
        for group in CWE_EQUIVALENCES {
            for cwe in *group {
                assert!(seen.insert(*cwe), "CWE-{cwe} is in two groups");
            }
        }
    }
}
