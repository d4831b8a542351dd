//! An organisation's keys, unwrapped with the master key for each use. Keys
//! are wrapped bound to their organisation's id; an organisation made before
//! binding has its keys bound on first use (its hash key then is the data
//! key it hashed with so far, so erased people still match). Re-keying moves
//! every sealed value to a fresh data key, in batches, resumably.

use super::*;
use crate::crypto::{CryptoError, KeyPurpose};
use crate::store::orgs::WrappedKeys;
use crate::store::sealed::{RowKey, SealedColumn};

/// The keys of one organisation, opened.
pub struct OrgKeys {
    data: SecretKey,
    /// While re-keying: the new data key. New values are sealed under it,
    /// and values open under either.
    next: Option<SecretKey>,
    hash: SecretKey,
}

impl OrgKeys {
    pub fn seal(&self, plain: &[u8], context: &str) -> Vec<u8> {
        self.next
            .as_ref()
            .unwrap_or(&self.data)
            .seal(plain, context)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> AppResult<Vec<u8>> {
        let opened = self
            .data
            .open(sealed, context)
            .or_else(|e| match &self.next {
                Some(next) => next.open(sealed, context),
                None => Err(e),
            });
        opened.map_err(|e| AppError::Key(e.to_string()))
    }

    /// A keyed hash (erasures): under the hash key, which re-keying keeps.
    pub fn hash(&self, value: &str) -> String {
        self.hash.keyed_hash(value)
    }
}

/// What a sealed value is bound to, by column: a blob moved to another row,
/// person or organisation does not open.
pub(super) fn sealed_context(column: SealedColumn, org: OrgId, bound_to: &str) -> String {
    match column {
        SealedColumn::Notes => format!("notes:{}:{bound_to}", org.0),
        SealedColumn::StartingPoints => format!("diagnoses:{}:{bound_to}", org.0),
        SealedColumn::SlackTokens => format!("slack_installations.token:{bound_to}"),
        SealedColumn::Steps => format!("steps:{}:{bound_to}", org.0),
    }
}

/// How a re-key goes.
#[derive(Debug, Clone)]
pub struct RekeyOptions {
    /// Sealed values read and rewritten per transaction.
    pub batch: i64,
    /// Wait this long after the new key is stored before rewriting: a
    /// request that read the old key just before finishes its write first.
    pub settle: std::time::Duration,
    /// Stop after this many batches (a test's crash); `None`: to the end.
    pub max_batches: Option<usize>,
    /// Told how far the re-key has come after every batch.
    pub progress: Option<RekeyProgress>,
}

/// A re-key's progress callback (the command line's progress display).
#[derive(Clone)]
pub struct RekeyProgress(pub std::sync::Arc<dyn Fn(&RekeyReport) + Send + Sync>);

impl std::fmt::Debug for RekeyProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RekeyProgress")
    }
}

/// What a re-key did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RekeyReport {
    pub organisations: usize,
    pub resealed: u64,
    /// False when stopped by `max_batches` before the end.
    pub finished: bool,
}

impl App {
    /// An organisation's keys, opened (bound first, when made before binding).
    pub(super) async fn keys(&self, org: OrgId) -> AppResult<OrgKeys> {
        let o = self.store.org(org).await?;
        self.keys_of(&o).await
    }

    pub(super) async fn keys_of(&self, org: &Org) -> AppResult<OrgKeys> {
        let master = &self.secret_key;
        let id = org.id.0;
        let key_error = |e: CryptoError| AppError::Key(e.to_string());
        let Some(wrapped_hash) = &org.wrapped_hash_key else {
            let data = master
                .unwrap_unbound_data_key(&org.wrapped_data_key)
                .map_err(key_error)?;
            let keys = WrappedKeys {
                data: master.wrap_org_key(&data, KeyPurpose::Data, id),
                hash: master.wrap_org_key(&data, KeyPurpose::Hash, id),
                next_data: None,
            };
            if !self.store.bind_org_keys(org.id, &keys).await? {
                // Another replica bound them just now: read its.
                let bound = self.store.org(org.id).await?;
                if bound.wrapped_hash_key.is_some() {
                    return Box::pin(self.keys_of(&bound)).await;
                }
            }
            tracing::info!(org = id, "organisation keys bound to the organisation");
            return Ok(OrgKeys {
                hash: data.clone(),
                data,
                next: None,
            });
        };
        Ok(OrgKeys {
            data: master
                .unwrap_org_key(&org.wrapped_data_key, KeyPurpose::Data, id)
                .map_err(key_error)?,
            next: org
                .wrapped_next_data_key
                .as_ref()
                .map(|w| master.unwrap_org_key(w, KeyPurpose::Data, id))
                .transpose()
                .map_err(key_error)?,
            hash: master
                .unwrap_org_key(wrapped_hash, KeyPurpose::Hash, id)
                .map_err(key_error)?,
        })
    }

