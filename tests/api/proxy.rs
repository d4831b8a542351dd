//! Outbound through a corporate proxy: the Slack client tunnels through
//! HTTP CONNECT where the proxy settings say so, and goes direct where
//! NO_PROXY says so.

use crate::helpers::*;
use hyper_util::client::proxy::matcher::Matcher;
use momentum::chat::proxy::ProxyConnector;
use momentum::chat::slack::{http_client_via, SlackChat};
use momentum::chat::ChatPort;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A minimal HTTP CONNECT proxy; counts the tunnels it opened (and to where).
async fn connect_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let counted = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split_whitespace().next())
                else {
                    let _ = client
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                        .await;
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (format!("http://{addr}"), tunnels)
}

#[tokio::test]
async fn the_slack_client_tunnels_through_the_proxy_unless_no_proxy_names_the_host() {
    let t = spawn_app().await;
    let api = format!("{}/api", t.sim.base_url());
    let (proxy, tunnels) = connect_proxy().await;

    let via_proxy = ProxyConnector::with(Matcher::builder().http(proxy.clone()).build());
    let client = http_client_via(&api, via_proxy).unwrap();
    let slack = SlackChat::connect_with(client, &t.sim.config.bot_token, fast_slack())
        .await
        .unwrap();
    assert_eq!(slack.workspace(), "T0SIMTEAM1");
    assert!(
        tunnels.load(Ordering::SeqCst) >= 1,
        "auth.test went through the proxy"
    );

    let before = tunnels.load(Ordering::SeqCst);
    let direct = ProxyConnector::with(Matcher::builder().http(proxy).no("127.0.0.1").build());
    let client = http_client_via(&api, direct).unwrap();
    SlackChat::connect_with(client, &t.sim.config.bot_token, fast_slack())
        .await
        .unwrap();
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        before,
        "NO_PROXY went direct"
    );
}
