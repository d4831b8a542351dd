//! Resolving people given by email to chat users, in the background: a
//! resolver claims an organisation's waiting people, asks each linked
//! workspace by the cheapest route (one paged directory sweep for many
//! people, one look-up each for a handful) and settles each person as the
//! answers come, so that an interrupted round loses nothing and repeats
//! little. Their nudges wait meanwhile (the dispatcher defers them).

use super::{App, AppResult};
use crate::chat::{ChatError, ChatPort, ChatUser, ResolutionCosts};
use crate::domain::errors::with_causes;
use crate::store::participants::PersonRecord;
pub use crate::store::resolution::ResolutionProgress;
use crate::store::resolution::Waiting;
use crate::store::{OrgId, PersonId, ProgramId};
use jiff::SignedDuration;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How long a claim holds before another resolver may take the people
/// over; a running round renews it after every page or few look-ups.
pub const RESOLUTION_LEASE: SignedDuration = SignedDuration::from_secs(120);

/// Applying resolves its people before answering when that is expected to
/// take no longer than this (a handful of people at Slack's pace).
pub const INLINE_BUDGET: Duration = Duration::from_secs(3);

/// After this many rounds in which a workspace could not be asked, a
/// person ends as "look-up failed" instead of waiting again.
const MAX_ROUNDS: i64 = 5;

/// A sweep saved longer ago than this starts again from the first page
/// (its cursor may no longer be good).
const SWEEP_RESUMABLE: SignedDuration = SignedDuration::from_secs(3600);

/// Look-ups between two lease renewals.
const RENEW_EVERY: usize = 20;

/// How to ask one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Page through the whole directory once, matching every email.
    Sweep,
    /// One look-up by email per person.
    Lookups,
}

/// Minutes `people` look-ups take at the platform's pace, with the one
/// sweep at 1,000 a page that learns their languages where the look-up does
/// not tell them (Slack).
fn lookups_minutes(people: usize, directory: Option<usize>, c: &ResolutionCosts) -> f64 {
    let languages = match c.pages_per_minute {
        Some(ppm) => (directory.unwrap_or(1000) as f64 / 1000.0).ceil() / f64::from(ppm.max(1)),
        None => 0.0,
    };
    people as f64 / f64::from(c.lookups_per_minute.max(1)) + languages
}

/// Minutes `pages` directory pages take at the platform's pace.
fn pages_minutes(pages: usize, c: &ResolutionCosts) -> f64 {
    c.pages_per_minute
        .map_or(f64::INFINITY, |ppm| pages as f64 / f64::from(ppm.max(1)))
}

/// The cheaper route for `people` in a workspace of `directory` users
/// (`None`: not known yet), weighing each call by its method's pace. With
/// the size unknown the sweep is tried first and given up once it has cost
/// what the look-ups would have (`keep_sweeping`).
pub fn cheapest_route(people: usize, directory: Option<usize>, c: &ResolutionCosts) -> Route {
    if c.pages_per_minute.is_none() || people == 0 {
        return Route::Lookups;
    }
    let sweep = match directory {
        Some(users) => pages_minutes(users.div_ceil(c.page_size.max(1)).max(1), c),
        None => pages_minutes(1, c),
    };
    if sweep <= lookups_minutes(people, directory, c) {
        Route::Sweep
    } else {
        Route::Lookups
    }
}

/// Whether a sweep of unknown length that has read `pages` pages is still
/// worth continuing against looking up the `left` people it started with
/// one by one: once it has cost as much as those look-ups, it stops (at most twice the cheaper
/// route's cost, whatever the workspace's size).
pub fn keep_sweeping(pages: usize, left: usize, c: &ResolutionCosts) -> bool {
    pages_minutes(pages, c) < lookups_minutes(left, None, c)
}

/// What one resolver round did.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolveRound {
    pub org: OrgId,
    /// People claimed.
    pub claimed: usize,
    /// Matched to a chat user.
    pub resolved: usize,
    /// Ended without one (not found, a bot, deactivated…): "email: reason".
    pub not_found: Vec<String>,
    /// Given back to try again later (a workspace could not be asked).
    pub deferred: usize,
    /// Calls made to the chat platforms.
    pub calls: usize,
}

