//! The weekly digest of a program: its facts gathered per week, composed
//! with suppression, stored with the week's trends (momentum continues from
//! them), and read back for previews, exports and the API.

use super::*;
use crate::domain::metrics::digest::{compose, Digest, History, Labels};
use crate::domain::metrics::prompts::asked_in;
use crate::domain::metrics::{MetricSettings, ProgramWeek, WeekOf};
use crate::domain::plan::{composed_at, next_digest};
use crate::store::metrics::WeekWindow;
use crate::store::{Job, NewJob};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};

impl App {
    /// Every complete week's digest of a program so far (computing the
    /// missing ones), oldest first: the export and the API's aggregates.
    pub async fn aggregates(&self, org: OrgId, program_key: &str) -> AppResult<Vec<Digest>> {
        let program = self.program_named(org, program_key).await?;
        let org_row = self.store.org(org).await?;
        let zone = program_zone(&org_row, &program);
        let last = ProgramWeek::last_complete(self.clock.now(), &zone);
        let started = program
            .spec
            .sessions
            .iter()
            .any(|s| ProgramWeek::of(s.planned) <= last);
        if started {
            self.digest(org, program_key, Some(last)).await?;
        }
        self.store
            .digests(org, program.id)
            .await?
            .into_iter()
            .map(|(week, body)| {
                serde_json::from_str(&body)
                    .map(|d| with_purpose(d, &program.spec))
                    .map_err(|e| {
                        AppError::NotFound(format!(
                            "the stored digest of the week of {week} is unreadable: {e}"
                        ))
                    })
            })
            .collect()
    }

    /// The digest of `week` (default: the last complete week). A week is
    /// composed once, at its scheduled digest time (PRODUCT.md), and stored
    /// with its trends; asked earlier, it is computed without being stored
    /// and marked provisional. Weeks from the program's first session up to
    /// it that were never composed are composed on the way, in order, so
    /// momentum has its history.
    pub async fn digest(
        &self,
        org: OrgId,
        program_key: &str,
        week: Option<ProgramWeek>,
    ) -> AppResult<Digest> {
        let program = self.program_named(org, program_key).await?;
        let org_row = self.store.org(org).await?;
        let zone = program_zone(&org_row, &program);
        let now = self.clock.now();
        let target = week.unwrap_or_else(|| ProgramWeek::last_complete(now, &zone));
        if target >= ProgramWeek::of(zone.date_of(now)) {
            return Err(AppError::Invalid(ConfigErrors::single(
                "week",
                format!(
                    "{} is not over yet: a digest reports a complete week",
                    target.iso()
                ),
            )));
        }
        if self.store.has_week(org, program.id, target.monday).await? {
            let stored = self.stored_digest(org, program.id, &target).await?;
            return Ok(with_purpose(stored, &program.spec));
        }
        let spec = &program.spec;
        let first = spec
            .sessions
            .iter()
            .map(|s| ProgramWeek::of(s.planned))
            .min()
            .unwrap_or_else(|| target.clone())
            .min(target.clone());
        let settings = MetricSettings {
            anonymity_threshold: spec.anonymity_threshold,
            momentum: spec.metrics,
        };
        // Weeks are composed in order, so the stored ones are a prefix: start
        // after the last stored week before the target, from its trends.
        let mut week = first;
        let mut previous = History::default();
        if let Some(last) = self
            .store
            .last_stored_week(org, program.id, target.monday)
            .await?
        {
            previous.trends = self.store.weekly_trends(org, program.id, last).await?;
            previous.held = self.store.held_figures(org, program.id).await?;
            week = ProgramWeek::of(last).next();
        }
        let (_, target_end) = target.bounds(&zone).ok_or_else(outside_calendar)?;
        // Answers count for a week until it is composed (or until now).
        let cutoff = |w: &ProgramWeek| composed_at(spec, &zone, w).unwrap_or(target_end).min(now);
        let comparison = spec
            .self_assessment
            .as_ref()
            .and_then(|sa| sa.comparison_cohort.as_deref());
        let follow_up_days: Vec<u32> = spec
            .self_assessment
            .as_ref()
            .map(|sa| sa.days.iter().copied().filter(|d| *d > 0).collect())
            .unwrap_or_default();
        let labels: Labels = spec
            .cohorts
            .iter()
            .map(|c| (format!("cohort:{}", c.key), c.name.clone()))
            .collect();
        let mut composing = true;
        loop {
            let window = self.window(&program, &zone, &week, cutoff(&week))?;
            let prompts = self
                .week_prompts(
                    org,
                    program.id,
                    &zone,
                    &week,
                    spec.metrics.dropping_weeks,
                    cutoff(&week),
                )
                .await?;
            let asked = asked_in(&prompts, &zone, &week, spec.metrics.dropping_weeks, cutoff);
            let mut facts = self
                .store
                .week_facts(org, program.id, &program.spec, &window, comparison, &asked)
                .await?;
            facts.follow_up_days = follow_up_days.clone();
            let mut composed = compose(&week, &facts, &previous, &settings, &labels);
            // Once one week is not due for composing, none after it is.
            composing &= composed_at(spec, &zone, &week).is_some_and(|at| at <= now);
            if composing {
                let json = serde_json::to_string(&composed.digest).map_err(|e| {
                    AppError::Invalid(ConfigErrors::single("digest", e.to_string()))
                })?;
                self.store
                    .store_week(org, program.id, week.monday, &composed, &json, now)
                    .await?;
            } else {
                composed.digest.provisional = true;
            }
            if week >= target {
                return Ok(with_purpose(composed.digest, spec));
            }
            previous = composed.into_history(previous);
            week = week.next();
        }
    }

