//! Out of office, read from what a person tells their colleagues in chat: a
//! Slack status such as ":palm_tree: Vacationing" or "Out of office until
//! Monday". Nothing is sent to someone who is away; their jobs are skipped
//! with that reason, as a colleague would not knock on their door either.

use jiff::Timestamp;

/// Emoji Slack offers for being away (its own "Vacationing" and "Out sick"
/// presets among them).
const AWAY_EMOJI: [&str; 6] = [
    ":palm_tree:",
    ":face_with_thermometer:",
    ":airplane:",
    ":desert_island:",
    ":beach_with_umbrella:",
    ":house_with_garden:",
];

/// Words in a status text that mean away, in the languages templates exist for.
const AWAY_WORDS: [&str; 12] = [
    "out of office",
    "out of the office",
    "ooo",
    "vacation",
    "holiday",
    "on leave",
    "parental leave",
    "out sick",
    "dovolená",
    "dovolene",
    "mimo kancelář",
    "nemoc",
];

/// Until when a chat status says the person is away: the status's expiry,
/// or `Timestamp::MAX` when it has none (away until they change it). `None`
/// when the status does not say away, or has already expired.
pub fn away_until(
    status_text: &str,
    status_emoji: &str,
    expires: Option<Timestamp>,
    now: Timestamp,
) -> Option<Timestamp> {
    let text = status_text.to_lowercase();
    let says_away =
        AWAY_EMOJI.contains(&status_emoji) || AWAY_WORDS.iter().any(|w| contains_word(&text, w));
    if !says_away {
        return None;
    }
    match expires {
        Some(t) if t <= now => None,
        Some(t) => Some(t),
        None => Some(Timestamp::MAX),
    }
}

/// `word` in `text` on word boundaries ("ooo" but not "cooool").
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-09-08T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn slack_presets_and_words_mean_away() {
        let later: Timestamp = "2026-09-14T00:00:00Z".parse().unwrap();
        assert_eq!(
            away_until("Vacationing", ":palm_tree:", Some(later), now()),
            Some(later)
        );
        assert_eq!(
            away_until("OOO until Monday", "", None, now()),
            Some(Timestamp::MAX)
        );
        assert!(away_until("Dovolená", ":sunny:", None, now()).is_some());
        assert!(away_until("Out sick", ":face_with_thermometer:", None, now()).is_some());
    }

    #[test]
    fn other_statuses_and_expired_ones_do_not() {
        assert_eq!(
            away_until("In a meeting", ":spiral_calendar_pad:", None, now()),
            None
        );
        assert_eq!(away_until("cooool project", "", None, now()), None);
        assert_eq!(away_until("", "", None, now()), None);
        let earlier: Timestamp = "2026-09-07T00:00:00Z".parse().unwrap();
        assert_eq!(
            away_until("Vacationing", ":palm_tree:", Some(earlier), now()),
            None
        );
    }
}
