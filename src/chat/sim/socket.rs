//! Socket Mode in the simulator: `apps.connections.open` (app-level token
//! only) hands out a WebSocket URL; the socket greets with `hello`, carries
//! envelopes (`events_api`, `interactive`, `slash_commands`) and expects an
//! acknowledgement with the same `envelope_id`, optionally with a response
//! payload. An envelope not acknowledged when its connection drops is sent
//! again on the next connection (`retry_attempt` counts up). `disconnect`
//! asks the client to reconnect, as Slack does before it closes a socket.

use super::outbound::InboundReply;
use super::{SimWorkspace, APP_ID};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as Frame;

/// How long the simulator waits for an acknowledgement.
const ACK_WAIT: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(crate) struct SocketState {
    /// Switched on: payloads go over the socket instead of HTTP.
    pub on: bool,
    pub url: Option<String>,
    next_id: u64,
    connections: Vec<(u64, mpsc::UnboundedSender<Frame>)>,
    /// Envelopes awaiting their acknowledgement: the envelope, which
    /// connection carries it (none while no client is connected), and who
    /// waits for the answer.
    pending: HashMap<String, Pending>,
    /// How many envelopes were sent again after a dropped connection.
    pub redelivered: usize,
    /// Envelopes sent so far, and after which one to drop the sockets.
    sent: usize,
    disconnect_after: Option<usize>,
}

struct Pending {
    envelope: Value,
    on: Option<u64>,
    answer: Option<oneshot::Sender<Value>>,
}

impl SimWorkspace {
    /// Payloads go over Socket Mode from now on (the service must be
    /// connected with the app-level token).
    pub fn use_socket_mode(&self, on: bool) {
        self.state().socket.on = on;
    }

    pub fn socket_connections(&self) -> usize {
        self.state().socket.connections.len()
    }

    pub fn socket_redeliveries(&self) -> usize {
        self.state().socket.redelivered
    }

    pub(crate) fn socket_mode_on(&self) -> bool {
        self.state().socket.on
    }

    /// `apps.connections.open`: a WebSocket URL, for an app-level token.
    pub(crate) fn connections_open(&self, token: Option<&str>) -> Value {
        match token {
            None => json!({ "ok": false, "error": "not_authed" }),
            Some(t) if t == self.config.app_token => {
                let url = self.state().socket.url.clone();
                match url {
                    Some(url) => {
                        json!({ "ok": true, "url": format!("{url}?ticket={}", self.next_ts()) })
                    }
                    None => json!({ "ok": false, "error": "internal_error" }),
                }
            }
            Some(t) if t.starts_with("xoxb-") => {
                json!({ "ok": false, "error": "not_allowed_token_type" })
            }
            Some(_) => json!({ "ok": false, "error": "invalid_auth" }),
        }
    }