/// Calls a platform, waiting out a 429 (up to three times, a minute at most
/// each) rather than giving up on the people.
async fn waiting_out_limits<T, F, Fut>(mut call: F, calls: &mut usize) -> Result<T, ChatError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ChatError>>,
{
    let mut tries = 0;
    loop {
        *calls += 1;
        match call().await {
            Err(ChatError::RateLimited { retry_after }) if tries < 3 => {
                tries += 1;
                let wait = retry_after.unwrap_or(Duration::from_secs(5));
                tokio::time::sleep(wait.min(Duration::from_secs(60))).await;
            }
            other => return other,
        }
    }
}

/// The record a found chat user gives a person, or why it cannot be them.
fn record_for(u: ChatUser, now: jiff::Timestamp) -> PersonRecord {
    let mut rec = PersonRecord::default();
    if u.is_bot {
        rec.unresolved_reason = Some("the email belongs to a bot, not a person".into());
    } else if u.deleted {
        rec.unresolved_reason = Some("the chat account is deactivated".into());
    } else {
        rec.away_until = Some(u.status.away_until(now));
        rec.chat = Some(u.identity);
        rec.display_name = u.display_name;
        rec.time_zone = u.time_zone;
        rec.locale = u.locale;
    }
    rec
}

/// One round's working state for one organisation.
struct Round<'a> {
    app: &'a App,
    owner: &'a str,
    out: ResolveRound,
    /// Waiting people by lower-cased email.
    left: HashMap<String, &'a Waiting>,
    /// Identity hashes of people who asked to be forgotten.
    gone: HashSet<String>,
    keys: Option<super::keys::OrgKeys>,
    /// Chat users found by look-up whose language is not known yet.
    no_language: Vec<(PersonId, String)>,
    settled_people: Vec<PersonId>,
}

