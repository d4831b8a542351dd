//! Editing a program in the HR console: the fields HR changes (name, what
//! the program is for, sessions, nudges, quiet hours, working days,
//! holidays, themes, anonymity threshold, reminders, momentum settings)
//! written into the program file and applied through its own validation:
//! all or nothing, each mistake under its field.

use super::*;
use crate::domain::cadence::{parse_quiet_hours, parse_rules, quiet_hours_text, rules_text};
use crate::domain::time::weekday_name;
use serde::Serialize;
use serde_json::{json, Value};

/// The edit form's fields, as text (what the person typed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProgramEdit {
    pub name: String,
    pub target_behaviour: String,
    pub business_goal: String,
    pub anonymity_threshold: String,
    pub themes: String,
    /// One session a line: `NUMBER YYYY-MM-DD`.
    pub sessions: String,
    /// The cadence editor's rules, one a line (`small_step 1 09:30`).
    pub nudges: String,
    pub quiet_hours: String,
    pub working_days: Vec<String>,
    /// One date a line.
    pub holidays: String,
    pub reminder_after_days: String,
    /// `metrics:`: α, the dropping points, share and weeks.
    pub metrics_alpha: String,
    pub metrics_points: String,
    pub metrics_share: String,
    pub metrics_weeks: String,
}

/// The form fields of `metrics:`, with the program file's key of each.
const METRICS: [(&str, &str); 4] = [
    ("metrics_alpha", "alpha"),
    ("metrics_points", "dropping_points"),
    ("metrics_share", "dropping_share"),
    ("metrics_weeks", "dropping_weeks"),
];

/// Form field → what is wrong in it.
pub type EditErrors = Vec<(&'static str, String)>;

/// Which form field a program-file error path belongs to.
fn field_of(path: &str) -> &'static str {
    let path = path.trim_start_matches("program.");
    if let Some(key) = path.strip_prefix("metrics.") {
        return METRICS
            .iter()
            .find(|(_, k)| key.starts_with(k))
            .map_or("metrics_alpha", |(f, _)| f);
    }
    [
        "name",
        "target_behaviour",
        "business_goal",
        "anonymity_threshold",
        "themes",
        "sessions",
        "nudges",
        "quiet_hours",
        "working_days",
        "holidays",
        "reminder_after_days",
    ]
    .into_iter()
    .find(|f| path.starts_with(f))
    .unwrap_or("name")
}

/// Why the sessions field does not read, naming its line.
#[derive(Debug, thiserror::Error)]
enum SessionsError {
    #[error("line {line}: {number:?} is not a session number")]
    NotANumber {
        line: usize,
        number: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("line {0}: write NUMBER YYYY-MM-DD, e.g. 1 2026-09-07")]
    NotASession(usize),
}

fn parse_sessions(text: &str) -> Result<Value, SessionsError> {
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [n, date] => match n.parse::<u32>() {
                Ok(n) => out.push(json!({ "number": n, "planned": date })),
                Err(source) => {
                    return Err(SessionsError::NotANumber {
                        line: i + 1,
                        number: n.to_string(),
                        source,
                    })
                }
            },
            _ => return Err(SessionsError::NotASession(i + 1)),
        }
    }
    Ok(Value::Array(out))
}

fn lines(text: &str) -> Value {
    Value::Array(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Value::String(l.to_string()))
            .collect(),
    )
}

/// The first of k and the `metrics_*` fields that `edit` changes from
/// `spec` (an empty field changes nothing).
fn protected_edit(
    spec: &crate::domain::program::ProgramSpec,
    edit: &ProgramEdit,
) -> Option<&'static str> {
    let k = edit.anonymity_threshold.trim();
    if !k.is_empty() && k.parse::<u32>().ok() != Some(spec.anonymity_threshold) {
        return Some("anonymity_threshold");
    }
    let m = &spec.metrics;
    for ((field, _), (text, now)) in METRICS.iter().zip([
        (&edit.metrics_alpha, m.alpha),
        (&edit.metrics_points, f64::from(m.dropping_points)),
        (&edit.metrics_share, m.dropping_share),
        (&edit.metrics_weeks, f64::from(m.dropping_weeks)),
    ]) {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if text.replace(',', ".").parse::<f64>().ok() != Some(now) {
            return Some(field);
        }
    }
    None
}

impl App {
    /// The form filled with the program as it is; `None` for an unknown program.
    pub async fn program_edit_form(&self, org: OrgId, key: &str) -> AppResult<Option<ProgramEdit>> {
        let Some(p) = self.store.program_by_key(org, key).await? else {
            return Ok(None);
        };
        let spec = &p.spec;
        let m = &spec.metrics;
        Ok(Some(ProgramEdit {
            name: spec.name.clone(),
            target_behaviour: spec.target_behaviour.clone().unwrap_or_default(),
            business_goal: spec.business_goal.clone().unwrap_or_default(),
            metrics_alpha: m.alpha.to_string(),
            metrics_points: m.dropping_points.to_string(),
            metrics_share: m.dropping_share.to_string(),
            metrics_weeks: m.dropping_weeks.to_string(),
            anonymity_threshold: spec.anonymity_threshold.to_string(),
            themes: spec.themes.join(", "),
            sessions: spec
                .sessions
                .iter()
                .map(|s| format!("{} {}", s.number, s.planned))
                .collect::<Vec<_>>()
                .join("\n"),
            nudges: rules_text(&spec.nudges),
            quiet_hours: quiet_hours_text(spec.quiet_hours.as_ref()),
            working_days: spec
                .working_days
                .days()
                .into_iter()
                .map(|d| weekday_name(d).to_string())
                .collect(),
            holidays: spec
                .holidays
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            reminder_after_days: spec.reminder_after_days.to_string(),
        }))
    }

