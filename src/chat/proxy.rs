//! Outbound through a corporate proxy: `HTTPS_PROXY` / `HTTP_PROXY` /
//! `NO_PROXY` (and their lower-case forms) for the Slack client, which runs
//! on hyper and would otherwise connect directly. A destination the
//! variables send to a proxy is reached through an HTTP CONNECT tunnel (with
//! the proxy's credentials when its URL has them); TLS then runs inside the
//! tunnel, end to end. reqwest (Teams, Graph, token endpoints) reads the same
//! variables itself.

use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connector that tunnels through a proxy where the matcher says so.
#[derive(Clone)]
pub struct ProxyConnector {
    http: HttpConnector,
    proxies: Arc<Matcher>,
}

impl ProxyConnector {
    /// Proxies from the environment.
    pub fn from_env() -> Self {
        Self::with(Matcher::from_env())
    }

    pub fn with(proxies: Matcher) -> Self {
        let mut http = HttpConnector::new();
        // The TLS layer above decides the scheme.
        http.enforce_http(false);
        http.set_nodelay(true);
        Self {
            http,
            proxies: Arc::new(proxies),
        }
    }
}

impl Service<axum::http::Uri> for ProxyConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: axum::http::Uri) -> Self::Future {
        match self.proxies.intercept(&dst) {
            Some(proxy) => {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), self.http.clone());
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                Box::pin(async move { tunnel.call(dst).await.map_err(Into::into) })
            }
            None => {
                let mut http = self.http.clone();
                Box::pin(async move { http.call(dst).await.map_err(Into::into) })
            }
        }
    }
}