impl Round<'_> {
    /// Records what was found for these people, and forgets them.
    async fn settle(&mut self, found: Vec<(String, PersonRecord)>) -> AppResult<()> {
        let mut rows = Vec::new();
        for (email, mut rec) in found {
            let Some(w) = self.left.remove(&email) else {
                continue;
            };
            if let (Some(chat), Some(keys)) = (&rec.chat, &self.keys) {
                // Someone who asked to be forgotten is not matched again.
                if super::me::identity_hashes(keys, None, Some(chat))
                    .iter()
                    .any(|h| self.gone.contains(h))
                {
                    rec = PersonRecord {
                        unresolved_reason: Some("this person asked to be forgotten".into()),
                        ..Default::default()
                    };
                }
            }
            match (&rec.chat, &rec.unresolved_reason) {
                (Some(c), _) => {
                    self.out.resolved += 1;
                    if rec.locale.is_none() && c.platform == crate::domain::Platform::Slack {
                        self.no_language.push((w.person_id, c.user.clone()));
                    }
                }
                (None, reason) => self.out.not_found.push(format!(
                    "{}: {}",
                    w.email,
                    reason.as_deref().unwrap_or("no chat user has this email")
                )),
            }
            self.settled_people.push(w.person_id);
            rows.push((w.person_id, rec));
        }
        let now = self.app.clock.now();
        // On a task of its own: a round cancelled mid-write (a timeout, a
        // task aborted) must not leave its transaction open on a pooled
        // connection, holding the people's rows locked until that
        // connection is next used — a PostgreSQL resolver taking them over
        // would wait for it (the restart test hung so once).
        let (store, org, owner) = (self.app.store.clone(), self.out.org, self.owner.to_string());
        tokio::spawn(async move { store.settle_resolutions(org, &owner, &rows, now).await })
            .await
            .map_err(|e| {
                crate::store::StoreError::Conflict(format!("settling people failed: {e}"))
            })??;
        self.app
            .store
            .renew_resolutions(self.out.org, self.owner, now + RESOLUTION_LEASE)
            .await?;
        Ok(())
    }

    /// Pages through the workspace's directory. Returns whether it read all
    /// of it (then everyone still left is not in this workspace). Where it
    /// has got to is saved after every page: a sweep left under way (its
    /// resolver restarted) goes on from there, and then reads the pages it
    /// skipped at the end, for anyone claimed since.
    async fn sweep(
        &mut self,
        port: &dyn ChatPort,
        costs: &ResolutionCosts,
        size_known: bool,
    ) -> Result<bool, ChatError> {
        let org = self.out.org;
        let (platform, workspace) = (port.platform(), port.workspace().to_string());
        let now = self.app.clock.now();
        let saved = match self.app.store.saved_sweep(org, platform, &workspace).await {
            Ok(s) => s.filter(|s| now.duration_since(s.updated_at) < SWEEP_RESUMABLE),
            Err(e) => return Err(ChatError::Transient(with_causes(&e))),
        };
        let (mut cursor, mut pages, mut users) = match &saved {
            Some(s) => (Some(s.cursor.clone()), s.pages as usize, s.users as usize),
            None => (None, 0, 0),
        };
        // Pages before the resumed cursor, read again at the end if needed.
        let mut skipped = pages;
        let mut wrapping: Option<usize> = None;
        if skipped > 0 {
            tracing::info!(org = org.0, pages, "resuming a directory sweep");
        }
        // Measured against looking up everyone it started with: the rent
        // paid so far against the price of buying at the start.
        let people = self.left.len();
        let mut read = 0;
        loop {
            if !size_known && read > 0 && !keep_sweeping(read, people, costs) {
                self.save_sweep(port, None).await;
                return Ok(false);
            }
            let at = cursor.clone();
            let page = waiting_out_limits(
                || port.directory_page(at.as_deref(), costs.page_size),
                &mut self.out.calls,
            )
            .await?;
            read += 1;
            let now = self.app.clock.now();
            let found: Vec<(String, PersonRecord)> = page
                .users
                .iter()
                .filter_map(|u| {
                    let email = u.email.as_deref()?.trim().to_lowercase();
                    self.left
                        .contains_key(&email)
                        .then(|| (email, record_for(u.clone(), now)))
                })
                .collect();
            if !found.is_empty() {
                self.settle(found)
                    .await
                    .map_err(|e| ChatError::Transient(e.to_string()))?;
            }
            if let Some(limit) = wrapping.as_mut() {
                // Reading again the pages a resumed sweep skipped.
                *limit -= 1;
                match page.next {
                    Some(next) if *limit > 0 && !self.left.is_empty() => {
                        cursor = Some(next);
                        continue;
                    }
                    // Every page read once since this round began.
                    _ => return Ok(true),
                }
            }
            pages += 1;
            users += page.users.len();
            match page.next {
                // Everyone found: the rest of the directory is not needed.
                Some(_) if self.left.is_empty() => {
                    self.save_sweep(port, None).await;
                    return Ok(false);
                }
                Some(next) => {
                    self.save_sweep(port, Some((&next, pages, users))).await;
                    cursor = Some(next);
                }
                None => {
                    self.save_sweep(port, None).await;
                    let remembered = self.app.store.remember_directory_size(
                        org,
                        platform,
                        &workspace,
                        users as i64,
                        now,
                    );
                    if let Err(e) = remembered.await {
                        tracing::warn!(error = %with_causes(&e), "could not remember the workspace's size");
                    }
                    if skipped > 0 && !self.left.is_empty() {
                        wrapping = Some(skipped);
                        skipped = 0;
                        cursor = None;
                        continue;
                    }
                    return Ok(true);
                }
            }
        }
    }

    /// Saves where the sweep of `port`'s directory has got to (a failure
    /// only costs a restart some pages).
    async fn save_sweep(&self, port: &dyn ChatPort, at: Option<(&str, usize, usize)>) {
        let saved = self
            .app
            .store
            .save_sweep(
                self.out.org,
                port.platform(),
                port.workspace(),
                at.map(|(c, p, u)| (c, p as i64, u as i64)),
                self.app.clock.now(),
            )
            .await;
        if let Err(e) = saved {
            tracing::warn!(error = %with_causes(&e), "could not save the directory sweep's place");
        }
    }

    /// Looks each person left up by email. Returns true: everyone was asked.
    async fn lookups(&mut self, port: &dyn ChatPort) -> Result<bool, ChatError> {
        let mut emails: Vec<String> = self.left.keys().cloned().collect();
        emails.sort();
        let per_call = port.lookups_per_call();
        if per_call > 1 {
            // Many emails a call (Graph's batches), settled call by call.
            for chunk in emails.chunks(per_call) {
                let answers =
                    waiting_out_limits(|| port.lookup_many(chunk), &mut self.out.calls).await?;
                let now = self.app.clock.now();
                let found: Vec<(String, PersonRecord)> = chunk
                    .iter()
                    .zip(answers)
                    .filter_map(|(email, u)| u.map(|u| (email.clone(), record_for(u, now))))
                    .collect();
                self.settle(found)
                    .await
                    .map_err(|e| ChatError::Transient(e.to_string()))?;
            }
            return Ok(true);
        }
        let mut found = Vec::new();
        for (i, email) in emails.into_iter().enumerate() {
            let answer =
                waiting_out_limits(|| port.lookup_by_email(&email), &mut self.out.calls).await;
            let now = self.app.clock.now();
            match answer {
                Ok(Some(u)) => found.push((email, record_for(u, now))),
                Ok(None) => {}
                Err(e) => {
                    self.settle(std::mem::take(&mut found))
                        .await
                        .map_err(|e| ChatError::Transient(e.to_string()))?;
                    return Err(e);
                }
            }
            // Settled as they come: an interrupted round repeats none of them.
            if !found.is_empty() || (i + 1) % RENEW_EVERY == 0 {
                self.settle(std::mem::take(&mut found))
                    .await
                    .map_err(|e| ChatError::Transient(e.to_string()))?;
            }
        }
        Ok(true)
    }
}