    /// Applies the edited fields for someone reaching `reach` (`actor` in
    /// the audit log); `Ok(Some(Err(..)))` names each wrong field and
    /// changes nothing. A program admin's edit keeps k and `metrics:` as
    /// they are (left empty, or the same value), else it is `Forbidden`,
    /// naming the field; the program's `admins` are never in the form.
    pub async fn edit_program(
        &self,
        org: OrgId,
        key: &str,
        edit: &ProgramEdit,
        reach: &Reach,
        actor: &str,
    ) -> AppResult<Option<Result<ApplyOutcome, EditErrors>>> {
        if !reach.covers(key) {
            return Err(AppError::Forbidden(format!(
                "{key:?} is not one of your programs"
            )));
        }
        let Some(p) = self.store.program_by_key(org, key).await? else {
            return Ok(None);
        };
        let protect = !reach.is_organisation();
        if protect {
            if let Some(field) = protected_edit(&p.spec, edit) {
                return Err(super::access::needs_org_admin(field));
            }
        }
        let mut errors: EditErrors = Vec::new();
        let mut program = p.spec.source["program"].clone();
        program["name"] = json!(edit.name.trim());
        for (field, text) in [
            ("target_behaviour", &edit.target_behaviour),
            ("business_goal", &edit.business_goal),
        ] {
            match (text.trim(), program.as_object_mut()) {
                ("", Some(o)) => {
                    o.remove(field);
                }
                (t, _) => program[field] = json!(t),
            }
        }
        // A program admin's edit leaves k (as in effect) and `metrics:` as stored.
        if protect {
            program["anonymity_threshold"] = json!(p.spec.anonymity_threshold);
        } else {
            let mut metrics = serde_json::Map::new();
            for ((field, key), text) in METRICS.iter().zip([
                &edit.metrics_alpha,
                &edit.metrics_points,
                &edit.metrics_share,
                &edit.metrics_weeks,
            ]) {
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                match text.replace(',', ".").parse::<f64>() {
                    // Whole numbers stay whole, so "10" is checked as points.
                    Ok(x) if x.fract() == 0.0 && *key != "alpha" && *key != "dropping_share" => {
                        metrics.insert(key.to_string(), json!(x as i64));
                    }
                    Ok(x) => {
                        metrics.insert(key.to_string(), json!(x));
                    }
                    Err(_) => errors.push((field, format!("{text:?} is not a number"))),
                }
            }
            program["metrics"] = Value::Object(metrics);
            match edit.anonymity_threshold.trim().parse::<u32>() {
                Ok(k) => program["anonymity_threshold"] = json!(k),
                Err(_) => errors.push((
                    "anonymity_threshold",
                    format!(
                        "{:?} is not a number of people",
                        edit.anonymity_threshold.trim()
                    ),
                )),
            }
        }
        program["themes"] = Value::Array(
            edit.themes
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| json!(t))
                .collect(),
        );
        match parse_sessions(&edit.sessions) {
            Ok(s) => program["sessions"] = s,
            Err(e) => errors.push(("sessions", e.to_string())),
        }
        match parse_rules(&edit.nudges) {
            Ok(rules) => program["nudges"] = Value::Array(rules),
            Err(e) => errors.push(("nudges", e.to_string())),
        }
        match parse_quiet_hours(&edit.quiet_hours) {
            Ok(Some(q)) => program["quiet_hours"] = q,
            Ok(None) => {
                if let Some(o) = program.as_object_mut() {
                    o.remove("quiet_hours");
                }
            }
            Err(e) => errors.push(("quiet_hours", e.to_string())),
        }
        program["working_days"] = json!(edit.working_days);
        program["holidays"] = lines(&edit.holidays);
        match edit.reminder_after_days.trim().parse::<i64>() {
            Ok(d) => program["reminder_after_days"] = json!(d),
            Err(_) => errors.push((
                "reminder_after_days",
                format!(
                    "{:?} is not a number of days",
                    edit.reminder_after_days.trim()
                ),
            )),
        }
        if !errors.is_empty() {
            return Ok(Some(Err(errors)));
        }
        let doc = p.spec.file_with(program);
        match self.apply_program_within(org, &doc, false, reach).await {
            Ok(outcome) => {
                self.audit(org, actor, "program.edit", Some(key)).await;
                Ok(Some(Ok(outcome)))
            }
            Err(AppError::Invalid(errs)) => Ok(Some(Err(errs
                .0
                .iter()
                .map(|e| (field_of(&e.path), format!("{}: {}", e.path, e.message)))
                .collect()))),
            Err(e) => Err(e),
        }
    }
}