    /// Serves the WebSocket side on `addr` (next to the Web API).
    pub(crate) async fn serve_socket(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        self.state().socket.url = Some(format!("ws://{bound}/link"));
        let sim = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sim = sim.clone();
                tokio::spawn(async move {
                    match tokio_tungstenite::accept_async(stream).await {
                        Ok(ws) => sim.run_connection(ws).await,
                        Err(e) => tracing::debug!(error = %e, "a socket handshake failed"),
                    }
                });
            }
        });
        Ok(bound)
    }

    async fn run_connection(&self, ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) {
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Frame>();
        let id = {
            let mut s = self.state();
            s.socket.next_id += 1;
            let id = s.socket.next_id;
            s.socket.connections.push((id, tx.clone()));
            id
        };
        let hello = json!({
            "type": "hello",
            "num_connections": self.socket_connections(),
            "debug_info": { "host": "momentum-sim", "approximate_connection_time": 18060 },
            "connection_info": { "app_id": APP_ID },
        });
        let _ = tx.send(Frame::text(hello.to_string()));
        // Envelopes still waiting (no client, or a dropped connection) go out here.
        self.resend_pending(id, &tx);
        let writer = tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                let close = matches!(frame, Frame::Close(_));
                if sink.send(frame).await.is_err() || close {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        while let Some(Ok(frame)) = stream.next().await {
            match frame {
                Frame::Text(text) => self.acknowledged(&text),
                Frame::Ping(p) => {
                    let _ = tx.send(Frame::Pong(p));
                }
                Frame::Close(_) => break,
                _ => {}
            }
        }
        writer.abort();
        let mut s = self.state();
        s.socket.connections.retain(|(c, _)| *c != id);
        // What this connection carried and did not acknowledge waits for the next.
        for p in s.socket.pending.values_mut().filter(|p| p.on == Some(id)) {
            p.on = None;
        }
    }

    fn resend_pending(&self, connection: u64, tx: &mpsc::UnboundedSender<Frame>) {
        let mut s = self.state();
        let mut resent = 0;
        for p in s.socket.pending.values_mut().filter(|p| p.on.is_none()) {
            if let Some(n) = p.envelope["retry_attempt"].as_u64() {
                p.envelope["retry_attempt"] = json!(n + 1);
                p.envelope["retry_reason"] = json!("timeout");
            }
            p.on = Some(connection);
            let _ = tx.send(Frame::text(p.envelope.to_string()));
            resent += 1;
        }
        s.socket.redelivered += resent;
    }

    fn acknowledged(&self, text: &str) {
        let Ok(ack) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let Some(id) = ack["envelope_id"].as_str() else {
            return;
        };
        let pending = self.state().socket.pending.remove(id);
        if let Some(Pending {
            answer: Some(answer),
            ..
        }) = pending
        {
            let _ = answer.send(ack.get("payload").cloned().unwrap_or(Value::Null));
        }
    }

    /// Slack's warning before it closes the sockets: the client should
    /// reconnect. The sockets close right after it.
    pub fn force_disconnect(&self) {
        disconnect_all(&self.state().socket);
    }

    /// Drops every socket right after the `n`-th envelope from now is sent,
    /// before the client can acknowledge it: a disconnect mid-burst.
    pub fn disconnect_after_envelopes(&self, n: usize) {
        let mut s = self.state();
        s.socket.disconnect_after = Some(s.socket.sent + n);
    }

    /// Sends a payload over the socket and waits for its acknowledgement;
    /// the reply's body is the acknowledgement's payload, as JSON (empty
    /// when there was none), like an HTTP answer's body.
    pub(crate) async fn deliver_socket(
        &self,
        kind: &str,
        payload: Value,
    ) -> Result<InboundReply, String> {
        let envelope_id = format!("sim-env-{}", self.next_ts().replace('.', ""));
        let envelope = json!({
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        });
        let (answer, waiting) = oneshot::channel();
        {
            let mut s = self.state();
            let target = s
                .socket
                .connections
                .iter()
                .rev()
                .find(|(_, tx)| !tx.is_closed())
                .map(|(id, tx)| (*id, tx.clone()));
            if let Some((_, tx)) = &target {
                let _ = tx.send(Frame::text(envelope.to_string()));
            }
            s.socket.sent += 1;
            if s.socket.disconnect_after == Some(s.socket.sent) {
                s.socket.disconnect_after = None;
                disconnect_all(&s.socket);
            }
            s.socket.pending.insert(
                envelope_id.clone(),
                Pending {
                    envelope,
                    on: target.map(|(id, _)| id),
                    answer: Some(answer),
                },
            );
        }
        match tokio::time::timeout(ACK_WAIT, waiting).await {
            Ok(Ok(payload)) => Ok(InboundReply {
                status: 200,
                body: if payload.is_null() {
                    String::new()
                } else {
                    payload.to_string()
                },
            }),
            _ => {
                self.state().socket.pending.remove(&envelope_id);
                Err(format!("envelope {envelope_id} was not acknowledged"))
            }
        }
    }
}

fn disconnect_all(socket: &SocketState) {
    let warning = json!({
        "type": "disconnect",
        "reason": "refresh_requested",
        "debug_info": { "host": "momentum-sim" },
    })
    .to_string();
    for (_, tx) in &socket.connections {
        let _ = tx.send(Frame::text(warning.clone()));
        let _ = tx.send(Frame::Close(None));
    }
}

/// A form body (`a=1&b=2`) as a JSON object of strings.
pub(crate) fn form_to_json(body: &str) -> Value {
    let map: Map<String, Value> = url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Value::Object(map)
}