impl App {
    /// The organisation's own workspaces (Slack and Teams) that emails are
    /// looked up in, in the order they were linked.
    pub(super) async fn directories(&self, org: OrgId) -> Vec<Arc<dyn ChatPort>> {
        match self.store.workspaces(org).await {
            Ok(ws) => ws
                .iter()
                .filter_map(|(platform, id)| self.chats.for_workspace(*platform, id))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %with_causes(&e), "could not read the organisation's workspaces");
                Vec::new()
            }
        }
    }

    /// The route and its expected minutes for `people` in the organisation's
    /// first workspace (where most are found), at its client's pace: zero
    /// where the client does not wait between calls.
    pub(super) async fn expected_resolution(&self, org: OrgId, people: usize) -> Option<f64> {
        let directories = self.directories(org).await;
        let port = directories.first()?;
        let costs = port.resolution_costs();
        if !costs.paced {
            return Some(0.0);
        }
        let size = self
            .store
            .directory_size(org, port.platform(), port.workspace())
            .await
            .ok()
            .flatten()
            .map(|n| n as usize);
        Some(match cheapest_route(people, size, &costs) {
            // A directory of unknown size holds at least these people: a
            // big file is not taken for one quick page.
            Route::Sweep => pages_minutes(
                size.unwrap_or(people.max(costs.page_size))
                    .div_ceil(costs.page_size.max(1)),
                &costs,
            ),
            Route::Lookups => lookups_minutes(people, size, &costs),
        })
    }

    /// One resolver round: claims the waiting people of one organisation
    /// (`org`, or whichever has people waiting longest), resolves them and
    /// re-plans their programs. `None` when no one is waiting.
    pub async fn resolve_waiting(
        &self,
        org: Option<OrgId>,
        owner: &str,
    ) -> AppResult<Option<ResolveRound>> {
        let now = self.clock.now();
        let Some((org, waiting)) = self
            .store
            .claim_resolutions(org, owner, now, RESOLUTION_LEASE)
            .await?
        else {
            return Ok(None);
        };
        let gone = self.store.erased_hashes(org).await?;
        let keys = if gone.is_empty() {
            None
        } else {
            Some(self.keys(org).await?)
        };
        let mut round = Round {
            app: self,
            owner,
            out: ResolveRound {
                org,
                claimed: waiting.len(),
                resolved: 0,
                not_found: Vec::new(),
                deferred: 0,
                calls: 0,
            },
            left: waiting
                .iter()
                .map(|w| (w.email.trim().to_lowercase(), w))
                .collect(),
            gone,
            keys,
            no_language: Vec::new(),
            settled_people: Vec::new(),
        };
        let directories = self.directories(org).await;
        let mut failed: Option<ChatError> = None;
        for port in &directories {
            if round.left.is_empty() {
                break;
            }
            let costs = port.resolution_costs();
            let size = self
                .store
                .directory_size(org, port.platform(), port.workspace())
                .await?
                .map(|n| n as usize);
            let route = cheapest_route(round.left.len(), size, &costs);
            tracing::info!(
                org = org.0,
                people = round.left.len(),
                route = ?route,
                workspace_users = size,
                "resolving people by email"
            );
            let mut asked = match route {
                Route::Sweep => round.sweep(port.as_ref(), &costs, size.is_some()).await,
                Route::Lookups => Ok(false),
            };
            // A sweep given up (too long for so few people) or not chosen:
            // look the rest up one by one.
            if matches!(asked, Ok(false)) && !round.left.is_empty() {
                asked = round.lookups(port.as_ref()).await;
            }
            if let Err(e) = asked {
                tracing::warn!(error = %e, workspace = port.workspace(), "could not look people up");
                failed = Some(e);
            }
        }
        // Whoever is left was found in no workspace that could be asked.
        let left: Vec<&Waiting> = round.left.values().copied().collect();
        let (retry, end): (Vec<&Waiting>, Vec<&Waiting>) = match &failed {
            Some(_) => left.into_iter().partition(|w| w.attempts + 1 < MAX_ROUNDS),
            None => (Vec::new(), left),
        };
        let reason = match (&failed, directories.is_empty()) {
            (Some(e), _) => format!("email look-up failed: {e}"),
            (None, true) => "no chat workspace is connected to look the email up".into(),
            (None, false) => "no chat user has this email".into(),
        };
        let ended: Vec<(String, PersonRecord)> = end
            .iter()
            .map(|w| {
                let rec = PersonRecord {
                    unresolved_reason: Some(reason.clone()),
                    ..Default::default()
                };
                (w.email.trim().to_lowercase(), rec)
            })
            .collect();
        let retry_ids: Vec<PersonId> = retry.iter().map(|w| w.person_id).collect();
        round.settle(ended).await?;
        if !retry_ids.is_empty() {
            // 1, 2, 4, 8 minutes between rounds.
            let wait =
                SignedDuration::from_mins(1 << retry.first().map_or(0, |w| w.attempts.clamp(0, 4)));
            self.store
                .defer_resolutions(org, owner, &retry_ids, self.clock.now() + wait)
                .await?;
            round.out.deferred = retry_ids.len();
        }
        self.learn_languages(&mut round, &directories).await;
        let programs = self
            .store
            .programs_of_people(org, &round.settled_people)
            .await?;
        // Their zones are known now: their programs' unsent jobs follow.
        for program in programs {
            self.replan_program(org, program).await?;
        }
        Ok(Some(round.out))
    }

    /// A chat user joined a workspace, or their profile changed
    /// (`team_join`, `user_change`): people given by their email who have no
    /// chat user yet — still waiting, or ended as not found (a new member,
    /// or a changed email) — are matched to them now, and their programs
    /// re-planned. Returns how many people were matched.
    pub async fn chat_user_appeared(&self, user: ChatUser) -> AppResult<usize> {
        let Some(email) = user.email.as_deref().map(|e| e.trim().to_lowercase()) else {
            return Ok(0);
        };
        if email.is_empty() || user.is_bot || user.deleted {
            return Ok(0);
        }
        let people = self
            .store
            .people_without_chat_by_email(user.identity.platform, &user.identity.workspace, &email)
            .await?;
        let owner = format!("event-{:08x}", rand::random::<u32>());
        let mut matched = 0;
        for (org, person_id) in people {
            let now = self.clock.now();
            // A resolver holding them finds them itself.
            if !self
                .store
                .claim_person(org, person_id, &owner, now, RESOLUTION_LEASE)
                .await?
            {
                continue;
            }
            let gone = self.store.erased_hashes(org).await?;
            let keys = if gone.is_empty() {
                None
            } else {
                Some(self.keys(org).await?)
            };
            let waiting = Waiting {
                person_id,
                email: email.clone(),
                attempts: 0,
            };
            let mut round = Round {
                app: self,
                owner: &owner,
                out: ResolveRound {
                    org,
                    claimed: 1,
                    resolved: 0,
                    not_found: Vec::new(),
                    deferred: 0,
                    calls: 0,
                },
                left: HashMap::from([(email.clone(), &waiting)]),
                gone,
                keys,
                no_language: Vec::new(),
                settled_people: Vec::new(),
            };
            round
                .settle(vec![(email.clone(), record_for(user.clone(), now))])
                .await?;
            matched += round.out.resolved;
            tracing::info!(
                org = org.0,
                person = person_id.0,
                resolved = round.out.resolved,
                "a chat user appeared for a person given by email"
            );
            for program in self.store.programs_of_people(org, &[person_id]).await? {
                self.replan_program(org, program).await?;
            }
        }
        Ok(matched)
    }

    /// Slack's look-up by email does not tell a person's language: one sweep
    /// of the workspace's users does, for everyone matched by look-up.
    async fn learn_languages(&self, round: &mut Round<'_>, directories: &[Arc<dyn ChatPort>]) {
        if round.no_language.is_empty() {
            return;
        }
        let slack = directories
            .iter()
            .find(|p| p.platform() == crate::domain::Platform::Slack);
        let Some(port) = slack else { return };
        round.out.calls += 1;
        match port.languages().await {
            Ok(languages) => {
                for (person, user) in &round.no_language {
                    if let Some(l) = languages.get(user) {
                        if let Err(e) = self
                            .store
                            .set_person_locale(round.out.org, *person, l)
                            .await
                        {
                            tracing::warn!(error = %with_causes(&e), "could not store a language");
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not learn people's languages"),
        }
    }

    /// After applying: resolves the people the file left waiting when that
    /// is expected to be quick, so HR reads who was not found in the
    /// answer; otherwise leaves them to the background resolver.
    /// `outcome.resolving` says how many still wait.
    pub(super) async fn resolve_if_quick(
        &self,
        org: OrgId,
        outcome: &mut crate::store::programs::ApplyOutcome,
    ) -> AppResult<()> {
        let waiting = self
            .store
            .program_resolution(org, outcome.program_id)
            .await?
            .resolving as usize;
        let quick = match (waiting, self.inline_resolution) {
            (0, _) | (_, None) => None,
            (n, Some(budget)) => self
                .expected_resolution(org, n)
                .await
                .filter(|minutes| minutes * 60.0 <= budget.as_secs_f64())
                .map(|_| budget),
        };
        if let Some(budget) = quick {
            let owner = format!("apply-{:08x}", rand::random::<u32>());
            // Past the budget (a slow workspace) the claim's lease runs out
            // and the background resolver takes over where this stopped.
            let rounds = tokio::time::timeout(
                budget + Duration::from_secs(10),
                self.resolve_all(org, &owner),
            )
            .await;
            match rounds {
                Ok(Ok(rounds)) => {
                    let program = self
                        .store
                        .program_resolution(org, outcome.program_id)
                        .await?;
                    for line in rounds.into_iter().flat_map(|r| r.not_found) {
                        if program.not_found.contains(&line) && !outcome.unresolved.contains(&line)
                        {
                            outcome.unresolved.push(line);
                        }
                    }
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "resolving left to the background"),
                Err(_) => tracing::warn!("resolving took too long; left to the background"),
            }
            // Whoever this left claimed is given back at once: the service
            // (or `apply --wait`) goes on from the saved page now, not once
            // the claim's lease has run out.
            self.store.release_resolutions(org, &owner).await?;
        }
        outcome.resolving = self
            .store
            .program_resolution(org, outcome.program_id)
            .await?
            .resolving;
        Ok(())
    }

    /// How far resolving a program's people has come.
    pub async fn program_resolution(
        &self,
        org: OrgId,
        program_id: ProgramId,
    ) -> AppResult<ResolutionProgress> {
        let mut progress = self.store.program_resolution(org, program_id).await?;
        if progress.resolving > 0 {
            progress.minutes_left = self
                .minutes_left(org, progress.resolving as usize)
                .await
                .map(|m| (m * 10.0).ceil() / 10.0);
        }
        Ok(progress)
    }

    /// About how many minutes resolving `people` still takes at the pace of
    /// the organisation's first workspace: the pages a sweep under way has
    /// still to read, or the look-ups left. `None` where calls are not paced.
    async fn minutes_left(&self, org: OrgId, people: usize) -> Option<f64> {
        let directories = self.directories(org).await;
        let port = directories.first()?;
        let costs = port.resolution_costs();
        if !costs.paced {
            return None;
        }
        let size = self
            .store
            .directory_size(org, port.platform(), port.workspace())
            .await
            .ok()
            .flatten()
            .map(|n| n as usize);
        let saved = self
            .store
            .saved_sweep(org, port.platform(), port.workspace())
            .await
            .ok()
            .flatten();
        let sweeping = saved
            .as_ref()
            .is_some_and(|s| self.clock.now().duration_since(s.updated_at) < SWEEP_RESUMABLE);
        Some(match (sweeping, cheapest_route(people, size, &costs)) {
            (true, _) | (false, Route::Sweep) => {
                let page = costs.page_size.max(1);
                let read = saved.filter(|_| sweeping).map_or(0, |s| s.pages as usize);
                // A directory of unknown size: at least one more page, and
                // at least the pages the people left fill.
                let total = size.map_or(read + people.div_ceil(page).max(1), |n| n.div_ceil(page));
                pages_minutes(total.saturating_sub(read).max(1), &costs)
            }
            (false, Route::Lookups) => lookups_minutes(people, size, &costs),
        })
    }

    /// Runs resolver rounds for `org` until no one there is waiting.
    pub async fn resolve_all(&self, org: OrgId, owner: &str) -> AppResult<Vec<ResolveRound>> {
        let mut rounds = Vec::new();
        while let Some(r) = self.resolve_waiting(Some(org), owner).await? {
            let stuck = r.deferred == r.claimed;
            rounds.push(r);
            if stuck {
                break;
            }
        }
        Ok(rounds)
    }
}

/// A count as people read it in `lang`: 10,000 in English, 10 000 in
/// Czech (a no-break space).
pub fn grouped(n: i64, lang: &str) -> String {
    let separator = if lang == "cs" { '\u{a0}' } else { ',' };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_as_each_language_writes_them() {
        assert_eq!(grouped(3_812, "en"), "3,812");
        assert_eq!(grouped(10_000, "cs"), "10\u{a0}000");
        assert_eq!(grouped(999, "en"), "999");
        assert_eq!(grouped(0, "cs"), "0");
    }

    fn slack() -> ResolutionCosts {
        ResolutionCosts {
            lookups_per_minute: 50,
            pages_per_minute: Some(20),
            page_size: 200,
            paced: true,
        }
    }

    #[test]
    fn many_people_in_a_known_workspace_are_swept() {
        // 10,000 people, 20,000 users: 100 pages (5 min) against 200 min.
        assert_eq!(cheapest_route(10_000, Some(20_000), &slack()), Route::Sweep);
        // 300 people, 1,022 users: 6 pages (18 s) against 6 min.
        assert_eq!(cheapest_route(300, Some(1_022), &slack()), Route::Sweep);
    }

    #[test]
    fn a_handful_in_a_big_workspace_is_looked_up() {
        assert_eq!(cheapest_route(5, Some(20_000), &slack()), Route::Lookups);
        assert_eq!(cheapest_route(150, Some(100_000), &slack()), Route::Lookups);
    }

    #[test]
    fn a_platform_without_a_directory_looks_up() {
        let teams = ResolutionCosts {
            pages_per_minute: None,
            ..slack()
        };
        assert_eq!(cheapest_route(10_000, None, &teams), Route::Lookups);
    }

    #[test]
    fn a_sweep_of_unknown_length_stops_once_it_cost_what_lookups_would() {
        // 10 people: 12 s of look-ups (+3 s for languages); a page costs 3 s.
        assert!(keep_sweeping(4, 10, &slack()));
        assert!(!keep_sweeping(5, 10, &slack()));
        assert!(keep_sweeping(99, 10_000, &slack()));
    }
}
