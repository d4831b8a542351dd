//! Every word a user reads comes from `templates/`, one file per message with
//! the platform and locale in the path. Templates are compiled into the
//! binary, so it runs from any directory. Code picks the template and fills in
//! data; it never builds copy by concatenation.

use minijinja::{Environment, Value};
use std::sync::OnceLock;

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../templates/", $path)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = embedded![
    "slack/en/nudge.json",
    "slack/en/checkin.json",
    "slack/en/observations.json",
    "slack/en/help.txt",
    "slack/en/command_reply.txt",
    "slack/en/digest.json",
    "slack/en/assessment.json",
    "slack/en/pulse.json",
    "slack/en/status.txt",
    "slack/en/health.txt",
    "slack/en/programs.txt",
    "slack/en/home.json",
    "slack/en/note_form.json",
    "slack/en/cadence_form.json",
    "slack/en/assessment_form.json",
    "slack/en/onboarding_form.json",
    "slack/en/welcome.json",
    "slack/en/session_check.json",
    "slack/cs/nudge.json",
    "slack/cs/checkin.json",
    "slack/cs/observations.json",
    "slack/cs/help.txt",
    "slack/cs/command_reply.txt",
    "slack/cs/digest.json",
    "slack/cs/assessment.json",
    "slack/cs/pulse.json",
    "slack/cs/status.txt",
    "slack/cs/health.txt",
    "slack/cs/programs.txt",
    "slack/cs/home.json",
    "slack/cs/note_form.json",
    "slack/cs/cadence_form.json",
    "slack/cs/assessment_form.json",
    "slack/cs/onboarding_form.json",
    "slack/cs/welcome.json",
    "slack/cs/session_check.json",
    "teams/en/nudge.json",
    "teams/en/checkin.json",
    "teams/en/observations.json",
    "teams/en/assessment.json",
    "teams/en/pulse.json",
    "teams/en/welcome.json",
    "teams/en/session_check.json",
    "teams/en/digest.json",
    "teams/en/status.json",
    "teams/en/onboarding_form.json",
    "teams/en/note_form.json",
    "teams/en/recorded.json",
    "teams/en/help.txt",
    "teams/cs/nudge.json",
    "teams/cs/checkin.json",
    "teams/cs/observations.json",
    "teams/cs/assessment.json",
    "teams/cs/pulse.json",
    "teams/cs/welcome.json",
    "teams/cs/session_check.json",
    "teams/cs/digest.json",
    "teams/cs/status.json",
    "teams/cs/onboarding_form.json",
    "teams/cs/note_form.json",
    "teams/cs/recorded.json",
    "teams/cs/help.txt",
    "admin/layout.html",
    "admin/programs.html",
    "admin/program.html",
    "admin/message.html",
    "admin/schedule.html",
    "admin/enrol.html",
    "admin/sessions.html",
    "admin/csv_upload.html",
    "admin/edit.html",
    "admin/new.html",
    "admin/playground.html",
    "install/page.html",
    "digest/en/digest.txt",
    "digest/cs/digest.txt",
];

/// Up to three small steps to suggest for a focus theme, in `locale`
/// (`templates/steps/<locale>.json`; a theme without its own gets the
/// general ones).
pub fn step_suggestions(locale: &str, theme: Option<&str>) -> Vec<String> {
    static STEPS: OnceLock<Vec<(&'static str, serde_json::Value)>> = OnceLock::new();
    let all = STEPS.get_or_init(|| {
        [
            ("en", include_str!("../templates/steps/en.json")),
            ("cs", include_str!("../templates/steps/cs.json")),
        ]
        .into_iter()
        .map(|(l, text)| (l, serde_json::from_str(text).unwrap_or_default()))
        .collect()
    });
    let by_locale = all
        .iter()
        .find(|(l, _)| *l == locale)
        .or_else(|| all.first())
        .map(|(_, v)| v);
    let Some(by_theme) = by_locale else {
        return Vec::new();
    };
    let list = theme.and_then(|t| by_theme.get(t)).unwrap_or(&by_theme[""]);
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .take(3)
        .collect()
}

/// With `MOMENTUM_BLOCKS_DIR` set (as `.ci/run` sets it), a Block Kit
/// payload (one the local workspace accepted, or a test rendered) is written there, one file each, for
/// Slack's own SDK to check (`.ci/validate_blocks.py`). Test support: not in
/// the server build.
#[cfg(any(test, feature = "local"))]
pub fn keep_for_validation(kind: &str, payload: &serde_json::Value) {
    keep_in("MOMENTUM_BLOCKS_DIR", kind, payload);
}

/// With `MOMENTUM_CARDS_DIR` set, an Adaptive Card (one the local
/// workspace received, or a test rendered) is written there for `.ci/validate_cards.py` (the 1.5 schema).
#[cfg(any(test, feature = "local"))]
pub fn keep_card_for_validation(card: &serde_json::Value) {
    keep_in("MOMENTUM_CARDS_DIR", "card", card);
}

#[cfg(any(test, feature = "local"))]
fn keep_in(variable: &str, kind: &str, payload: &serde_json::Value) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let Some(dir) = std::env::var_os(variable) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let name = format!(
        "{kind}-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(name), payload.to_string()));
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not keep a payload for validation");
    }
}

