//! Keys at rest: each organisation's keys are bound to it (one moved to
//! another organisation's row opens nothing), the data can be re-keyed in
//! batches and resumed after a crash, and the hash key that keeps erased
//! people out survives re-keying. Keys made before binding are bound on
//! first use, their hashes still matching.

use crate::helpers::*;
use momentum::app::keys::RekeyOptions;
use momentum::app::{SlackGrant, StartingPoint};
use momentum::clock::Clock;
use momentum::crypto::{KeyPurpose, SecretKey};
use momentum::domain::ChatIdentity;

const JANA: &str = "jana.novakova@acme.example";

fn jana(t: &TestApp) -> ChatIdentity {
    ChatIdentity::slack("T0SIMTEAM1", &t.user_id("jana.novakova"))
}

async fn participant_id(t: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT participants.id FROM participants JOIN people ON people.id = participants.person_id \
         WHERE people.email = $1",
    )
    .bind(email)
    .fetch_one(t.store.pool())
    .await
    .unwrap()
}

/// Notes, a starting point and an installed workspace's token for Acme.
async fn sealed_values(t: &TestApp) {
    assert_eq!(t.apply_yaml(&t.admin_token, &PROGRAM).await.status(), 200);
    let who = jana(t);
    for i in 0..5 {
        assert!(t
            .app
            .add_note(&who, &format!("note {i}"), None)
            .await
            .unwrap()
            .is_ok());
    }
    let p = participant_id(t, JANA).await;
    let start = StartingPoint {
        goal: "Delegate the budget".into(),
        context: "New team".into(),
        blocker: "Time".into(),
        focus: "delegation".into(),
        share_focus: false,
    };
    assert!(t
        .app
        .record_starting_point(&who, momentum::domain::ParticipantId(p), &start)
        .await
        .unwrap()
        .is_ok());
    t.store
        .link_workspace(
            t.org.id,
            momentum::domain::Platform::Slack,
            "T0SIMTEAM3",
            t.clock.now(),
        )
        .await
        .unwrap();
    t.app
        .install_slack(&SlackGrant {
            workspace: "T0SIMTEAM3".into(),
            team_name: Some("Third".into()),
            enterprise_id: None,
            bot_user_id: Some("UBOT3".into()),
            scopes: "chat:write".into(),
            token: "xoxb-third-token".into(),
        })
        .await
        .unwrap();
}

