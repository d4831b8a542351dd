//! Structured logs with `tracing`: human-readable by default, JSON with
//! `MOMENTUM_LOG_FORMAT=json`. Filter with `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// `default` is the level (and any per-target directives) used when
/// `RUST_LOG` is not set; sqlx and hyper stay at `warn` unless it names them.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let mut directives = default.to_string();
        for quiet in ["sqlx", "hyper"] {
            if !default.contains(quiet) {
                directives.push_str(&format!(",{quiet}=warn"));
            }
        }
        EnvFilter::new(directives)
    });
    let json = std::env::var("MOMENTUM_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
