//! The committed expected results (`conformance/expected.json`) and the regression check.
//!
//! Format: `{"server": {"1.1.1": "OK", ...}, "client": {...}}`, one case per line, ids in numeric
//! order, so a diff shows exactly which cases changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{Behavior, CaseId, CaseResult};

/// Expected behaviour per role, then per case.
pub type Expected = BTreeMap<String, BTreeMap<CaseId, Behavior>>;

/// Parses the expected-results file.
pub fn parse_expected(json: &str) -> Result<Expected, String> {
    let raw: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_str(json).map_err(|e| format!("expected results: {e}"))?;
    let mut expected = Expected::new();
    for (role, cases) in raw {
        let mut map = BTreeMap::new();
        for (id, behavior) in cases {
            let case = CaseId::parse(&id)
                .ok_or_else(|| format!("expected results: bad case id {id:?}"))?;
            let b = Behavior::parse(&behavior).ok_or_else(|| {
                format!("expected results: case {id}: unknown behaviour {behavior:?}")
            })?;
            map.insert(case, b);
        }
        expected.insert(role, map);
    }
    Ok(expected)
}

/// Builds the expected results from a run's results per role.
pub fn from_results(roles: &[(&str, &[CaseResult])]) -> Expected {
    roles
        .iter()
        .map(|(role, results)| {
            let cases = results.iter().map(|r| (r.id.clone(), r.behavior)).collect();
            ((*role).to_owned(), cases)
        })
        .collect()
}

/// `old` with every role of `new` replaced by `new`'s cases (roles `new` lacks are kept as they were).
pub fn merge(mut old: Expected, new: Expected) -> Expected {
    old.extend(new);
    old
}

/// Writes the expected-results file text (stable: numeric case order, one case per line).
pub fn render_expected(expected: &Expected) -> String {
    let mut out = String::from("{\n");
    let mut roles = expected.iter().peekable();
    while let Some((role, cases)) = roles.next() {
        let _ = writeln!(out, "  {}: {{", quote(role));
        let mut it = cases.iter().peekable();
        while let Some((id, b)) = it.next() {
            let comma = if it.peek().is_some() { "," } else { "" };
            let _ = writeln!(
                out,
                "    {}: {}{comma}",
                quote(id.as_str()),
                quote(b.as_str())
            );
        }
        let comma = if roles.peek().is_some() { "," } else { "" };
        let _ = writeln!(out, "  }}{comma}");
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// One case whose result differs from the expected file (or is absent from one side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The role (`server` or `client`).
    pub role: String,
    /// The case.
    pub id: CaseId,
    /// What the expected file says; `None` for a case it does not list.
    pub expected: Option<Behavior>,
    /// What this run got; `None` for a case the run did not produce.
    pub got: Option<Behavior>,
}

/// The comparison of a run against the expected file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Cases that FAILED in this run (whatever the expected file says).
    pub failed: Vec<Change>,
    /// Cases worse than expected, or expected but missing from the run.
    pub regressions: Vec<Change>,
    /// Cases better than expected (the file should be updated).
    pub improvements: Vec<Change>,
    /// Cases the expected file does not list (not FAILED ones: those are in `failed`).
    pub unlisted: Vec<Change>,
}

impl Verdict {
    /// True when the run must fail: a FAILED case or a regression.
    pub fn is_failure(&self) -> bool {
        !self.failed.is_empty() || !self.regressions.is_empty()
    }
}

/// Compares one role's results with the expected file. With `partial` (a run restricted to some
/// cases), expected cases missing from the run are not regressions.
pub fn compare(
    expected: &Expected,
    role: &str,
    results: &[CaseResult],
    partial: bool,
    verdict: &mut Verdict,
) {
    let empty = BTreeMap::new();
    let want = expected.get(role).unwrap_or(&empty);
    let change = |id: &CaseId, expected: Option<Behavior>, got: Option<Behavior>| Change {
        role: role.to_owned(),
        id: id.clone(),
        expected,
        got,
    };
    for r in results {
        let exp = want.get(&r.id).copied();
        let c = change(&r.id, exp, Some(r.behavior));
        if r.behavior == Behavior::Failed {
            verdict.failed.push(c);
            continue;
        }
        match exp {
            None => verdict.unlisted.push(c),
            Some(e) if r.behavior > e => verdict.regressions.push(c),
            Some(e) if r.behavior < e => verdict.improvements.push(c),
            Some(_) => {}
        }
    }
    if !partial {
        for (id, e) in want {
            if !results.iter().any(|r| &r.id == id) {
                verdict.regressions.push(change(id, Some(*e), None));
            }
        }
    }
}

/// Describes a change in one line: `server 6.4.3: expected OK, got NON-STRICT`.
pub fn describe(c: &Change) -> String {
    let show = |b: Option<Behavior>, none: &str| {
        b.map_or_else(|| none.to_owned(), |b| b.as_str().to_owned())
    };
    format!(
        "{} {}: expected {}, got {}",
        c.role,
        c.id,
        show(c.expected, "(not listed)"),
        show(c.got, "(not run)")
    )
}