    /// Fresh keys for a new organisation, wrapped bound to its id.
    pub(super) fn new_org_keys(&self, org: OrgId) -> WrappedKeys {
        WrappedKeys {
            data: self
                .secret_key
                .wrap_org_key(&SecretKey::generate(), KeyPurpose::Data, org.0),
            hash: self
                .secret_key
                .wrap_org_key(&SecretKey::generate(), KeyPurpose::Hash, org.0),
            next_data: None,
        }
    }

    /// Master key rotation: every organisation's keys (bound, if they were
    /// not yet) wrapped by `new` instead, in one transaction. Returns how
    /// many organisations, or the one whose keys did not open.
    pub async fn rotate_master_key(
        &self,
        new: &SecretKey,
    ) -> AppResult<std::result::Result<usize, (String, CryptoError)>> {
        let master = &self.secret_key;
        Ok(self
            .store
            .rewrap_org_keys(|org| {
                let id = org.id.0;
                let (data, hash) = match &org.wrapped_hash_key {
                    Some(h) => (
                        master.unwrap_org_key(&org.wrapped_data_key, KeyPurpose::Data, id)?,
                        master.unwrap_org_key(h, KeyPurpose::Hash, id)?,
                    ),
                    None => {
                        let d = master.unwrap_unbound_data_key(&org.wrapped_data_key)?;
                        (d.clone(), d)
                    }
                };
                let next = org
                    .wrapped_next_data_key
                    .as_ref()
                    .map(|w| master.unwrap_org_key(w, KeyPurpose::Data, id))
                    .transpose()?;
                Ok(WrappedKeys {
                    data: new.wrap_org_key(&data, KeyPurpose::Data, id),
                    hash: new.wrap_org_key(&hash, KeyPurpose::Hash, id),
                    next_data: next.map(|n| new.wrap_org_key(&n, KeyPurpose::Data, id)),
                })
            })
            .await?)
    }

    /// Re-keys every organisation's data: a fresh data key, every sealed
    /// value (notes, starting points, tokens) opened and sealed again under
    /// it, then the old key dropped. The hash key stays. Interrupted, it
    /// goes on where it stopped when run again (values already under the
    /// new key are left as they are).
    pub async fn rekey_data(&self, options: &RekeyOptions) -> AppResult<RekeyReport> {
        let mut report = RekeyReport::default();
        let mut batches = 0;
        for org in self.store.orgs().await? {
            let keys = self.keys_of(&org).await?;
            if keys.next.is_none() {
                let next = self.secret_key.wrap_org_key(
                    &SecretKey::generate(),
                    KeyPurpose::Data,
                    org.id.0,
                );
                self.store.begin_rekey(org.id, &next).await?;
                tokio::time::sleep(options.settle).await;
            }
            let keys = self.keys(org.id).await?;
            let Some(next) = &keys.next else {
                return Err(AppError::Key("the new data key was not stored".into()));
            };
            for column in SealedColumn::ALL {
                let mut after: Option<RowKey> = None;
                loop {
                    if options.max_batches.is_some_and(|m| batches >= m) {
                        return Ok(report);
                    }
                    let values = self
                        .store
                        .sealed_batch(column, org.id, after.as_ref(), options.batch)
                        .await?;
                    let Some(last) = values.last() else { break };
                    after = Some(last.key.clone());
                    let mut rewrite = Vec::new();
                    for v in &values {
                        let context = sealed_context(column, org.id, &v.bound_to);
                        if next.open(&v.sealed, &context).is_ok() {
                            continue;
                        }
                        let plain = keys.data.open(&v.sealed, &context).map_err(|e| {
                            AppError::Key(format!(
                                "{} of {}: a value opens under neither key ({e}); nothing more changed",
                                column.name(),
                                org.name
                            ))
                        })?;
                        rewrite.push((
                            v.key.clone(),
                            v.sealed.clone(),
                            next.seal(&plain, &context),
                        ));
                    }
                    report.resealed += self.store.reseal(column, org.id, &rewrite).await?;
                    batches += 1;
                    if let Some(p) = &options.progress {
                        (p.0)(&report);
                    }
                }
            }
            self.store.finish_rekey(org.id).await?;
            report.organisations += 1;
            if let Some(p) = &options.progress {
                (p.0)(&report);
            }
        }
        report.finished = true;
        Ok(report)
    }
}
