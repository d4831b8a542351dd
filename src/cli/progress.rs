//! Progress of long work on the command line: a bar with counts and an
//! estimate on a terminal, plain lines (at most one every few seconds, and
//! the last one) when the output is a file or a pipe.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    what: String,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    last: (u64, u64),
}

/// "about 4 min left", "about 40 s left", or nothing.
pub fn estimate(minutes: Option<f64>) -> String {
    match minutes {
        Some(m) if m >= 1.5 => format!("about {} min left", m.round()),
        Some(m) if m > 0.0 => format!("about {} s left", (m * 60.0).ceil().max(1.0)),
        _ => String::new(),
    }
}

impl Progress {
    /// `what`: the work, as in "resolving" (then "resolving 3,812 of 10,000").
    pub fn new(what: &str, total: u64) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self {
            what: what.to_string(),
            bar,
            last_line: None,
            last: (u64::MAX, total),
        }
    }

    /// `done` of `total`, with an estimate in minutes where there is one.
    pub fn set(&mut self, done: u64, total: u64, minutes_left: Option<f64>) {
        let left = estimate(minutes_left);
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(left);
            }
            None => {
                let due = self
                    .last_line
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
                if (done, total) != self.last && (due || done >= total) {
                    let left = if left.is_empty() {
                        String::new()
                    } else {
                        format!(" ({left})")
                    };
                    println!(
                        "{} {} of {}{left}",
                        self.what,
                        thousands(done),
                        thousands(total)
                    );
                    self.last_line = Some(Instant::now());
                    self.last = (done, total);
                }
            }
        }
    }

    /// A count with no known end (`what`: "re-keying"), shown as a
    /// spinner on a terminal.
    pub fn counter(what: &str) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            let style = ProgressStyle::with_template("{prefix} {spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self {
            what: what.to_string(),
            bar,
            last_line: None,
            last: (u64::MAX, 0),
        }
    }

    /// What a counter has done so far, in words.
    pub fn note(&mut self, done: u64, words: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(words.to_string()),
            None => {
                let due = self
                    .last_line
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
                if due && done != self.last.0 {
                    println!("{}: {words}", self.what);
                    self.last_line = Some(Instant::now());
                    self.last.0 = done;
                }
            }
        }
    }

    /// Takes the display away (a terminal's spinner), saying nothing.
    pub fn clear(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }

    pub fn finish(self, line: &str) {
        match self.bar {
            Some(bar) => bar.finish_with_message(line.to_string()),
            None => println!("{line}"),
        }
    }
}

/// 10000 → "10,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(3_812), "3,812");
        assert_eq!(thousands(10_000_000), "10,000,000");
    }

    #[test]
    fn estimates_read_plainly() {
        assert_eq!(estimate(Some(4.2)), "about 4 min left");
        assert_eq!(estimate(Some(0.5)), "about 30 s left");
        assert_eq!(estimate(None), "");
        assert_eq!(estimate(Some(0.0)), "");
    }
}
