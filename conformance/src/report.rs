//! Autobahn's `index.json`: one result per case, each with a ranked behaviour.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// The outcome of one case, best first: the derived order is the ranking (greater is worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Behavior {
    /// The peer did exactly what the RFC requires.
    Ok,
    /// Acceptable, but not what a strict implementation does (e.g. a late UTF-8 check, a wrong close code).
    NonStrict,
    /// Nothing to judge; Autobahn only records what happened.
    Informational,
    /// The feature under test (permessage-deflate) is not offered or accepted.
    Unimplemented,
    /// The peer violated the RFC.
    Failed,
}

impl Behavior {
    /// Every behaviour, best first (the table's column order).
    pub const ALL: [Behavior; 5] = [
        Behavior::Ok,
        Behavior::NonStrict,
        Behavior::Informational,
        Behavior::Unimplemented,
        Behavior::Failed,
    ];

    /// The name Autobahn writes in its reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Behavior::Ok => "OK",
            Behavior::NonStrict => "NON-STRICT",
            Behavior::Informational => "INFORMATIONAL",
            Behavior::Unimplemented => "UNIMPLEMENTED",
            Behavior::Failed => "FAILED",
        }
    }

    /// Parses one of the five names [`Behavior::as_str`] writes.
    pub fn parse(name: &str) -> Option<Behavior> {
        Behavior::ALL.into_iter().find(|b| b.as_str() == name)
    }

    /// Ranks a case's `behavior`: an unknown name counts as FAILED.
    pub fn from_case(name: &str) -> Behavior {
        Behavior::parse(name).unwrap_or(Behavior::Failed)
    }

    /// Ranks a case's `behaviorClose`: a wrong close code, or a client dropping TCP before the server
    /// does, is NON-STRICT; an unclean or wrongly-initiated close is FAILED; the rest do not downgrade.
    pub fn from_close(name: &str) -> Behavior {
        match name {
            "OK" | "INFORMATIONAL" | "UNIMPLEMENTED" => Behavior::Ok,
            "WRONG CODE" | "FAILED BY CLIENT" | "NON-STRICT" => Behavior::NonStrict,
            _ => Behavior::Failed,
        }
    }
}

impl fmt::Display for Behavior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A case id such as `6.4.3`, ordered numerically (`1.1.2` < `1.1.10`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseId {
    text: String,
    parts: Vec<u32>,
}

impl CaseId {
    /// Parses dotted decimal numbers; `None` for anything else.
    pub fn parse(text: &str) -> Option<CaseId> {
        let parts = text
            .split('.')
            .map(|p| p.parse::<u32>().ok())
            .collect::<Option<Vec<u32>>>()?;
        Some(CaseId {
            text: text.to_owned(),
            parts,
        })
    }

    /// The section: the first number.
    pub fn section(&self) -> u32 {
        self.parts.first().copied().unwrap_or(0)
    }

    /// The id as Autobahn writes it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Ord for CaseId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for CaseId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One case's result as read from `index.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The case.
    pub id: CaseId,
    /// The ranked outcome: the worse of `behavior` and `behaviorClose` (see [`Behavior::from_close`]).
    pub behavior: Behavior,
    /// Autobahn's `behavior`, verbatim.
    pub raw_behavior: String,
    /// Autobahn's `behaviorClose`, verbatim.
    pub raw_close: String,
    /// The close code the tested peer sent, if any.
    pub remote_close_code: Option<u16>,
    /// How long the case took, in milliseconds.
    pub duration_ms: u64,
    /// The per-case report (JSON; the HTML one has the same stem).
    pub report_file: String,
}

#[derive(Deserialize)]
struct RawCase {
    behavior: String,
    #[serde(rename = "behaviorClose")]
    behavior_close: String,
    #[serde(default)]
    duration: u64,
    #[serde(rename = "remoteCloseCode", default)]
    remote_close_code: Option<u16>,
    #[serde(default)]
    reportfile: String,
}

/// Reads the results of `agent` from an `index.json` text, sorted by case id.
pub fn parse_index(json: &str, agent: &str) -> Result<Vec<CaseResult>, String> {
    let index: BTreeMap<String, BTreeMap<String, RawCase>> =
        serde_json::from_str(json).map_err(|e| format!("index.json: {e}"))?;
    let agents: Vec<&str> = index.keys().map(String::as_str).collect();
    let cases = index
        .get(agent)
        .ok_or_else(|| format!("index.json has no agent {agent:?} (agents: {agents:?})"))?;
    let mut results = Vec::with_capacity(cases.len());
    for (id, raw) in cases {
        let id = CaseId::parse(id).ok_or_else(|| format!("index.json: bad case id {id:?}"))?;
        let behavior =
            Behavior::from_case(&raw.behavior).max(Behavior::from_close(&raw.behavior_close));
        results.push(CaseResult {
            id,
            behavior,
            raw_behavior: raw.behavior.clone(),
            raw_close: raw.behavior_close.clone(),
            remote_close_code: raw.remote_close_code,
            duration_ms: raw.duration,
            report_file: raw.reportfile.clone(),
        });
    }
    results.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(results)
}