async fn notes(t: &TestApp) -> Vec<String> {
    let mut n: Vec<String> = t
        .app
        .my_notes(&jana(t))
        .await
        .unwrap()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn a_wrapped_key_moved_into_another_organisations_row_opens_nothing() {
    let t = spawn_app().await;
    sealed_values(&t).await;
    let other = t.app.create_org("Other", "UTC", "en").await.unwrap();
    // Someone with write access to the database puts Other's keys in Acme's row.
    let (data, hash): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT data_key, hash_key FROM orgs WHERE id = $1")
            .bind(other.id.0)
            .fetch_one(t.store.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE orgs SET data_key = $1, hash_key = $2 WHERE id = $3")
        .bind(data)
        .bind(hash)
        .bind(t.org.id.0)
        .execute(t.store.pool())
        .await
        .unwrap();
    let err = t.app.my_notes(&jana(&t)).await.unwrap_err();
    assert!(err.to_string().contains("encryption key"), "{err}");
}

#[tokio::test]
async fn the_data_is_rekeyed_in_batches_resumed_after_a_crash_and_erased_people_stay_out() {
    let t = spawn_app().await;
    sealed_values(&t).await;
    // Tomáš asks to be forgotten: a keyed hash keeps him out of later files.
    let tomas = ChatIdentity::slack("T0SIMTEAM1", &t.user_id("tomas.dvorak"));
    t.app
        .forget_me(&tomas)
        .await
        .unwrap()
        .expect("Tomáš was enrolled");
    let before = notes(&t).await;
    assert_eq!(before.len(), 5);
    let org = t.store.org(t.org.id).await.unwrap();
    let old_key = t
        .app
        .secret_key
        .unwrap_org_key(&org.wrapped_data_key, KeyPurpose::Data, org.id.0)
        .unwrap();
    let note_blob = || async {
        sqlx::query_scalar::<_, Vec<u8>>("SELECT sealed FROM notes ORDER BY id LIMIT 1")
            .fetch_one(t.store.pool())
            .await
            .unwrap()
    };
    let first_note = note_blob().await;

    // Two batches of two, then the process dies.
    let options = |max| RekeyOptions {
        batch: 2,
        settle: std::time::Duration::ZERO,
        max_batches: max,
        progress: None,
    };
    let partial = t.app.rekey_data(&options(Some(2))).await.unwrap();
    assert!(!partial.finished);
    assert_eq!(partial.resealed, 4);
    // Meanwhile everything still opens, and a note written now is sealed
    // under the new key.
    assert_eq!(notes(&t).await, before);
    assert!(t
        .app
        .add_note(&jana(&t), "during", None)
        .await
        .unwrap()
        .is_ok());

    // Run again: it goes on, leaves what is done, and finishes.
    let rest = t.app.rekey_data(&options(None)).await.unwrap();
    assert!(rest.finished);
    assert_eq!(
        rest.resealed,
        1 + 1 + 1,
        "the last note, the starting point, the token"
    );
    let org = t.store.org(t.org.id).await.unwrap();
    assert!(org.wrapped_next_data_key.is_none());
    let new_key = t
        .app
        .secret_key
        .unwrap_org_key(&org.wrapped_data_key, KeyPurpose::Data, org.id.0)
        .unwrap();
    assert!(!new_key.same_as(&old_key), "a new data key");
    let mut expected = before.clone();
    expected.push("during".into());
    expected.sort();
    assert_eq!(notes(&t).await, expected);
    // The old data key (from an old backup) opens none of today's values.
    let rekeyed = note_blob().await;
    assert_ne!(rekeyed, first_note);
    let context = format!("notes:{}:", t.org.id.0);
    let person: i64 = sqlx::query_scalar("SELECT person_id FROM notes ORDER BY id LIMIT 1")
        .fetch_one(t.store.pool())
        .await
        .unwrap();
    let context = format!("{context}{person}");
    assert!(
        old_key.open(&first_note, &context).is_ok(),
        "the test reads the right context"
    );
    assert!(old_key.open(&rekeyed, &context).is_err());
    assert!(new_key.open(&rekeyed, &context).is_ok());
    // The starting point and the token open too.
    let data = t.app.my_data(&jana(&t)).await.unwrap().unwrap().to_string();
    assert!(data.contains("Delegate the budget"), "{data}");
    let tokens = t.app.slack_installation_tokens().await.unwrap();
    assert_eq!(
        tokens,
        vec![("T0SIMTEAM3".to_string(), "xoxb-third-token".to_string())]
    );
    // Tomáš stays out: the hash key did not change.
    let applied: serde_json::Value = t
        .apply_yaml(&t.admin_token, &PROGRAM)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(applied["erased_skipped"], 1, "{applied}");
    // Nothing left to do: a third run changes nothing but the key.
    let again = t.app.rekey_data(&options(None)).await.unwrap();
    assert!(again.finished);
    assert_eq!(notes(&t).await, expected);
}

#[tokio::test]
async fn keys_made_before_binding_are_bound_on_first_use_and_erasures_still_match() {
    let t = spawn_app().await;
    let master = t.app.secret_key.clone();
    // An organisation as this version found it: one data key, wrapped
    // without its id, which also made the keyed hashes of erased people.
    let legacy = SecretKey::generate();
    let org = t
        .store
        .create_org(
            "Legacy",
            "UTC",
            "en",
            |_| momentum::store::orgs::WrappedKeys {
                data: master.wrap_unbound_data_key(&legacy),
                hash: Vec::new(),
                next_data: None,
            },
            t.clock.now(),
        )
        .await
        .unwrap();
    sqlx::query("UPDATE orgs SET hash_key = NULL WHERE id = $1")
        .bind(org.id.0)
        .execute(t.store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO erasures (org_id, identity_hash, erased_at) VALUES ($1, $2, 0)")
        .bind(org.id.0)
        .bind(legacy.keyed_hash("email:gone@legacy.example"))
        .execute(t.store.pool())
        .await
        .unwrap();
    let token = t
        .app
        .create_token(org.id, "hr", momentum::app::Scope::Admin)
        .await
        .unwrap();
    let file = "version: 1\nprogram:\n  key: legacy\n  name: Legacy\n  time_zone: UTC\n  welcome: false\n  \
                sessions: [{ number: 1, planned: 2026-09-07 }]\n\
                participants:\n  - { email: gone@legacy.example }\n  - { email: here@legacy.example }\n";
    let applied: serde_json::Value = t.apply_yaml(&token, file).await.json().await.unwrap();
    assert_eq!(applied["erased_skipped"], 1, "{applied}");
    // Its keys are bound now: the hash key is the old data key.
    let bound = t.store.org(org.id).await.unwrap();
    let hash = master
        .unwrap_org_key(
            bound.wrapped_hash_key.as_ref().unwrap(),
            KeyPurpose::Hash,
            org.id.0,
        )
        .unwrap();
    assert!(hash.same_as(&legacy));
    assert!(master
        .unwrap_unbound_data_key(&bound.wrapped_data_key)
        .is_err());
}
