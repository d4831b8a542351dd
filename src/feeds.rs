//! Fetching a program's bookings feed (`program.bookings_feed`), the one
//! place the service fetches an address an admin typed. Such an address
//! could point inside the network the service runs in (a cloud metadata
//! endpoint, the database, an internal admin page), so the fetcher:
//!
//! - speaks https only, and follows at most [`MAX_REDIRECTS`] redirects, each
//!   to https and checked like the first address;
//! - resolves the host itself and refuses it when any of its addresses is
//!   loopback, private, link-local, unique-local or otherwise not public
//!   ([`is_public`]), then connects to exactly the addresses it checked
//!   (reqwest's `resolve_to_addrs`), so a second DNS answer (rebinding)
//!   cannot send it elsewhere; no proxy is used, as a proxy would resolve
//!   the name again;
//! - stops after [`FEED_TIMEOUT`] and refuses a body over
//!   [`MAX_BOOKINGS_BYTES`](crate::domain::ics::bookings::MAX_BOOKINGS_BYTES),
//!   counted as it streams in.
//!
//! There is no setting that relaxes any of this. Tests that need a feed
//! give the app another [`FeedSource`] in code (`App::with_feed_source`);
//! nothing in the configuration or the environment can.

use crate::domain::bookings::FeedUrl;
use crate::domain::ics::bookings::{BOOKINGS_CALENDAR, MAX_BOOKINGS_BYTES};
use crate::domain::ics::too_large;
use async_trait::async_trait;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long one fetch (every redirect included) may take.
pub const FEED_TIMEOUT: Duration = Duration::from_secs(20);

/// How many redirects a fetch follows.
pub const MAX_REDIRECTS: usize = 3;

/// Why a feed was not read. The messages never hold the address's path or
/// query (where a feed's secret token lives).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Failed(String),
}

/// Where feeds come from: the network ([`HttpsFeeds`]) in the service.
#[async_trait]
pub trait FeedSource: Send + Sync {
    /// The feed's text.
    async fn fetch(&self, feed: &FeedUrl) -> Result<String, FeedError>;
}

/// Feeds fetched over https, from public addresses only.
#[derive(Debug, Default)]
pub struct HttpsFeeds;

#[async_trait]
impl FeedSource for HttpsFeeds {
    async fn fetch(&self, feed: &FeedUrl) -> Result<String, FeedError> {
        tokio::time::timeout(FEED_TIMEOUT, fetch_public(feed.url().clone()))
            .await
            .map_err(|_| {
                FeedError::Failed(format!(
                    "{} did not answer within {} seconds",
                    feed.host(),
                    FEED_TIMEOUT.as_secs()
                ))
            })?
    }
}

async fn fetch_public(mut url: url::Url) -> Result<String, FeedError> {
    for _ in 0..=MAX_REDIRECTS {
        let host = url.host_str().unwrap_or_default().to_string();
        if url.scheme() != "https" {
            return Err(FeedError::Refused(format!(
                "{host}: a bookings feed is fetched over https only"
            )));
        }
        let addrs = public_addresses(&url).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(FEED_TIMEOUT);
        if let Some(url::Host::Domain(d)) = url.host() {
            builder = builder.resolve_to_addrs(d, &addrs);
        }
        let client = builder
            .build()
            .map_err(|e| FeedError::Failed(e.without_url().to_string()))?;
        let response = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/calendar")
            .send()
            .await
            .map_err(|e| FeedError::Failed(format!("{host}: {}", e.without_url())))?;
        let status = response.status();
        if status.is_redirection() {
            let next = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| {
                    FeedError::Failed(format!("{host} answered {status} without a Location"))
                })?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(FeedError::Failed(format!("{host} answered {status}")));
        }
        let body = read_limited(response, MAX_BOOKINGS_BYTES).await?;
        return String::from_utf8(body)
            .map_err(|_| FeedError::Failed(format!("{host}: the feed is not UTF-8 text")));
    }
    Err(FeedError::Failed(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

/// The addresses `url`'s host resolves to, all public, or why not.
async fn public_addresses(url: &url::Url) -> Result<Vec<SocketAddr>, FeedError> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port))
            .await
            .map_err(|e| FeedError::Failed(format!("{d} does not resolve: {e}")))?
            .collect(),
        None => return Err(FeedError::Refused("the address names no host".into())),
    };
    let host = url.host_str().unwrap_or_default();
    if addrs.is_empty() {
        return Err(FeedError::Failed(format!("{host} does not resolve")));
    }
    if let Some(a) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(FeedError::Refused(format!(
            "{host} is {}, not a public address: a bookings feed is never fetched from \
             loopback, private or link-local addresses",
            a.ip()
        )));
    }
    Ok(addrs)
}

/// The body, refused once it grows past `max` bytes (whatever
/// Content-Length claimed).
async fn read_limited(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, FeedError> {
    let over = |len: usize| FeedError::TooLarge(too_large(len, max, BOOKINGS_CALENDAR));
    if let Some(len) = response.content_length().filter(|l| *l > max as u64) {
        return Err(over(usize::try_from(len).unwrap_or(usize::MAX)));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FeedError::Failed(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > max {
            return Err(over(body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether an address is on the public internet: not loopback, private
/// (RFC 1918), shared (RFC 6598), link-local, unique-local, multicast,
/// documentation, benchmarking or reserved; an IPv6 address that carries
/// an IPv4 one (mapped, NAT64, 6to4) is judged by that one.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0xdb8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.5",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::6810:84e5",
            "::ffff:93.184.215.14",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    async fn refused(address: &str) -> String {
        let feed = FeedUrl::parse(address).unwrap();
        match HttpsFeeds.fetch(&feed).await {
            Err(FeedError::Refused(m)) => m,
            other => panic!("{address}: {other:?}"),
        }
    }

    #[tokio::test]
    async fn loopback_and_private_feeds_are_refused_before_connecting() {
        // Something listens on loopback: the refusal is not a failed connect.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let m = refused(&format!("https://127.0.0.1:{port}/feed.ics")).await;
        assert!(m.contains("127.0.0.1, not a public address"), "{m}");
        let m = refused("https://10.1.2.3/feed.ics").await;
        assert!(m.contains("10.1.2.3, not a public address"), "{m}");
        let m = refused("https://[::1]/feed.ics").await;
        assert!(m.contains("::1, not a public address"), "{m}");
        // A name that resolves to loopback is refused the same way.
        let m = refused(&format!("https://localhost:{port}/feed.ics")).await;
        assert!(m.contains("not a public address"), "{m}");
    }

    /// Serves `body` once over plain http on loopback, with or without a
    /// Content-Length; returns the address.
    async fn serve_once(body: Vec<u8>, with_length: bool) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let head = if with_length {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
            } else {
                "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
            };
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        });
        addr
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_as_it_streams() {
        for with_length in [true, false] {
            let addr = serve_once(vec![b'x'; 3 * 1024 * 1024], with_length).await;
            let response = reqwest::get(format!("http://{addr}/")).await.unwrap();
            let e = read_limited(response, MAX_BOOKINGS_BYTES)
                .await
                .unwrap_err();
            assert!(
                matches!(&e, FeedError::TooLarge(m) if m.contains("more than the 2048 KiB")),
                "{e:?}"
            );
        }
        let addr = serve_once(b"BEGIN:VCALENDAR".to_vec(), false).await;
        let response = reqwest::get(format!("http://{addr}/")).await.unwrap();
        assert_eq!(
            read_limited(response, MAX_BOOKINGS_BYTES).await.unwrap(),
            b"BEGIN:VCALENDAR"
        );
    }
}
