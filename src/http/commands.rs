//! What a person types to Momentum: Slack's `/momentum` slash command, or
//! a message in the 1:1 chat with the app in Teams. Participants:
//! `help`, `status`, `pause [until DATE]`, `resume`, `snooze`, `stop`,
//! `start`, `note TEXT`, `my-data`, `forget-me`. HR admins of a program (its
//! file's `admins`): `programs`, `health PROGRAM`, `digest preview PROGRAM`.
//! Replies are in the person's language and their platform's wording
//! (`templates/<platform>/`); unknown input gets help.

use crate::app::NoteRefusal;
use crate::domain::time::Snooze;
use crate::domain::ChatIdentity;
use crate::http::AppState;
use crate::templates;
use minijinja::{context, Value};

/// What the person typed after `/momentum`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command<'a> {
    Help,
    Status,
    Pause,
    PauseUntil(&'a str),
    Resume,
    Snooze(&'a str),
    Stop,
    Start,
    /// The note's text, as typed (may be empty).
    Note(&'a str),
    MyData,
    ForgetMe {
        confirmed: bool,
    },
    Programs,
    Health(&'a str),
    DigestPreview(&'a str),
}

fn parse(text: &str) -> Command<'_> {
    let text = text.trim();
    let (verb, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(v, r)| (v, r.trim()));
    let words: Vec<&str> = rest.split_whitespace().collect();
    match (verb.to_ascii_lowercase().as_str(), words.as_slice()) {
        ("status", []) => Command::Status,
        ("pause", []) => Command::Pause,
        ("pause", ["until", date]) => Command::PauseUntil(date),
        ("resume", []) => Command::Resume,
        ("snooze", []) => Command::Snooze("tomorrow"),
        ("snooze", [when]) => Command::Snooze(when),
        ("stop", []) => Command::Stop,
        ("start", []) => Command::Start,
        ("note", _) => Command::Note(rest),
        ("my-data", []) => Command::MyData,
        ("forget-me", []) => Command::ForgetMe { confirmed: false },
        ("forget-me", ["confirm"]) => Command::ForgetMe { confirmed: true },
        ("programs", []) => Command::Programs,
        ("health", [key]) => Command::Health(key),
        ("digest", ["preview", key]) => Command::DigestPreview(key),
        _ => Command::Help,
    }
}

/// Whom a reply speaks to: their platform's wording, in their language.
pub(crate) struct Voice<'a> {
    pub platform: &'static str,
    pub locale: &'a str,
}

/// Renders a reply template; a broken template is logged, never shown.
fn render(voice: &Voice, name: &str, ctx: Value) -> String {
    templates::render_text(voice.platform, voice.locale, name, ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a reply template did not render");
        String::new()
    })
}

/// One of the short replies in `command_reply.txt`.
pub(crate) fn reply(voice: &Voice, outcome: &str, ctx: Value) -> String {
    render(voice, "command_reply.txt", context! { outcome, ..ctx })
}

/// The reply to `/momentum TEXT` from `who`, in their language; never
/// silence (an error says to try again).
/// `trigger` (the command's `trigger_id`) lets `note` without text open the
/// note form.
pub(crate) async fn handle_command(
    state: &AppState,
    who: &ChatIdentity,
    text: &str,
    trigger: Option<&str>,
) -> String {
    let locale = state.app.locale_for(who).await;
    let locale = &Voice {
        platform: who.platform.as_str(),
        locale: &locale,
    };
    let command = parse(text);
    if let (Command::Note(""), Some(trigger)) = (&command, trigger) {
        if let Some(reply) = open_note_form(state, who, locale, trigger).await {
            return reply;
        }
    }
    match run(state, who, locale, command).await {
        Ok(reply) => reply,
        Err(e) => {
            tracing::error!(error = %e, "slash command failed");
            reply(locale, "error", context! {})
        }
    }
}

async fn run(
    state: &AppState,
    who: &ChatIdentity,
    locale: &Voice<'_>,
    command: Command<'_>,
) -> crate::app::AppResult<String> {
    let app = &state.app;
    let enrolled = |ok: bool, outcome: &str| -> String {
        reply(
            locale,
            if ok { outcome } else { "not_enrolled" },
            context! {},
        )
    };
    Ok(match command {
        Command::Help => {
            let admin = app.admin_programs(who).await?.is_some();
            render(locale, "help.txt", context! { admin })
        }
        Command::Status => match app.overview(who).await? {
            Some(overview) => render(locale, "status.txt", context! { overview }),
            None => reply(locale, "not_enrolled", context! {}),
        },
        Command::Pause => enrolled(app.pause(who, None).await?, "paused"),
        Command::PauseUntil(date) => match date.parse::<jiff::civil::Date>() {
            Ok(d) => match app.pause(who, Some(d)).await? {
                true => reply(locale, "paused", context! { until => d.to_string() }),
                false => reply(locale, "not_enrolled", context! {}),
            },
            Err(_) => reply(locale, "bad_date", context! { input => date }),
        },
        Command::Resume => enrolled(app.resume(who).await?, "resumed"),
        Command::Stop => enrolled(app.stop(who, true).await?, "stopped"),
        Command::Start => enrolled(app.stop(who, false).await?, "started"),
        Command::Snooze(when) => match Snooze::parse(when) {
            None => reply(locale, "bad_snooze", context! { input => when }),
            Some(snooze) => match app.snooze_latest(who, snooze).await? {
                Some((until, (port, at, message))) => {
                    tokio::spawn(async move {
                        if let Err(e) = port.update(&at, &message).await {
                            tracing::warn!(error = %e, "could not update the snoozed message");
                        }
                    });
                    reply(locale, "snoozed", context! { until })
                }
                None => reply(locale, "nothing_to_snooze", context! {}),
            },
        },
        Command::Note(text) => match app.add_note(who, text, None).await? {
            Ok(()) => reply(locale, "note_saved", context! {}),
            Err(NoteRefusal::Empty) => reply(locale, "note_how", context! {}),
            Err(NoteRefusal::TooLong { max }) => reply(
                locale,
                "note_too_long",
                context! { max, length => text.trim().chars().count() },
            ),
            Err(NoteRefusal::NotEnrolled) => reply(locale, "not_enrolled", context! {}),
        },
        Command::MyData => my_data(state, who, locale).await?,
        Command::ForgetMe { confirmed: false } => match app.is_known(who).await? {
            true => reply(locale, "forget_me_confirm", context! {}),
            false => reply(locale, "nothing_stored", context! {}),
        },
        Command::ForgetMe { confirmed: true } => match app.forget_me(who).await? {
            Some(_) => reply(locale, "forgotten", context! {}),
            None => reply(locale, "nothing_stored", context! {}),
        },
        Command::Programs => match app.admin_programs(who).await? {
            None => reply(locale, "not_admin", context! {}),
            Some((org, programs)) => {
                let mut health = Vec::new();
                for p in &programs {
                    health.push(app.program_health(org, p).await?);
                }
                render(locale, "programs.txt", context! { programs => health })
            }
        },
        Command::Health(key) => match app.admin_program(who, key).await? {
            None => reply(locale, "not_admin_of", context! { input => key }),
            Some((org, program)) => {
                let health = app.program_health(org, &program).await?;
                render(locale, "health.txt", context! { health })
            }
        },
        Command::DigestPreview(key) => match app.admin_program(who, key).await? {
            None => reply(locale, "not_admin_of", context! { input => key }),
            Some((org, program)) => match app.digest(org, key, None).await {
                Ok(digest) => crate::app::digest_text(&program.name, locale.locale, &digest)
                    .unwrap_or_else(|e| {
                        tracing::error!(error = %e, "the digest template did not render");
                        reply(locale, "error", context! {})
                    }),
                // No complete week yet, say: the reason, in words.
                Err(crate::app::AppError::Invalid(errs)) => {
                    reply(locale, "no_digest", context! { why => errs.to_string() })
                }
                Err(e) => return Err(e),
            },
        },
    })
}

/// Opens the note form for an enrolled participant; `None` (then the
/// command's help on notes answers) when that is not possible.
async fn open_note_form(
    state: &AppState,
    who: &ChatIdentity,
    locale: &Voice<'_>,
    trigger: &str,
) -> Option<String> {
    let app = &state.app;
    if !app.is_enrolled(who).await.ok()? {
        return None;
    }
    let port = app.chats.for_identity(who)?;
    let form = crate::chat::View::NoteForm {
        job_id: None,
        locale: locale.locale.to_string(),
    };
    match port.open_form(trigger, &form).await {
        Ok(()) => Some(reply(locale, "note_form_open", context! {})),
        Err(e) => {
            tracing::warn!(error = %e, "could not open the note form");
            None
        }
    }
}

/// Answers at once; the file follows in the person's DM with the app.
async fn my_data(
    state: &AppState,
    who: &ChatIdentity,
    locale: &Voice<'_>,
) -> crate::app::AppResult<String> {
    let Some(data) = state.app.my_data(who).await? else {
        return Ok(reply(locale, "nothing_stored", context! {}));
    };
    let Some(port) = state.app.chats.for_identity(who) else {
        return Ok(reply(locale, "error", context! {}));
    };
    let bytes = serde_json::to_vec_pretty(&data).unwrap_or_default();
    let (to, title) = (who.clone(), reply(locale, "my_data_title", context! {}));
    tokio::spawn(async move {
        if let Err(e) = port
            .send_file(&to, "momentum-my-data.json", &title, bytes)
            .await
        {
            tracing::warn!(error = %e, "could not send a person their data");
        }
    });
    Ok(reply(locale, "my_data_sent", context! {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_anything_else_is_help() {
        assert_eq!(parse(""), Command::Help);
        assert_eq!(parse("  STATUS "), Command::Status);
        assert_eq!(
            parse("pause until 2026-12-31"),
            Command::PauseUntil("2026-12-31")
        );
        assert_eq!(parse("snooze"), Command::Snooze("tomorrow"));
        assert_eq!(
            parse("note  Asked Eva  for feedback "),
            Command::Note("Asked Eva  for feedback")
        );
        assert_eq!(parse("note"), Command::Note(""));
        assert_eq!(parse("forget-me"), Command::ForgetMe { confirmed: false });
        assert_eq!(
            parse("forget-me confirm"),
            Command::ForgetMe { confirmed: true }
        );
        assert_eq!(
            parse("digest preview leaders"),
            Command::DigestPreview("leaders")
        );
        assert_eq!(parse("health"), Command::Help);
        assert_eq!(parse("pause for ever"), Command::Help);
        assert_eq!(parse("delete everything"), Command::Help);
    }
}
