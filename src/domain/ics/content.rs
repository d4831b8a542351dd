//! iCalendar's text as lines and values (RFC 5545 §3.1–3.3): unfolding,
//! `NAME;PARAM=VALUE:value` content lines, dates and date-times, durations.

use super::IcsError;
use jiff::civil::Date;

/// Unfolds continuation lines (RFC 5545 §3.1: a line starting with one space
/// or tab continues the previous one), keeping each line's first line number.
pub(super) fn unfold(ics: &str) -> Vec<(usize, String)> {
    let ics = ics.strip_prefix('\u{feff}').unwrap_or(ics);
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in ics.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            if let Some((_, last)) = lines.last_mut() {
                last.push_str(rest);
                continue;
            }
        }
        lines.push((i + 1, raw.to_string()));
    }
    lines
}

/// `NAME;PARAM=VALUE;…:value`, the name and parameter names upper-cased.
#[derive(Debug, Clone)]
pub(super) struct ContentLine {
    pub(super) name: String,
    pub(super) params: Vec<(String, String)>,
    pub(super) value: String,
}

impl ContentLine {
    pub(super) fn parse(text: &str) -> Result<Self, IcsError> {
        // The value starts at the first colon outside a quoted parameter value.
        let mut quoted = false;
        let mut colon = None;
        for (i, c) in text.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ':' if !quoted => {
                    colon = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(colon) = colon else {
            return Err(IcsError::refused(format!(
                "{:?} is not an iCalendar line (NAME:value)",
                short(text)
            )));
        };
        let (head, value) = (&text[..colon], &text[colon + 1..]);
        let mut parts = split_outside_quotes(head, ';').into_iter();
        let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
        if name.is_empty() {
            return Err(IcsError::refused(format!(
                "{:?} has no property name",
                short(text)
            )));
        }
        let params = parts
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (
                    k.trim().to_ascii_uppercase(),
                    v.trim_matches('"').to_string(),
                ),
                None => (p.trim().to_ascii_uppercase(), String::new()),
            })
            .collect();
        Ok(Self {
            name,
            params,
            value: value.to_string(),
        })
    }

    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut from) = (false, 0);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[from..i]);
            from = i + c.len_utf8();
        }
    }
    out.push(&s[from..]);
    out
}

pub(super) fn short(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A date or date-time value: `20261224`, `20261224T090000`, `…Z`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct When {
    pub(super) date: Date,
    /// Seconds since midnight, when the value has a time.
    pub(super) time: Option<u32>,
}

pub(super) fn parse_when(line: &ContentLine) -> Result<When, IcsError> {
    let v = line.value.trim();
    let (day, rest) = v.split_at(v.len().min(8));
    let bad = || IcsError::refused(format!("{}: {v:?} is not an iCalendar date", line.name));
    if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let date = Date::new(
        day[0..4].parse().map_err(|_| bad())?,
        day[4..6].parse().map_err(|_| bad())?,
        day[6..8].parse().map_err(|_| bad())?,
    )
    .map_err(|_| IcsError::refused(format!("{}: {v:?} is not a date", line.name)))?;
    let date_only = line
        .param("VALUE")
        .is_some_and(|t| t.eq_ignore_ascii_case("DATE"));
    if rest.is_empty() {
        return Ok(When { date, time: None });
    }
    let time = rest
        .strip_prefix('T')
        .map(|t| t.strip_suffix('Z').unwrap_or(t))
        .filter(|t| t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) && !date_only)
        .ok_or_else(bad)?;
    let (h, m, s): (u32, u32, u32) = (
        time[0..2].parse().map_err(|_| bad())?,
        time[2..4].parse().map_err(|_| bad())?,
        time[4..6].parse().map_err(|_| bad())?,
    );
    if h > 23 || m > 59 || s > 60 {
        return Err(bad());
    }
    Ok(When {
        date,
        time: Some(h * 3600 + m * 60 + s),
    })
}

/// Every date of a list property (`EXDATE:20261224,20261225`).
pub(super) fn parse_whens(line: &ContentLine) -> Result<Vec<When>, IcsError> {
    line.value
        .split(',')
        .map(|v| {
            parse_when(&ContentLine {
                value: v.to_string(),
                ..line.clone()
            })
        })
        .collect()
}

/// `P3D`, `P1W`: a whole number of days.
pub(super) fn parse_duration_days(v: &str) -> Option<i64> {
    let v = v.trim().strip_prefix('+').unwrap_or(v.trim());
    let n = v.strip_prefix('P')?;
    let (count, unit) = n.split_at(n.len().checked_sub(1)?);
    let count: i64 = count.parse().ok()?;
    match unit {
        "D" => Some(count),
        "W" => count.checked_mul(7),
        _ => None,
    }
}
