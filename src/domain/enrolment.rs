//! Enrolment from a CSV as HR systems export it: name, work email, the
//! manager's work email, time zone, cohort (headers in any order and a few
//! spellings, comma or semicolon). Every row's problems are found before
//! anything is applied.

use super::identity::Email;
use super::time::Zone;
use serde::Serialize;
use std::collections::HashMap;

/// One row, as read, with what is wrong in it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnrolmentRow {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub name: String,
    pub email: String,
    pub manager: String,
    pub time_zone: String,
    pub cohort: String,
    /// Own planned dates from `session N` columns: (N, the cell).
    pub sessions: Vec<(u32, String)>,
    pub problems: Vec<RowProblem>,
}

/// What is wrong with a row: a code (worded by the console's templates) and
/// the value it is about.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowProblem {
    pub code: &'static str,
    pub value: String,
}

/// A row of an uploaded CSV, checked before anything is applied.
pub trait CsvRow {
    fn problems(&self) -> &[RowProblem];
}

impl CsvRow for EnrolmentRow {
    fn problems(&self) -> &[RowProblem] {
        &self.problems
    }
}

fn problem(code: &'static str, value: impl Into<String>) -> RowProblem {
    RowProblem {
        code,
        value: value.into(),
    }
}

/// The columns and the header spellings HR exports use for them.
const COLUMNS: [(&str, &[&str]); 5] = [
    ("name", &["name", "full name", "jméno"]),
    ("email", &["email", "work email", "work_email", "e-mail"]),
    (
        "manager",
        &[
            "manager",
            "manager email",
            "manager_email",
            "manager's work email",
            "manager work email",
        ],
    ),
    ("time_zone", &["time zone", "time_zone", "timezone", "tz"]),
    ("cohort", &["cohort", "group"]),
];

/// One CSV record by column name, with its line in the file.
pub struct CsvRecord {
    pub line: usize,
    fields: HashMap<&'static str, String>,
    /// Columns not among the known ones: (header in lower case, value).
    pub others: Vec<(String, String)>,
}

impl CsvRecord {
    /// The column's value (trimmed), empty when the file has no such column.
    pub fn get(&self, column: &str) -> String {
        self.fields.get(column).cloned().unwrap_or_default()
    }
}

/// Why a CSV file is refused as a whole (its rows' own problems are listed
/// with the rows instead).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the first line is not a CSV header")]
    NoHeader(#[source] csv::Error),
    #[error("the header has no {column} column (expected: {expected})")]
    NoColumn { column: String, expected: String },
    #[error("row {row}")]
    Row {
        row: usize,
        #[source]
        source: csv::Error,
    },
    #[error("the file has a header but no rows")]
    NoRows,
}

/// Reads a CSV as HR and coaching platforms export it (a BOM, comma or
/// semicolon, headers in any order under a few spellings): each record by
/// column, with its line. `Err` names what is wrong with the file as a
/// whole: no header, a `required` column missing (`expected` lists them).
pub fn csv_records(
    text: &str,
    columns: &[(&'static str, &[&str])],
    required: &[&str],
    expected: &str,
) -> Result<Vec<CsvRecord>, CsvError> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(CsvError::NoHeader)?.clone();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut others: Vec<(String, usize)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.to_lowercase();
        match columns
            .iter()
            .find(|(_, names)| names.contains(&h.as_str()))
        {
            Some((col, _)) => {
                index.entry(col).or_insert(i);
            }
            None => others.push((h, i)),
        }
    }
    for column in required {
        if !index.contains_key(column) {
            return Err(CsvError::NoColumn {
                column: column.to_string(),
                expected: expected.to_string(),
            });
        }
    }
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|source| CsvError::Row { row: n + 2, source })?;
        // The reader skips blank lines: count the file's own lines up to the record.
        let line = record.position().map_or(n + 2, |p| {
            let bytes = text.as_bytes();
            let mut at = usize::try_from(p.byte())
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            // The position is where reading began, before the skipped blank lines.
            while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
                at += 1;
            }
            bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
        });
        let fields = index
            .iter()
            .map(|(col, i)| (*col, record.get(*i).unwrap_or_default().to_string()))
            .collect();
        let others = others
            .iter()
            .map(|(h, i)| (h.clone(), record.get(*i).unwrap_or_default().to_string()))
            .collect();
        out.push(CsvRecord {
            line,
            fields,
            others,
        });
    }
    Ok(out)
}

/// Reads the file; `Err` names what is wrong with it as a whole (no header,
/// a required column missing). `cohorts`: the program's cohort keys (empty:
/// any cohort is refused unless the program has none, then the column must
/// be empty).
/// `session N` (or `sezení N`) columns carry each participant's own
/// planned date for session N.
fn session_column(header: &str) -> Option<u32> {
    let n = header
        .strip_prefix("session")
        .or_else(|| header.strip_prefix("sezení"))?
        .trim_start_matches([' ', '_']);
    n.parse().ok()
}

/// Whether the file's header has `session N` columns (then each row's own
/// dates, empty or not, replace those an earlier file gave).
pub fn has_session_columns(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or_default();
    first
        .split([',', ';'])
        .any(|h| session_column(h.trim().trim_matches('"').to_lowercase().as_str()).is_some())
}