/// The words of the "Add to Slack" pages in `lang` (`templates/install/`).
pub fn install_words(lang: &str) -> serde_json::Value {
    let text = match lang {
        "cs" => include_str!("../templates/install/cs.json"),
        _ => include_str!("../templates/install/en.json"),
    };
    serde_json::from_str(text).unwrap_or_else(|e| {
        tracing::error!(lang, error = %e, "the install pages' words do not parse");
        serde_json::Value::Null
    })
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {source}")]
    Render {
        name: String,
        source: minijinja::Error,
    },
    #[error("template {name} did not produce valid JSON: {source}")]
    Json {
        name: String,
        source: serde_json::Error,
    },
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        // Templates escape explicitly (`| tojson`); automatic JSON escaping of
        // `.json` files would quote the punctuation they emit.
        // The console's HTML pages are escaped as HTML.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        for (name, source) in TEMPLATES {
            // Templates are compiled in and covered by tests; a broken one is
            // reported when rendered instead of stopping start-up.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

/// `platform/locale/name`, falling back to English when the locale has
/// none, and for Teams to Slack's text where the wording is the same
/// (command replies): `teams/cs/x`, `teams/en/x`, `slack/cs/x`, `slack/en/x`.
fn resolve(platform: &str, locale: &str, name: &str) -> String {
    let exists = |n: &str| TEMPLATES.iter().any(|(t, _)| *t == n);
    let mut candidates = vec![
        format!("{platform}/{locale}/{name}"),
        format!("{platform}/en/{name}"),
    ];
    if platform == "teams" && name.ends_with(".txt") {
        candidates.push(format!("slack/{locale}/{name}"));
    }
    candidates
        .into_iter()
        .find(|c| exists(c))
        .unwrap_or_else(|| format!("slack/en/{name}"))
}

/// An HTML page of the console (`admin/…`), escaped.
pub fn render_page(name: &str, ctx: Value) -> Result<String, TemplateError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|source| TemplateError::Render {
            name: name.to_string(),
            source,
        })
}

pub fn render_text(
    platform: &str,
    locale: &str,
    name: &str,
    ctx: Value,
) -> Result<String, TemplateError> {
    let name = resolve(platform, locale, name);
    env()
        .get_template(&name)
        .and_then(|t| t.render(ctx))
        .map(|s| s.trim().to_string())
        .map_err(|source| TemplateError::Render { name, source })
}

pub fn render_json(
    platform: &str,
    locale: &str,
    name: &str,
    ctx: Value,
) -> Result<serde_json::Value, TemplateError> {
    let text = render_text(platform, locale, name, ctx)?;
    let name = resolve(platform, locale, name);
    serde_json::from_str(&text).map_err(|source| TemplateError::Json { name, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_theme_has_three_short_suggestions_in_both_languages() {
        for locale in ["en", "cs"] {
            for theme in [Some("feedback"), Some("delegation"), Some("unknown"), None] {
                let s = step_suggestions(locale, theme);
                assert_eq!(s.len(), 3, "{locale} {theme:?}");
                // A Slack button's text holds at most 75 characters.
                assert!(s.iter().all(|x| x.chars().count() <= 75), "{s:?}");
            }
        }
        assert_ne!(
            step_suggestions("cs", Some("feedback")),
            step_suggestions("en", Some("feedback"))
        );
    }
    use minijinja::context;

    #[test]
    fn every_nudge_template_renders_json_in_every_locale() {
        for locale in ["en", "cs"] {
            let cases = [
                ("small_step", "ask", None),
                ("small_step", "named", Some("Ask Eva for \"feedback\"")),
                ("small_step", "declined", None),
                ("one_tap_check", "none", None),
                ("one_tap_check", "named", Some("Ask Eva for \"feedback\"")),
            ];
            for (purpose, step_state, step) in cases {
                for recorded in [None, Some("done"), Some("partly"), Some("not_yet")] {
                    let suggestions = if step_state == "ask" {
                        step_suggestions(locale, Some("feedback"))
                    } else {
                        Vec::new()
                    };
                    let v = render_json("slack", locale, "nudge.json", context! {
                        purpose, program => "Leaders \"2026\"", session => 2, job_id => 42, recorded,
                        step_state, step, suggestions, step_max => crate::domain::STEP_MAX_CHARS,
                    })
                    .unwrap();
                    keep_for_validation("message", &v);
                    assert!(v["text"].as_str().unwrap().contains("2"));
                    let blocks = v["blocks"].as_array().unwrap();
                    assert_eq!(blocks.last().unwrap()["elements"][0]["value"], "42");
                    let text = v.to_string();
                    if purpose == "small_step" {
                        // The step is asked for; no report buttons on it.
                        assert!(!text.contains("report:"), "{text}");
                        assert!(blocks
                            .iter()
                            .any(|b| b["type"] == "input" && b["block_id"] == "step:42"));
                        assert_eq!(text.contains("step:pick:2"), step_state == "ask");
                    } else {
                        assert!(text.contains("report:done"));
                        assert_eq!(text.contains("Ask Eva"), step.is_some());
                    }
                }
            }
            for theme in [None, Some("delegation")] {
                let rows = vec![context! {
                    participant => "Jana", program => "P", theme, job_id => 7, recorded => "will"
                }];
                let v = render_json("slack", locale, "checkin.json", context! { rows }).unwrap();
                keep_for_validation("message", &v);
                let body = v["blocks"][0]["text"]["text"].as_str().unwrap();
                assert_eq!(body.contains("delegation"), theme.is_some());
            }
        }
    }

    #[test]
    fn unknown_locale_falls_back_to_english() {
        let t = render_text("slack", "de", "help.txt", context! {}).unwrap();
        assert!(t.contains("/momentum pause"));
    }
}

#[cfg(test)]
mod compile_check {
    #[test]
    fn every_template_compiles() {
        let mut env = minijinja::Environment::new();
        env.set_trim_blocks(true);
        for (name, source) in super::TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                panic!("{name}: {e:#}");
            }
        }
    }
}