    /// The prompts that tell who was asked in `week` and who of them is
    /// silent (every prompt of their last `weeks` prompted weeks
    /// unanswered): the week's own, and for the people who did not answer
    /// them in time (by `cutoff`), their prompts of the `weeks` weeks
    /// before and, when they were prompted in fewer of those, earlier ones.
    /// Someone who answered this week is not silent whatever came before,
    /// so a digest's cost follows the week's prompts and its quiet people,
    /// not the program's age.
    async fn week_prompts(
        &self,
        org: OrgId,
        program_id: ProgramId,
        zone: &Zone,
        week: &ProgramWeek,
        weeks: u32,
        cutoff: Timestamp,
    ) -> AppResult<Vec<crate::domain::metrics::prompts::Prompt>> {
        let (start, end) = week.bounds(zone).ok_or_else(outside_calendar)?;
        let mut prompts = self
            .store
            .prompts(org, program_id, Some(start), end, None)
            .await?;
        // Who did not answer this week's prompts in time, by the rule the
        // digest itself applies.
        let mut quiet: Vec<i64> = asked_in(&prompts, zone, week, 1, |_| cutoff)
            .into_iter()
            .filter(|(_, asked)| !asked.responded)
            .map(|(p, _)| p)
            .collect();
        if quiet.is_empty() || weeks <= 1 {
            return Ok(prompts);
        }
        quiet.sort_unstable();
        // A day's margin: a prompt's week is found in the program's zone.
        let from = start - jiff::SignedDuration::from_hours(24 * 7 * i64::from(weeks - 1) + 24);
        let before = self
            .store
            .prompts(org, program_id, Some(from), start, Some(&quiet))
            .await?;
        // The whole weeks before this one that the window holds (the
        // margin day belongs to an older week, read only in part).
        let first = (1..weeks).fold(week.clone(), |w, _| w.previous());
        let mut prompted: HashMap<i64, HashSet<ProgramWeek>> = HashMap::new();
        let mut week_of = WeekOf::new(zone);
        for p in &before {
            let w = week_of.week(p.sent);
            if w >= first {
                prompted.entry(p.participant).or_default().insert(w);
            }
        }
        prompts.extend(before);
        // Prompted in fewer than `weeks` weeks of the window (this one
        // included): their earlier prompts decide.
        let short: Vec<i64> = quiet
            .into_iter()
            .filter(|p| prompted.get(p).map_or(0, HashSet::len) + 1 < weeks as usize)
            .collect();
        if !short.is_empty() {
            let earlier = self
                .store
                .prompts(org, program_id, None, from, Some(&short))
                .await?;
            prompts.extend(earlier);
        }
        Ok(prompts)
    }

    async fn stored_digest(
        &self,
        org: OrgId,
        program_id: ProgramId,
        week: &ProgramWeek,
    ) -> AppResult<Digest> {
        let monday = week.monday.to_string();
        let body = self
            .store
            .digests(org, program_id)
            .await?
            .into_iter()
            .find(|(w, _)| *w == monday)
            .map(|(_, b)| b)
            .ok_or_else(|| AppError::NotFound(format!("no digest for {}", week.iso())))?;
        serde_json::from_str(&body).map_err(|e| {
            AppError::NotFound(format!(
                "the stored digest of {} is unreadable: {e}",
                week.iso()
            ))
        })
    }

    /// The chart of the weeks up to `week` (the last twelve), as a PNG.
    pub async fn digest_chart(
        &self,
        org: OrgId,
        program_key: &str,
        week: &ProgramWeek,
    ) -> AppResult<Vec<u8>> {
        let program = self.program_named(org, program_key).await?;
        let upto = week.iso();
        let mut weeks: Vec<Digest> = self
            .store
            .digests(org, program.id)
            .await?
            .into_iter()
            .filter_map(|(_, body)| serde_json::from_str::<Digest>(&body).ok())
            .filter(|d| d.week <= upto)
            .collect();
        let skip = weeks.len().saturating_sub(12);
        weeks.drain(..skip);
        let title = format!("{}: engagement and small actions by week", program.name);
        crate::chart::render_png(&title, &weeks)
            .map_err(|e| AppError::Invalid(ConfigErrors::single("chart", e.to_string())))
    }