pub fn read(text: &str, cohorts: &[String]) -> Result<Vec<EnrolmentRow>, CsvError> {
    let records = csv_records(
        text,
        &COLUMNS,
        &["name", "email", "manager"],
        "name, email, manager, time zone, cohort",
    )?;
    let mut rows = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for record in records {
        let mut row = EnrolmentRow {
            line: record.line,
            name: record.get("name"),
            email: record.get("email"),
            manager: record.get("manager"),
            time_zone: record.get("time_zone"),
            cohort: record.get("cohort"),
            sessions: record
                .others
                .iter()
                .filter_map(|(h, v)| Some((session_column(h)?, v.clone())))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            problems: Vec::new(),
        };
        if row.name.is_empty() && row.email.is_empty() && row.manager.is_empty() {
            continue; // a blank line
        }
        check(&mut row, cohorts, &mut first_line);
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(CsvError::NoRows);
    }
    Ok(rows)
}

fn check(row: &mut EnrolmentRow, cohorts: &[String], first_line: &mut HashMap<String, usize>) {
    let mut problems = Vec::new();
    if row.name.is_empty() {
        problems.push(problem("name_missing", ""));
    }
    match Email::parse(&row.email) {
        Ok(e) => {
            row.email = e.as_str().to_string();
            if let Some(first) = first_line.get(&row.email) {
                problems.push(problem("duplicate", first.to_string()));
            } else {
                first_line.insert(row.email.clone(), row.line);
            }
        }
        Err(_) => problems.push(problem("bad_email", row.email.clone())),
    }
    if row.manager.is_empty() {
        problems.push(problem("manager_missing", ""));
    } else {
        match Email::parse(&row.manager) {
            Ok(m) if m.as_str() == row.email => problems.push(problem("own_manager", "")),
            Ok(m) => row.manager = m.as_str().to_string(),
            Err(_) => problems.push(problem("bad_manager_email", row.manager.clone())),
        }
    }
    if !row.time_zone.is_empty() && Zone::parse(&row.time_zone).is_err() {
        problems.push(problem("unknown_time_zone", row.time_zone.clone()));
    }
    if !row.cohort.is_empty() && !cohorts.contains(&row.cohort) {
        problems.push(problem("unknown_cohort", row.cohort.clone()));
    }
    for (_, cell) in &row.sessions {
        if super::dates::plan_date(cell).is_err() {
            problems.push(problem("bad_date", cell.clone()));
        }
    }
    row.problems = problems;
}

/// The participants section of a program file for rows without problems.
/// `with_sessions`: the file had `session N` columns, so each row's dates
/// (none, where its cells are empty) are that participant's own.
pub fn participants(rows: &[EnrolmentRow], with_sessions: bool) -> serde_json::Value {
    let list: Vec<serde_json::Value> = rows
        .iter()
        .filter(|r| r.problems.is_empty())
        .map(|r| {
            let mut p =
                serde_json::json!({ "name": r.name, "email": r.email, "manager": r.manager });
            if !r.time_zone.is_empty() {
                p["time_zone"] = r.time_zone.clone().into();
            }
            if !r.cohort.is_empty() {
                p["cohort"] = r.cohort.clone().into();
            }
            if with_sessions {
                p["sessions"] = r
                    .sessions
                    .iter()
                    .map(|(n, d)| serde_json::json!({"number": n, "planned": d}))
                    .collect();
            }
            p
        })
        .collect();
    serde_json::Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rows_problem_is_named() {
        let csv = "\u{feff}Name;Work email;Manager's work email;Time zone;Cohort\n\
            Jana Nováková;Jana.Novakova@acme.example;pavel.svoboda@acme.example;Europe/Prague;autumn-2026\n\
            Tomáš;not-an-email;pavel.svoboda@acme.example;;\n\
            Eva;eva@acme.example;;Mars/Olympus;spring\n\
            Jana again;jana.novakova@acme.example;pavel.svoboda@acme.example;;\n\
            \n\
            Petr;petr@acme.example;petr@acme.example;UTC;\n";
        let rows = read(csv, &["autumn-2026".to_string()]).unwrap();
        let codes: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.problems.iter().map(|p| p.code).collect())
            .collect();
        assert_eq!(
            codes,
            vec![
                vec![],
                vec!["bad_email"],
                vec!["manager_missing", "unknown_time_zone", "unknown_cohort"],
                vec!["duplicate"],
                vec!["own_manager"],
            ]
        );
        assert_eq!(rows[0].email, "jana.novakova@acme.example");
        assert_eq!(rows[3].problems[0].value, "2");
        assert_eq!(rows[4].line, 7);
        assert_eq!(participants(&rows, false).as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_file_without_the_needed_columns_is_refused_as_a_whole() {
        let e = read("name,email\nJana,jana@acme.example\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("manager"), "{e}");
        assert!(read("name,email,manager\n", &[])
            .unwrap_err()
            .to_string()
            .contains("no rows"));
    }

    #[test]
    fn session_columns_carry_each_participants_own_dates() {
        let csv = "name,email,manager,Session 2,sezení 3\n\
            Jana,jana@acme.example,pavel@acme.example,2026-09-23,\n\
            Tomáš,tomas@acme.example,pavel@acme.example,23.9.2026,2026-10-07\n";
        assert!(has_session_columns(csv));
        assert!(!has_session_columns("name,email,manager\n"));
        let rows = read(csv, &[]).unwrap();
        assert_eq!(rows[0].sessions, vec![(2, "2026-09-23".to_string())]);
        assert!(rows[0].problems.is_empty());
        assert_eq!(rows[1].problems[0].code, "bad_date");
        let people = participants(&rows[..1], true);
        assert_eq!(
            people[0]["sessions"],
            serde_json::json!([{"number": 2, "planned": "2026-09-23"}])
        );
    }
}
