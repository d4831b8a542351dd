//! Programs' bookings feeds, read in the background: each running program's
//! feed once an hour (the app claims each read in the database, so one
//! replica reads it), looked at every `every`.

use crate::app::App;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs until `stop` turns true.
pub async fn keep_reading(app: Arc<App>, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = app.refresh_booking_feeds().await {
            tracing::warn!(error = %e, "bookings feeds not looked at");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