    /// The program a digest job reports on, and its organisation.
    pub async fn digest_subject(&self, job: &Job) -> crate::store::Result<(ProgramRow, Org)> {
        let program = self.store.program(job.org_id, job.program_id).await?;
        let org = self.store.org(job.org_id).await?;
        Ok((program, org))
    }

    /// The next digest job after `after` (none without a digest rule, or
    /// past the program's end).
    pub async fn next_digest_job(
        &self,
        org: &Org,
        program: &ProgramRow,
        after: Timestamp,
    ) -> AppResult<Option<NewJob>> {
        let (latest, _) = self.store.program_activity(org.id, program.id).await?;
        let zone = program_zone(org, program);
        let next = next_digest(&program.spec, &zone, after, program.spec.ends_on(latest));
        Ok(next.map(|(due, week)| NewJob {
            program_id: program.id,
            participant_id: None,
            recipient_person_id: None,
            purpose: JobPurpose::Digest,
            period: week.iso(),
            session_number: None,
            due,
            reminds_job_id: None,
        }))
    }

    /// The program's own calendar (its zone, working days, quiet hours):
    /// when a job to its channel may still go out.
    pub fn program_calendar(&self, org: &Org, program: &ProgramRow) -> DeliveryCalendar {
        DeliveryCalendar {
            zone: program_zone(org, program),
            working_days: program.spec.working_days,
            quiet_hours: program.spec.quiet_hours,
            holidays: program.spec.holidays_for(None),
        }
    }

    fn window(
        &self,
        program: &ProgramRow,
        zone: &Zone,
        week: &ProgramWeek,
        cutoff: Timestamp,
    ) -> AppResult<WeekWindow> {
        let (start, end) = week.bounds(zone).ok_or_else(outside_calendar)?;
        let last_day = week.sunday();
        Ok(WeekWindow {
            start,
            end,
            cutoff,
            last_day,
            program_over: program
                .spec
                .last_planned(None)
                .is_none_or(|d| d <= last_day),
        })
    }
}

/// The digest headed by what the program is for, in HR's current words.
fn with_purpose(digest: Digest, spec: &crate::domain::program::ProgramSpec) -> Digest {
    Digest {
        target_behaviour: spec.target_behaviour.clone(),
        business_goal: spec.business_goal.clone(),
        ..digest
    }
}

fn outside_calendar() -> AppError {
    AppError::Invalid(ConfigErrors::single(
        "week",
        "outside the supported calendar",
    ))
}

/// The program's time zone, else the organisation's.
pub(super) fn program_zone(org: &Org, program: &ProgramRow) -> Zone {
    program
        .spec
        .time_zone
        .clone()
        .or_else(|| Zone::parse(&org.time_zone).ok())
        .unwrap_or_else(Zone::utc)
}

/// The digest as plain text in `locale`, from `templates/digest/`.
pub fn digest_text(
    program: &str,
    locale: &str,
    digest: &Digest,
) -> Result<String, crate::templates::TemplateError> {
    crate::templates::render_text(
        "digest",
        locale,
        "digest.txt",
        minijinja::context! { d => digest, program },
    )
}

/// Weekly headline figures as CSV, one row per week; a figure not published
/// is an empty cell. Numbers and ISO weeks only: no free text can appear.
pub fn aggregates_csv(digests: &[Digest]) -> String {
    fn cell<T: ToString>(v: Option<T>) -> String {
        v.map(|x| x.to_string()).unwrap_or_default()
    }
    let mut out = String::from(
        "week,published,enrolled,started,start_rate,completion_rate,completion_to_date,eligible,asked,responded,engagement,\
         actions_done,actions_partly,actions_not_yet,checkins_sent,manager_support_rate,session_usage,momentum,momentum_change,dropping\n",
    );
    for d in digests {
        let row = [
            d.week.clone(),
            d.published.to_string(),
            cell(d.enrolled),
            cell(d.started),
            cell(d.start_rate),
            cell(d.completion_rate),
            d.completion_to_date.to_string(),
            cell(d.eligible),
            cell(d.asked),
            cell(d.responded),
            cell(d.engagement),
            cell(d.actions.map(|a| a.done)),
            cell(d.actions.map(|a| a.partly)),
            cell(d.actions.map(|a| a.not_yet)),
            cell(d.checkins_sent),
            cell(d.manager_support_rate),
            cell(d.session_usage),
            cell(d.momentum),
            cell(d.momentum_change),
            cell(d.dropping.map(|r| match r {
                crate::domain::metrics::Dropping::EngagementFell { .. } => "engagement_fell",
                crate::domain::metrics::Dropping::Silent { .. } => "silent",
            })),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}
