//! One-time OAuth and sign-in states: a row that anyone can make with a GET
//! (`/slack/install`, `/admin/signin/{provider}`). Each client address may
//! start a few per minute, the store keeps at most `MAX_LIVE_STATES`
//! unexpired ones (expired ones are purged as new ones are stored), so a
//! loop of requests costs a 429, not a table.

use super::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::{Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

/// States one client address may start per minute (a person retrying a
/// sign-in a few times stays well under it).
const PER_MINUTE: u32 = 10;
/// Unexpired states the store holds at most, from all clients together.
pub const MAX_LIVE_STATES: i64 = 10_000;
/// Addresses remembered before the idle ones are dropped.
const TRACKED_ADDRESSES: usize = 10_000;

type Keyed = RateLimiter<
    IpAddr,
    governor::state::keyed::DefaultKeyedStateStore<IpAddr>,
    governor::clock::DefaultClock,
>;

/// How many states each client address may start.
pub struct StateLimiter(Keyed);

impl Default for StateLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(per_minute)))
    }
}

impl StateLimiter {
    /// True when `client` may start one more.
    fn allows(&self, client: IpAddr) -> bool {
        if self.0.len() > TRACKED_ADDRESSES {
            self.0.retain_recent();
        }
        self.0.check_key(&client).is_ok()
    }
}

/// The address a request came from: the peer, or, when the peer is a proxy
/// on a private network (an ingress controller), the address that proxy
/// appended last to `X-Forwarded-For`. A client on the internet cannot
/// connect from a private address, so it cannot choose its own key.
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = || {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|a| a.trim().parse::<IpAddr>().ok())
        };
        Ok(Self(match peer {
            Some(p) if is_private(p) => forwarded().or(Some(p)),
            other => other,
        }))
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// Stores a new state for `client`, or says why not: 429 over the client's
/// rate or when the store is full, 503 when the database does not answer.
pub async fn begin(
    state: &AppState,
    client: &ClientAddr,
    state_hash: &str,
) -> Result<(), Response> {
    let busy = || {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            "Too many sign-ins or installs started from here: try again in a minute.",
        )
            .into_response()
    };
    if let Some(ip) = client.0 {
        if !state.state_limiter.allows(ip) {
            tracing::warn!("sign-in or install states refused: over the per-address rate");
            return Err(busy());
        }
    }
    match state.app.add_oauth_state(state_hash, MAX_LIVE_STATES).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            tracing::warn!(
                limit = MAX_LIVE_STATES,
                "sign-in or install states refused: the store is full"
            );
            Err(busy())
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store a sign-in or install state");
            Err((StatusCode::SERVICE_UNAVAILABLE, "Try again in a minute.").into_response())
        }
    }
}

/// Whether people reach this deployment over https (cookies are `Secure` then).
pub fn over_https(state: &AppState) -> bool {
    https(state.public_url.as_deref())
}

fn https(public_url: Option<&str>) -> bool {
    public_url.is_some_and(|u| u.starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_limited_on_its_own() {
        let l = StateLimiter::default();
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "198.51.100.9".parse().unwrap();
        for _ in 0..PER_MINUTE {
            assert!(l.allows(a));
        }
        assert!(!l.allows(a), "the eleventh in a minute");
        assert!(l.allows(b), "another address is not affected");
    }

    #[test]
    fn cookies_are_secure_where_people_come_over_https() {
        assert!(https(Some("https://momentum.acme.example")));
        assert!(!https(Some("http://127.0.0.1:8080")));
        assert!(!https(None));
    }

    #[test]
    fn only_a_private_peer_may_name_the_client() {
        assert!(is_private("10.1.2.3".parse().unwrap()));
        assert!(is_private("::1".parse().unwrap()));
        assert!(is_private("fd00::1".parse().unwrap()));
        assert!(!is_private("203.0.113.7".parse().unwrap()));
        assert!(!is_private("2001:db8::1".parse().unwrap()));
    }
}
