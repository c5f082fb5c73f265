//! The per-section table: cases per behaviour and time, per role.

use std::fmt::Write as _;

use crate::report::{Behavior, CaseResult};

/// The Autobahn sections, numbered and named as in its reports.
pub const SECTIONS: [(u32, &str); 11] = [
    (1, "Framing"),
    (2, "Pings/Pongs"),
    (3, "Reserved Bits"),
    (4, "Opcodes"),
    (5, "Fragmentation"),
    (6, "UTF-8 Handling"),
    (7, "Close Handling"),
    (9, "Limits/Performance"),
    (10, "Misc"),
    (12, "Compression (payloads)"),
    (13, "Compression (parameters)"),
];

/// Case counts per behaviour plus the summed case time, for a set of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases per behaviour, indexed like [`Behavior::ALL`].
    pub counts: [usize; 5],
    /// Sum of the cases' durations, in milliseconds.
    pub duration_ms: u64,
}

impl Tally {
    /// Counts `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Tally {
        let mut tally = Tally::default();
        for r in results {
            tally.add(r);
        }
        tally
    }

    /// Adds one case.
    pub fn add(&mut self, result: &CaseResult) {
        if let Some(slot) = self.counts.get_mut(result.behavior as usize) {
            *slot += 1;
        }
        self.duration_ms += result.duration_ms;
    }

    /// Cases with this behaviour.
    pub fn count(&self, behavior: Behavior) -> usize {
        self.counts.get(behavior as usize).copied().unwrap_or(0)
    }

    /// All cases.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// The tally of one section of one role's results.
pub fn section_tally(results: &[CaseResult], section: u32) -> Tally {
    Tally::of(results.iter().filter(|r| r.id.section() == section))
}

/// The name of a section, `?` when Autobahn adds one we do not know.
pub fn section_name(section: u32) -> &'static str {
    SECTIONS
        .iter()
        .find(|(n, _)| *n == section)
        .map_or("?", |(_, name)| name)
}

/// Renders a Markdown table: one row per section and role, then a total row per role.
/// `roles` pairs a role name with its results; sections run in [`SECTIONS`] order, then any others.
pub fn render_table(roles: &[(&str, &[CaseResult])]) -> String {
    let mut sections: Vec<u32> = SECTIONS.iter().map(|(n, _)| *n).collect();
    for (_, results) in roles {
        for r in results.iter() {
            if !sections.contains(&r.id.section()) {
                sections.push(r.id.section());
            }
        }
    }
    let mut out = String::new();
    out.push_str("| section | role | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED | time |\n");
    out.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for section in &sections {
        for (role, results) in roles {
            let label = format!("{section} {}", section_name(*section));
            row(&mut out, &label, role, &section_tally(results, *section));
        }
    }
    for (role, results) in roles {
        row(&mut out, "**all**", role, &Tally::of(results.iter()));
    }
    out
}

fn row(out: &mut String, label: &str, role: &str, t: &Tally) {
    let _ = write!(out, "| {label} | {role} | {} |", t.total());
    for b in Behavior::ALL {
        let _ = write!(out, " {} |", t.count(b));
    }
    let _ = writeln!(out, " {} |", format_ms(t.duration_ms));
}

/// Formats milliseconds as seconds with one decimal (`12.3 s`).
pub fn format_ms(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
}
