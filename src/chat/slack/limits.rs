//! Slack's published rate limits, kept on our side so that a big cohort goes
//! out at the allowed pace instead of in 429 storms: about one message per
//! second per channel for `chat.postMessage` (plus a workspace-wide budget),
//! and the per-minute tiers of the other methods. The local workspace
//! enforces the same table, with a little burst tolerance.

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;

/// Calls per minute for each method, and the per-channel message pace.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackLimits {
    /// `chat.postMessage` to one channel, per second.
    pub post_per_channel_per_second: u32,
    /// `chat.postMessage` across the workspace, per minute.
    pub post_per_workspace_per_minute: u32,
    /// Other methods: calls per minute (Slack's tiers).
    pub per_minute: Vec<(&'static str, u32)>,
}

pub const TIER_2: u32 = 20;
pub const TIER_3: u32 = 50;
pub const TIER_4: u32 = 100;

impl Default for SlackLimits {
    fn default() -> Self {
        Self {
            post_per_channel_per_second: 1,
            post_per_workspace_per_minute: 300,
            per_minute: vec![
                ("chat.update", TIER_3),
                ("chat.postEphemeral", TIER_4),
                ("conversations.open", TIER_3),
                ("users.lookupByEmail", TIER_3),
                ("users.info", TIER_4),
                ("auth.test", TIER_4),
                ("files.getUploadURLExternal", TIER_4),
                ("files.completeUploadExternal", TIER_4),
                ("users.list", TIER_2),
                ("views.publish", TIER_4),
                ("views.open", TIER_4),
                // Apps outside the Slack Marketplace: one history call a minute.
                ("conversations.history", 1),
            ],
        }
    }
}

impl SlackLimits {
    pub fn method_per_minute(&self, method: &str) -> Option<u32> {
        self.per_minute
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, n)| *n)
    }

    /// The same table scaled (e.g. ×60 for fast tests), never below one a minute.
    pub fn scaled(&self, factor: u32) -> Self {
        Self {
            post_per_channel_per_second: self.post_per_channel_per_second * factor,
            post_per_workspace_per_minute: self.post_per_workspace_per_minute * factor,
            per_minute: self
                .per_minute
                .iter()
                .map(|(m, n)| (*m, n * factor))
                .collect(),
        }
    }
}

type Direct = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;
type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// Rate limiters for one workspace. `burst` is how many calls may go at once
/// before pacing starts (1 on the sending side: strict pacing).
pub struct Limiter {
    per_channel: Keyed,
    workspace_posts: Direct,
    methods: HashMap<&'static str, Direct>,
}

impl Limiter {
    pub fn new(limits: &SlackLimits, burst: u32) -> Self {
        let per_channel =
            Quota::per_second(nz(limits.post_per_channel_per_second)).allow_burst(nz(burst));
        let per_workspace =
            Quota::per_minute(nz(limits.post_per_workspace_per_minute)).allow_burst(nz(burst));
        Self {
            per_channel: RateLimiter::keyed(per_channel),
            workspace_posts: RateLimiter::direct(per_workspace),
            methods: limits
                .per_minute
                .iter()
                .map(|(m, n)| {
                    (
                        *m,
                        RateLimiter::direct(Quota::per_minute(nz(*n)).allow_burst(nz(burst))),
                    )
                })
                .collect(),
        }
    }

    /// Waits until a call may go.
    pub async fn until_ready(&self, method: &str, channel: Option<&str>) {
        if method == "chat.postMessage" {
            if let Some(c) = channel {
                self.per_channel.until_key_ready(&c.to_string()).await;
            }
            self.workspace_posts.until_ready().await;
        } else if let Some(l) = self.methods.get(method) {
            l.until_ready().await;
        }
    }

    /// Whether a call may go now (the simulator's check): `Err` with the seconds to wait.
    pub fn check(&self, method: &str, channel: Option<&str>) -> Result<(), u64> {
        let wait = |e: governor::NotUntil<governor::clock::QuantaInstant>| {
            use governor::clock::Clock;
            e.wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        };
        if method == "chat.postMessage" {
            if let Some(c) = channel {
                self.per_channel.check_key(&c.to_string()).map_err(wait)?;
            }
            self.workspace_posts.check().map_err(wait)?;
        } else if let Some(l) = self.methods.get(method) {
            l.check().map_err(wait)?;
        }
        Ok(())
    }
}
