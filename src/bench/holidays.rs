//! Holiday calendars: the largest calendar a program file may carry (an
//! iCalendar text of just under 512 KiB, one event a day, 5,000 dates over
//! the program's span) read once when the program is applied, then what
//! loading the stored program costs: what `GET /api/v1/programs` and every
//! job plan do. For comparison, reading that iCalendar text again (what each
//! load cost when the text itself was stored); and applying a hostile
//! calendar: as many rules as allowed, each with decades between its dates.

use super::{bench_app, fresh_store, program};
use crate::domain::ics;
use anyhow::{anyhow, Result};
use jiff::civil::date;
use jiff::ToSpan;
use serde_json::json;
use std::time::Instant;

pub struct HolidayFigures {
    pub ics_kib: usize,
    pub dates: usize,
    pub apply_s: f64,
    pub load_ms: f64,
    pub plain_load_ms: f64,
    pub reread_ms: f64,
    pub hostile_apply_s: f64,
}

/// `events` all-day events on consecutive days from 5 January 2026.
fn one_a_day(events: i64) -> String {
    let mut out =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Momentum//Bench//EN\r\n");
    let first = date(2026, 1, 5);
    for i in 0..events {
        let d = first.checked_add(i.days()).unwrap_or(first);
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:h{i}@bench\r\nDTSTART;VALUE=DATE:{}\r\nSUMMARY:Holiday {i}\r\nEND:VEVENT\r\n",
            d.strftime("%Y%m%d")
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// As many recurring events as a program may have, each a daily rule whose
/// dates are decades apart (29 February on a Monday): the most stepping
/// through empty days a rule that is not refused can ask of the `rrule` crate.
fn hostile() -> String {
    let event = "BEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20260105\r\n\
                 RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO\r\nSUMMARY:Rare\r\nEND:VEVENT\r\n";
    format!(
        "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
        event.repeat(ics::MAX_RULES)
    )
}

/// Milliseconds to load one stored program (what listing does for each).
async fn time_load(
    store: &crate::store::Store,
    org: crate::store::OrgId,
    id: crate::domain::ProgramId,
) -> Result<f64> {
    const LOADS: u32 = 50;
    let t = Instant::now();
    for _ in 0..LOADS {
        std::hint::black_box(store.program(org, id).await?);
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / f64::from(LOADS))
}

pub async fn holidays(postgres: Option<&str>, dir: &std::path::Path) -> Result<HolidayFigures> {
    let store = fresh_store(postgres, dir, "holidays").await?;
    let (app, _clock, org) = bench_app(&store, "2026-01-05T08:00:00Z").await?;
    let text = one_a_day(ics::MAX_DATES as i64);
    let mut doc = program(0, "TBENCH", 1, true);
    // A program long enough to hold 5,000 holidays: its span runs to 2042.
    doc["program"]["sessions"] = json!([
        {"number": 1, "planned": "2026-02-02"},
        {"number": 2, "planned": "2040-01-06"},
    ]);
    doc["program"]["holiday_calendars"] = json!([{"key": "big", "ics": text}]);
    let t = Instant::now();
    let applied = app
        .apply_program(org.id, &doc, false)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let apply_s = t.elapsed().as_secs_f64();
    let dates = store
        .program(org.id, applied.program_id)
        .await?
        .spec
        .holiday_calendars[0]
        .dates
        .len();
    let mut plain = doc.clone();
    plain["program"]["key"] = json!("plain");
    plain["program"]["holiday_calendars"] = json!([]);
    let plain = app
        .apply_program(org.id, &plain, false)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let load_ms = time_load(&store, org.id, applied.program_id).await?;
    let plain_load_ms = time_load(&store, org.id, plain.program_id).await?;
    let t = Instant::now();
    for _ in 0..5 {
        let read = ics::holiday_dates(&text, date(2026, 1, 4), date(2042, 1, 6))?;
        std::hint::black_box(read);
    }
    let reread_ms = t.elapsed().as_secs_f64() * 1000.0 / 5.0;
    doc["program"]["key"] = json!("hostile");
    doc["program"]["holiday_calendars"] = json!([{"key": "never", "ics": hostile()}]);
    let t = Instant::now();
    app.apply_program(org.id, &doc, false)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let hostile_apply_s = t.elapsed().as_secs_f64();
    Ok(HolidayFigures {
        ics_kib: text.len().div_ceil(1024),
        dates,
        apply_s,
        load_ms,
        plain_load_ms,
        reread_ms,
        hostile_apply_s,
    })
}
