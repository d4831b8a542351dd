//! The cadence as HR edits it in chat: nudge rules one per line
//! (`small_step 1 09:30`, `manager_checkin 3 10:00 sessions 1,2,3,4`) and
//! quiet hours as `19:00-08:00`. Parsing only turns the lines into the
//! program file's fields; the program file's own validation then checks
//! them, so chat and files refuse the same things with the same words.

use super::program::NudgeRule;
use super::time::QuietHours;
use serde_json::{json, Value};

/// The rules as editable lines.
pub fn rules_text(rules: &[NudgeRule]) -> String {
    rules
        .iter()
        .map(|r| {
            let kind = match r.kind {
                super::NudgeKind::SmallStep => "small_step",
                super::NudgeKind::OneTapCheck => "one_tap_check",
                super::NudgeKind::ManagerCheckin => "manager_checkin",
            };
            let mut line = format!("{kind} {} {}", r.days_after_session, r.at);
            if let Some(s) = &r.sessions {
                let list: Vec<String> = s.iter().map(u32::to_string).collect();
                line.push_str(&format!(" sessions {}", list.join(",")));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why the nudges or quiet hours typed in the editor do not read, naming
/// the line or the text.
#[derive(Debug, thiserror::Error)]
pub enum CadenceError {
    #[error("line {0}: write KIND DAYS HH:MM, e.g. \"small_step 1 09:30\" (optionally \"sessions 1,2\")")]
    NotARule(usize),
    #[error("line {line}: {days:?} is not a number of days")]
    NotDays {
        line: usize,
        days: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("line {line}: {list:?} is not a list of session numbers")]
    NotSessions {
        line: usize,
        list: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("{0:?}: write FROM-TO, e.g. 19:00-08:00, or leave it empty")]
    NotQuietHours(String),
}

/// The lines as the program file's `nudges`; a line that is not
/// `KIND DAYS HH:MM [sessions N,N…]` is named with its number.
pub fn parse_rules(text: &str) -> Result<Vec<Value>, CadenceError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        let n = i + 1;
        let shape = || CadenceError::NotARule(n);
        let (kind, days, at, rest) = match words.as_slice() {
            [kind, days, at, rest @ ..] => (*kind, *days, *at, rest),
            _ => return Err(shape()),
        };
        let days: i64 = days.parse().map_err(|source| CadenceError::NotDays {
            line: n,
            days: days.to_string(),
            source,
        })?;
        let mut rule = json!({ "kind": kind, "days_after_session": days, "at": at });
        match rest {
            [] => {}
            ["sessions", list] => {
                let sessions: Result<Vec<i64>, _> = list
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::parse::<i64>)
                    .collect();
                rule["sessions"] = json!(sessions.map_err(|source| CadenceError::NotSessions {
                    line: n,
                    list: list.to_string(),
                    source,
                })?);
            }
            _ => return Err(shape()),
        }
        out.push(rule);
    }
    Ok(out)
}

pub fn quiet_hours_text(q: Option<&QuietHours>) -> String {
    q.map(|q| format!("{}-{}", q.from, q.to))
        .unwrap_or_default()
}

/// `19:00-08:00` as the program file's `quiet_hours`; empty = none.
pub fn parse_quiet_hours(text: &str) -> Result<Option<Value>, CadenceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.split_once('-') {
        Some((from, to)) => Ok(Some(json!({ "from": from.trim(), "to": to.trim() }))),
        None => Err(CadenceError::NotQuietHours(text.to_string())),
    }
}

/// Which editor field a program-file error path belongs to.
pub fn field_of(path: &str) -> &'static str {
    let path = path.trim_start_matches("program.");
    if path.starts_with("nudges") {
        "nudges"
    } else if path.starts_with("quiet_hours") {
        "quiet_hours"
    } else if path.starts_with("working_days") {
        "working_days"
    } else if path.starts_with("reminder_after_days") {
        "reminder_after_days"
    } else {
        "nudges"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::program::ProgramFile;

    #[test]
    fn rules_round_trip_through_the_program_files_validation() {
        let text =
            "small_step 1 09:30\nmanager_checkin 3 10:00 sessions 1\n\none_tap_check 4 16:00";
        let nudges = parse_rules(text).unwrap();
        let doc = json!({"version": 1, "program": {
            "key": "k", "name": "K", "sessions": [{"number": 1, "planned": "2026-09-07"}], "nudges": nudges,
        }});
        let file = ProgramFile::from_value(&doc).unwrap();
        assert_eq!(rules_text(&file.program.nudges), text.replace("\n\n", "\n"));
    }

    #[test]
    fn bad_lines_are_named_and_bad_values_left_to_the_files_validation() {
        assert!(parse_rules("small_step 1")
            .unwrap_err()
            .to_string()
            .starts_with("line 1:"));
        assert!(parse_rules("a 1 09:00\nsmall_step x 09:00")
            .unwrap_err()
            .to_string()
            .starts_with("line 2: \"x\""));
        assert!(parse_rules("small_step 1 09:00 sessions a,b").is_err());
        // A wrong kind or time parses here; the program file refuses it by field.
        let nudges = parse_rules("smal_step 1 25:00").unwrap();
        let doc = json!({"version": 1, "program": {"key": "k", "name": "K", "nudges": nudges}});
        let errs = ProgramFile::from_value(&doc).unwrap_err().to_string();
        assert!(errs.contains("program.nudges[0]"), "{errs}");
        assert_eq!(field_of("program.nudges[0].at"), "nudges");
        assert_eq!(parse_quiet_hours(" ").unwrap(), None);
        assert!(parse_quiet_hours("19:00").is_err());
        assert_eq!(field_of("program.quiet_hours.to"), "quiet_hours");
    }
}
